/**
 * Typed JSON-RPC client over HTTP (keep-alive fetch) and WebSocket (subscriptions). Its types come from
 * the method table (rpc/methods.ts by default): `call('chain_getHeader', [5])` is checked against the
 * params and returns the result type. `call<T>(anyName, params)` stays for methods outside the table.
 * The admin token goes only in the `Authorization: Bearer` header. A call the server's per-IP limits
 * refused before doing anything (rate: -32005 RATE_LIMITED; HTTP connections: 429) is sent again after
 * the wait the server names, within the call's timeout (`rateLimitRetries`, default 5; 0 = never).
 */
import WebSocket from 'ws';
import type {
  Api,
  MethodName,
  NamedParamsIn,
  ParamsIn,
  ParamsOf,
  ResultOf,
  TopicFilter,
  TopicName,
  TopicPayload,
} from './api.js';
import { RpcResponseError } from './errors.js';
import type { VosApi } from './methods.js';

export interface RpcClientOptions {
  timeoutMs?: number;
  /** Admin token for admin_* methods (sent as `Authorization: Bearer <token>`). */
  token?: string;
  /** Times a call refused by the server's per-IP limits is sent again (default 5; 0 = never). */
  rateLimitRetries?: number;
}

/** The wait a per-IP limit refusal names (ms), or undefined for any other answer. */
function limitedWait(body: unknown, retryAfterHeader: string | null): number | undefined {
  const first = Array.isArray(body) ? body[0] : body;
  const e = (first as RawResponse | undefined)?.error;
  const data = e?.data as { code?: string; retryAfterMs?: number } | undefined;
  if (e?.code !== -32005) return undefined;
  if (data?.code === 'RATE_LIMITED' && typeof data.retryAfterMs === 'number') return data.retryAfterMs;
  if (data?.code === 'TOO_MANY_CONNECTIONS') return 1000 * Number(retryAfterHeader ?? 1);
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The params argument of a method: optional when it takes none or only optional ones. */
export type CallArgs<A extends Api, M extends MethodName<A>> =
  [] extends ParamsIn<ParamsOf<A, M>>
    ? [params?: ParamsIn<ParamsOf<A, M>> | NamedParamsIn<ParamsOf<A, M>>]
    : [params: ParamsIn<ParamsOf<A, M>> | NamedParamsIn<ParamsOf<A, M>>];

type RawParams = unknown[] | Record<string, unknown>;

/** `N` unless it is a name of the table (inferred N: a literal; explicit type arguments leave it `string`). */
type NotInTable<A extends Api, N extends string> = N & (N extends MethodName<A> ? never : unknown);

let nextId = 1;

export class RpcClient<A extends Api = VosApi> {
  readonly url: string;
  readonly #opts: RpcClientOptions;

  constructor(url: string, opts: RpcClientOptions = {}) {
    this.url = url;
    this.#opts = opts;
  }

  call<M extends MethodName<A>>(method: M, ...args: CallArgs<A, M>): Promise<ResultOf<A, M>>;
  /**
   * Untyped: a method outside the table, or any method with an explicit result type
   * (`call<{height: number}>('node_status')`, as older callers do). A table method called without a
   * type argument must match its params.
   */
  call<T = unknown, N extends string = string>(method: NotInTable<A, N>, params?: RawParams): Promise<T>;
  async call(method: string, params: RawParams = []): Promise<unknown> {
    const res = (await this.#post({ jsonrpc: '2.0', id: nextId++, method, params })) as RawResponse;
    return unwrap(res);
  }

  /** One HTTP request for many calls; results in order, each a value or an RpcResponseError. */
  async batch(calls: { method: string; params?: RawParams }[]): Promise<(unknown | RpcResponseError)[]> {
    const base = nextId;
    nextId += calls.length;
    const out = await this.#post(
      calls.map((c, i) => ({ jsonrpc: '2.0', id: base + i, method: c.method, params: c.params ?? [] })),
    );
    if (!Array.isArray(out)) {
      const e = (out as RawResponse).error;
      throw new RpcResponseError(e?.code ?? -32603, e?.message ?? 'batch failed', e?.data);
    }
    const byId = new Map((out as RawResponse[]).map((r) => [r.id, r]));
    return calls.map((_, i) => {
      const r = byId.get(base + i);
      if (r === undefined) return new RpcResponseError(-32603, 'no response for this call');
      return r.error ? new RpcResponseError(r.error.code, r.error.message, r.error.data) : r.result;
    });
  }

  /** POST a request; one the server's per-IP limits refused is sent again after the named wait. */
  async #post(body: unknown): Promise<unknown> {
    const timeoutMs = this.#opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    for (let retries = this.#opts.rateLimitRetries ?? 5; ; retries--) {
      const out = await this.#postOnce(text, Math.max(1, deadline - Date.now()));
      if (out.status !== 429 || retries <= 0) return out.body;
      const wait = limitedWait(out.body, out.retryAfter);
      if (wait === undefined || Date.now() + wait >= deadline) return out.body;
      await sleep(wait);
    }
  }

  async #postOnce(
    body: string,
    timeoutMs: number,
  ): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#opts.token) headers.authorization = `Bearer ${this.#opts.token}`;
    let res: globalThis.Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError')
        throw new Error(`node at ${this.url} did not answer within ${this.#opts.timeoutMs ?? 30_000} ms`);
      throw new Error(`cannot reach node at ${this.url}: ${e.cause?.code ?? e.message}`);
    }
    const text = await res.text();
    const retryAfter = res.headers.get('retry-after');
    if (res.status === 204) return { status: 204, body: [], retryAfter };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`node at ${this.url} answered HTTP ${res.status} with non-JSON`);
    }
    // Refusals before any call (403 Host/Origin) carry a JSON-RPC error: raise it as one.
    if (res.status === 403 && !Array.isArray(parsed)) unwrap(parsed as RawResponse);
    return { status: res.status, body: parsed, retryAfter };
  }

  /** Open a WebSocket to the same server (ws:// of the http:// URL). */
  static async connectWs<A extends Api = VosApi>(
    url: string,
    opts: RpcClientOptions = {},
  ): Promise<RpcWsClient<A>> {
    const wsUrl = url.replace(/^http/, 'ws');
    const ws = new WebSocket(wsUrl, {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`cannot open WebSocket to ${url}: HTTP ${res.statusCode}`));
        res.resume();
      });
      ws.once('error', (err) => reject(new Error(`cannot open WebSocket to ${url}: ${err.message}`)));
    });
    return new RpcWsClient<A>(ws, opts.timeoutMs ?? 30_000, opts.rateLimitRetries ?? 5);
  }
}

interface RawResponse {
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: { subscription: string; result: unknown };
}

function unwrap(r: RawResponse): unknown {
  if (r.error) throw new RpcResponseError(r.error.code, r.error.message, r.error.data);
  return r.result;
}

export class RpcWsClient<A extends Api = VosApi> {
  readonly #pending = new Map<
    number,
    { resolve: (r: RawResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  readonly #subs = new Map<string, (payload: unknown) => void>();
  /** Why the server closed the socket (code and reason), once it has. */
  closed: { code: number; reason: string } | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly timeoutMs: number,
    readonly rateLimitRetries = 5,
  ) {
    socket.on('message', (data) => {
      let msg: RawResponse;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (msg.method === 'vos_subscription' && msg.params) {
        this.#subs.get(msg.params.subscription)?.(msg.params.result);
        return;
      }
      const p = this.#pending.get(msg.id as number);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(msg.id as number);
        p.resolve(msg);
      }
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      const why = this.closed.reason === '' ? `code ${code}` : `${code}: ${this.closed.reason}`;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`WebSocket closed (${why})`));
      }
      this.#pending.clear();
    });
  }

  call<M extends MethodName<A>>(method: M, ...args: CallArgs<A, M>): Promise<ResultOf<A, M>>;
  call<T = unknown, N extends string = string>(method: NotInTable<A, N>, params?: RawParams): Promise<T>;
  call(method: string, params: RawParams = []): Promise<unknown> {
    return this.#call(method, params);
  }

  /** One call; refused by the server's rate limit, it is sent again after the named wait. */
  async #call(method: string, params: RawParams): Promise<unknown> {
    const deadline = Date.now() + this.timeoutMs;
    for (let retries = this.rateLimitRetries; ; retries--) {
      const r = await this.#callOnce(method, params, Math.max(1, deadline - Date.now()));
      const wait = retries > 0 ? limitedWait(r, null) : undefined;
      if (wait === undefined || Date.now() + wait >= deadline) return unwrap(r);
      await sleep(wait);
    }
  }

  #callOnce(method: string, params: RawParams, timeoutMs: number): Promise<RawResponse> {
    if (this.closed !== undefined) {
      const c = this.closed;
      return Promise.reject(
        new Error(`WebSocket closed (${c.reason === '' ? `code ${c.code}` : `${c.code}: ${c.reason}`})`),
      );
    }
    const id = nextId++;
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /**
   * Subscribe to a topic, optionally filtered (`txs`: {account}, `names`: {account, name}); returns a
   * function that unsubscribes.
   */
  async subscribe<T extends TopicName<A>>(
    topic: T,
    onMessage: (payload: TopicPayload<A, T>) => void,
    filter?: TopicFilter<A, T>,
  ): Promise<() => Promise<void>> {
    const params = filter === undefined ? [topic] : [topic, filter];
    return this.subscribeMethod('vos_subscribe', params, onMessage as (payload: unknown) => void);
  }

  /** Subscribe through a method that returns a subscription id (comm_subscribe). */
  async subscribeMethod(
    method: string,
    params: unknown[],
    onMessage: (payload: unknown) => void,
  ): Promise<() => Promise<void>> {
    const id = (await this.#call(method, params)) as string;
    this.#subs.set(id, onMessage);
    return async () => {
      this.#subs.delete(id);
      await this.#call('vos_unsubscribe', [id]);
    };
  }

  close(): void {
    this.socket.close();
  }
}
