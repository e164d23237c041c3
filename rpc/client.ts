/**
 * Typed JSON-RPC client over HTTP (keep-alive fetch) and WebSocket (subscriptions). Its types come from
 * the method table (rpc/methods.ts by default): `call('chain_getHeader', [5])` is checked against the
 * params and returns the result type. `call<T>(anyName, params)` stays for methods outside the table.
 * The admin token goes only in the `Authorization: Bearer` header.
 */
import WebSocket from 'ws';
import type {
  Api,
  MethodName,
  NamedParamsIn,
  ParamsIn,
  ParamsOf,
  ResultOf,
  TopicName,
  TopicPayload,
} from './api.js';
import { RpcResponseError } from './errors.js';
import type { VosApi } from './methods.js';

export interface RpcClientOptions {
  timeoutMs?: number;
  /** Admin token for admin_* methods (sent as `Authorization: Bearer <token>`). */
  token?: string;
}

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

  async #post(body: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#opts.token) headers.authorization = `Bearer ${this.#opts.token}`;
    let res: globalThis.Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError')
        throw new Error(`node at ${this.url} did not answer within ${this.#opts.timeoutMs ?? 30_000} ms`);
      throw new Error(`cannot reach node at ${this.url}: ${e.cause?.code ?? e.message}`);
    }
    const text = await res.text();
    if (res.status === 204) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`node at ${this.url} answered HTTP ${res.status} with non-JSON`);
    }
    // Refusals before any call (403 Host/Origin) carry a JSON-RPC error: raise it as one.
    if (res.status === 403 && !Array.isArray(parsed)) unwrap(parsed as RawResponse);
    return parsed;
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
    return new RpcWsClient<A>(ws, opts.timeoutMs ?? 30_000);
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

  constructor(
    readonly socket: WebSocket,
    readonly timeoutMs: number,
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
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('WebSocket closed'));
      this.#pending.clear();
    });
  }

  call<M extends MethodName<A>>(method: M, ...args: CallArgs<A, M>): Promise<ResultOf<A, M>>;
  call<T = unknown, N extends string = string>(method: NotInTable<A, N>, params?: RawParams): Promise<T>;
  call(method: string, params: RawParams = []): Promise<unknown> {
    return this.#call(method, params);
  }

  #call(method: string, params: RawParams): Promise<unknown> {
    const id = nextId++;
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    }).then((r) => unwrap(r));
  }

  /** Subscribe to a topic; returns a function that unsubscribes. */
  async subscribe<T extends TopicName<A>>(
    topic: T,
    onMessage: (payload: TopicPayload<A, T>) => void,
  ): Promise<() => Promise<void>> {
    return this.subscribeMethod('vos_subscribe', [topic], onMessage as (payload: unknown) => void);
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
