/** Typed JSON-RPC client over HTTP (keep-alive fetch) and WebSocket (subscriptions). */
import WebSocket from 'ws';
import { RpcResponseError } from './errors.js';

export interface RpcClientOptions {
  timeoutMs?: number;
  /** Admin token for admin_* methods. */
  token?: string;
}

let nextId = 1;

export class RpcClient {
  readonly url: string;
  readonly #opts: RpcClientOptions;

  constructor(url: string, opts: RpcClientOptions = {}) {
    this.url = url;
    this.#opts = opts;
  }

  async call<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    const res = (await this.#post({ jsonrpc: '2.0', id: nextId++, method, params })) as RawResponse;
    return unwrap<T>(res);
  }

  /** One HTTP request for many calls; results in order, each a value or an RpcResponseError. */
  async batch(
    calls: { method: string; params?: unknown[] | Record<string, unknown> }[],
  ): Promise<(unknown | RpcResponseError)[]> {
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
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`node at ${this.url} answered HTTP ${res.status} with non-JSON`);
    }
  }

  /** Open a WebSocket to the same server (ws:// of the http:// URL). */
  static async connectWs(url: string, opts: RpcClientOptions = {}): Promise<RpcWsClient> {
    const wsUrl = url.replace(/^http/, 'ws') + (opts.token ? `?token=${encodeURIComponent(opts.token)}` : '');
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new Error(`cannot open WebSocket to ${url}: ${err.message}`)));
    });
    return new RpcWsClient(ws, opts.timeoutMs ?? 30_000);
  }
}

interface RawResponse {
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: { subscription: string; result: unknown };
}

function unwrap<T>(r: RawResponse): T {
  if (r.error) throw new RpcResponseError(r.error.code, r.error.message, r.error.data);
  return r.result as T;
}

export class RpcWsClient {
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

  call<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    const id = nextId++;
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    }).then((r) => unwrap<T>(r));
  }

  /** Subscribe to a topic; returns a function that unsubscribes. */
  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => Promise<void>> {
    const id = await this.call<string>('vos_subscribe', [topic]);
    this.#subs.set(id, onMessage);
    return async () => {
      this.#subs.delete(id);
      await this.call('vos_unsubscribe', [id]);
    };
  }

  close(): void {
    this.socket.close();
  }
}
