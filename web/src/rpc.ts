/**
 * The page's JSON-RPC client: POST / for calls and batches, one WebSocket on the same port for
 * subscriptions (reconnecting with backoff). Typed from the one method table (rpc/methods.ts), as the
 * node's client (rpc/client.ts) is; that one uses the `ws` package and Node timers, so the page has
 * this small one with the same method names and types.
 */
import type { MethodName, ResultOf, TopicName, TopicPayload } from '../../rpc/api.js';
import type { CallArgs } from '../../rpc/client.js';
import type { VosApi } from '../../rpc/methods.js';

export type Method = MethodName<VosApi>;
export type Result<M extends Method> = ResultOf<VosApi, M>;
export type Topic = TopicName<VosApi>;
export type Payload<T extends Topic> = TopicPayload<VosApi, T>;
type RawParams = unknown[] | Record<string, unknown>;

export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcCallError';
  }
}

interface RawResponse {
  id?: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: { subscription: string; result: unknown };
}

const TIMEOUT_MS = 30_000;
let nextId = 1;

function unwrap(r: RawResponse): unknown {
  if (r.error) throw new RpcCallError(r.error.code, r.error.message, r.error.data);
  return r.result;
}

export class Rpc {
  constructor(readonly url: string) {}

  call<M extends Method>(method: M, ...args: CallArgs<VosApi, M>): Promise<Result<M>> {
    return this.callRaw(method, (args[0] as RawParams | undefined) ?? []) as Promise<Result<M>>;
  }

  /** A method that may be outside this build's table (one a newer node has, found in rpc.discover). */
  async callRaw<T = unknown>(method: string, params: RawParams = []): Promise<T> {
    return unwrap((await this.#post({ jsonrpc: '2.0', id: nextId++, method, params })) as RawResponse) as T;
  }

  /** Many calls in one request (at most the node's batch cap, 100): results in order, errors as values. */
  async batch(calls: { method: string; params?: RawParams }[]): Promise<(unknown | RpcCallError)[]> {
    if (calls.length === 0) return [];
    const base = nextId;
    nextId += calls.length;
    const out = await this.#post(
      calls.map((c, i) => ({ jsonrpc: '2.0', id: base + i, method: c.method, params: c.params ?? [] })),
    );
    if (!Array.isArray(out)) {
      unwrap(out as RawResponse);
      throw new RpcCallError(-32603, 'the batch was not answered with a list');
    }
    const byId = new Map((out as RawResponse[]).map((r) => [r.id, r]));
    return calls.map((_, i) => {
      const r = byId.get(base + i);
      if (r === undefined) return new RpcCallError(-32603, 'no answer for this call');
      return r.error ? new RpcCallError(r.error.code, r.error.message, r.error.data) : r.result;
    });
  }

  async #post(body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new Error(`the node did not answer: ${(err as Error).message}`);
    }
    if (res.status === 204) return [];
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`the node answered HTTP ${res.status} with non-JSON`);
    }
  }
}

export type SocketState = 'connecting' | 'open' | 'closed';

/**
 * Subscriptions over one WebSocket. Topics stay subscribed across reconnects (the node forgets them
 * when a connection closes, so they are asked for again on each open).
 */
export class RpcSocket {
  readonly #url: string;
  #ws: WebSocket | undefined;
  #state: SocketState = 'closed';
  #retryMs = 500;
  #closed = false;
  readonly #pending = new Map<number, { resolve: (r: RawResponse) => void; timer: number }>();
  /** Wanted topics and their listeners; the node's subscription id of each while open. */
  readonly #topics = new Map<string, { listeners: Set<(p: unknown) => void>; id?: string }>();
  readonly #byId = new Map<string, string>();
  readonly #stateListeners = new Set<(s: SocketState) => void>();

  constructor(url: string) {
    this.#url = url;
  }

  get state(): SocketState {
    return this.#state;
  }

  onState(fn: (s: SocketState) => void): () => void {
    this.#stateListeners.add(fn);
    return () => this.#stateListeners.delete(fn);
  }

  /** Listen to a topic; the returned function stops listening. */
  subscribe<T extends Topic>(topic: T, fn: (payload: Payload<T>) => void): () => void {
    let t = this.#topics.get(topic);
    if (t === undefined) {
      t = { listeners: new Set() };
      this.#topics.set(topic, t);
      if (this.#state === 'open') void this.#subscribeTopic(topic);
    }
    const listener = fn as (p: unknown) => void;
    t.listeners.add(listener);
    this.#open();
    return () => {
      t.listeners.delete(listener);
      if (t.listeners.size === 0) {
        this.#topics.delete(topic);
        if (t.id !== undefined) {
          this.#byId.delete(t.id);
          void this.#request('vos_unsubscribe', [t.id]).catch(() => undefined);
        }
      }
    };
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }

  #setState(s: SocketState): void {
    this.#state = s;
    for (const fn of this.#stateListeners) fn(s);
  }

  #open(): void {
    if (this.#ws !== undefined || this.#closed) return;
    this.#setState('connecting');
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#retryMs = 500;
      this.#setState('open');
      for (const topic of this.#topics.keys()) void this.#subscribeTopic(topic);
    };
    ws.onmessage = (ev) => this.#onMessage(String(ev.data));
    ws.onclose = () => {
      this.#ws = undefined;
      this.#byId.clear();
      for (const t of this.#topics.values()) t.id = undefined;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.resolve({ error: { code: -32000, message: 'WebSocket closed' } });
      }
      this.#pending.clear();
      this.#setState('closed');
      if (this.#closed || this.#topics.size === 0) return;
      setTimeout(() => this.#open(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    };
  }

  async #subscribeTopic(topic: string): Promise<void> {
    try {
      const id = (await this.#request('vos_subscribe', [topic])) as string;
      const t = this.#topics.get(topic);
      if (t === undefined) {
        void this.#request('vos_unsubscribe', [id]).catch(() => undefined);
        return;
      }
      t.id = id;
      this.#byId.set(id, topic);
    } catch {
      // The socket closed meanwhile: the next open subscribes again.
    }
  }

  #onMessage(text: string): void {
    let msg: RawResponse;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.method === 'vos_subscription' && msg.params) {
      const topic = this.#byId.get(msg.params.subscription);
      const t = topic === undefined ? undefined : this.#topics.get(topic);
      if (t !== undefined) for (const fn of t.listeners) fn(msg.params.result);
      return;
    }
    const p = this.#pending.get(msg.id as number);
    if (p !== undefined) {
      clearTimeout(p.timer);
      this.#pending.delete(msg.id as number);
      p.resolve(msg);
    }
  }

  #request(method: string, params: RawParams): Promise<unknown> {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new Error('not connected'));
    const id = nextId++;
    return new Promise<RawResponse>((resolve) => {
      const timer = window.setTimeout(() => {
        this.#pending.delete(id);
        resolve({ error: { code: -32000, message: `${method} timed out` } });
      }, TIMEOUT_MS);
      this.#pending.set(id, { resolve, timer });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    }).then(unwrap);
  }
}
