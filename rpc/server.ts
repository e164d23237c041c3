/**
 * JSON-RPC 2.0 over HTTP POST and WebSocket on one port, plus small GET routes (/healthz, /metrics, /).
 * The methods come from one typed table (rpc/api.ts; VOS's is rpc/methods.ts) with one handler per
 * method: the server refuses to start when a handler is missing or has no table entry.
 *
 * Before any work: the Host and Origin checks of rpc/access.ts (HTTP 403 with a JSON error naming the
 * config key to set). Limits: body size (HTTP 413 / WS close 1009), batch size, response size (an
 * answer over it becomes a -32005 error), WebSocket connections, requests in flight per WebSocket, a
 * slow subscriber's send buffer; per client IP (rpc/limits.ts, loopback included): a request rate (a
 * token bucket; a batch costs its calls; -32005 with data.code RATE_LIMITED, over HTTP status 429 and
 * Retry-After), open HTTP connections (HTTP 429 with a JSON-RPC error, then closed) and WebSocket
 * connections (closed with 1013 and the reason). `admin_*` methods need the admin token, taken only
 * from the `Authorization: Bearer` header. Errors never leak stacks.
 * Subscriptions (vos_subscribe) may carry a filter checked against the topic's filter schema; the
 * publisher says which filters a payload matches.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/metrics.js';
import {
  type AccessPolicy,
  checkOrigin,
  isHostAllowed,
  normaliseHostEntry,
  normaliseOrigin,
} from './access.js';
import {
  type Api,
  BUILTIN_METHODS,
  type CallContext,
  type Handler,
  type Handlers,
  type MethodDef,
  type TopicFilter,
  type TopicName,
  type TopicPayload,
} from './api.js';
import { invalidParams, RpcCode, RpcError } from './errors.js';
import { ConnectionCounter, clientKey, RateLimiter } from './limits.js';
import { buildOpenRpc } from './openrpc.js';
import { SchemaError } from './schema.js';

export type { CallContext } from './api.js';

export interface RpcServerOptions<A extends Api> {
  api: A;
  handlers: Handlers<A>;
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  /** Max calls in one batch (default 100). */
  maxBatch?: number;
  /** Max bytes of one answer (a batch's in total); beyond it a call is answered with -32005. */
  maxResponseBytes?: number;
  maxConnections?: number;
  /** Max requests (a batch counts as one) being handled at once per WebSocket connection. */
  maxWsInflight?: number;
  /** Per-connection send buffer; a subscriber slower than this is disconnected. */
  maxSendBufferBytes?: number;
  /** Requests per second per client IP, a batch counting its calls (`rpc.ratePerIp`); 0 = no limit. */
  ratePerIp?: number;
  /** Requests a client IP may send at once after a quiet spell (`rpc.rateBurst`). */
  rateBurst?: number;
  /** Open HTTP connections per client IP (`rpc.maxHttpConnectionsPerIp`). */
  maxHttpConnectionsPerIp?: number;
  /** Open WebSocket connections per client IP (`rpc.maxWsConnectionsPerIp`). */
  maxWsConnectionsPerIp?: number;
  /** Extra Host names allowed besides IPs, localhost and the listen address (`rpc.hosts`). */
  hosts?: readonly string[];
  /** Origins allowed to call cross-origin (`rpc.corsOrigins`). */
  corsOrigins?: readonly string[];
  adminToken?: string;
  logger?: Logger;
  metrics?: Metrics | null;
  /** Map a domain error to a JSON-RPC error (undefined: internal error). */
  mapError?: (err: unknown) => RpcError | undefined;
  title?: string;
  version?: string;
}

type GetHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

interface Request {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
  id?: string | number | null;
}

type Response = { jsonrpc: '2.0'; id: string | number | null } & ({ result: unknown } | { error: unknown });

export class WsConnection {
  readonly subscriptions = new Map<string, string>(); // id -> topic
  /** Requests of this connection being handled. */
  inflight = 0;
  constructor(
    readonly socket: WebSocket,
    readonly authorised: boolean,
    /** The rate limit's key of the client (rpc/limits.ts clientKey). */
    readonly client = 'unknown',
  ) {}
}

interface Subscriber {
  conn: WsConnection;
  id: string;
  filter?: unknown;
}

/** What an HTTP connection is counted as (per client IP): over the cap, it is refused. */
interface ConnSlot {
  key: string;
  kind: 'http' | 'ws' | 'over';
}

/** An answer to a request body (no text: nothing to send). */
interface Answer {
  text?: string;
  /** Refused by the rate limit: the tokens are there again after this many ms. */
  retryAfterMs?: number;
  /** Refused, and every call was a notification: nothing to send over WebSocket. */
  silent?: boolean;
}

let subCounter = 0;

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 100,
  maxResponseBytes: 32 * 1024 * 1024,
  maxConnections: 200,
  maxWsInflight: 32,
  maxSendBufferBytes: 16 * 1024 * 1024,
  ratePerIp: 500,
  rateBurst: 1000,
  maxHttpConnectionsPerIp: 128,
  maxWsConnectionsPerIp: 32,
};

/** A connection over the per-IP cap that sends no request is closed after this long. */
const OVER_CAP_IDLE_MS = 5000;

/** Errors of a client that went away (aborted upload, reset): its problem, not the node's. */
const CLIENT_GONE = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

export class RpcServer<A extends Api = Api> {
  readonly #opts: typeof DEFAULTS & RpcServerOptions<A>;
  readonly #api: A;
  readonly #handlers = new Map<string, Handler<MethodDef>>();
  readonly #access: AccessPolicy;
  readonly #adminTokenHash: Buffer | undefined;
  readonly #routes = new Map<string, GetHandler>();
  readonly #postRoutes = new Map<string, GetHandler>();
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<WsConnection>();
  readonly #topics = new Map<string, Set<Subscriber>>();
  readonly #limiter: RateLimiter;
  readonly #httpConns: ConnectionCounter;
  readonly #wsConns: ConnectionCounter;
  readonly #slots = new WeakMap<Duplex, ConnSlot>();

  constructor(opts: RpcServerOptions<A>) {
    this.#opts = { ...DEFAULTS, ...stripUndefined(opts) };
    this.#api = opts.api;
    this.#bindHandlers(opts.handlers as unknown as Record<string, Handler<MethodDef>>);
    this.#access = {
      hosts: (opts.hosts ?? []).map(normaliseHostEntry),
      corsOrigins: (opts.corsOrigins ?? []).map((o) => normaliseOrigin(o) ?? o),
      listenHost: this.#opts.host,
    };
    this.#adminTokenHash = opts.adminToken ? sha256(opts.adminToken) : undefined;
    this.#http = createServer((req, res) => void this.#onHttp(req, res));
    this.#http.keepAliveTimeout = 65_000;
    this.#limiter = new RateLimiter({ rate: this.#opts.ratePerIp, burst: this.#opts.rateBurst });
    this.#httpConns = new ConnectionCounter(this.#opts.maxHttpConnectionsPerIp);
    this.#wsConns = new ConnectionCounter(this.#opts.maxWsConnectionsPerIp);
    this.#http.on('connection', (socket: Socket) => this.#onConnection(socket));
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#opts.maxBodyBytes });
    this.#http.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  /** One handler per table method (the server's own included), none without a table entry. */
  #bindHandlers(given: Record<string, Handler<MethodDef>>): void {
    const own: Record<string, Handler<MethodDef>> = {
      'rpc.discover': () =>
        buildOpenRpc(this.#api, {
          title: this.#opts.title ?? 'VOS JSON-RPC',
          version: this.#opts.version ?? '0.1.0',
        }),
      vos_subscribe: ([topic, filter], ctx) => this.#subscribe(topic as string, ctx, filter),
      vos_unsubscribe: ([id], ctx) => this.#unsubscribe(id as string, ctx),
    };
    const problems: string[] = [];
    for (const name of Object.keys(given)) {
      if ((BUILTIN_METHODS as readonly string[]).includes(name))
        problems.push(`${name} is answered by the server itself`);
      else if (!(name in this.#api.methods))
        problems.push(`handler ${name} has no entry in the method table`);
    }
    for (const name of Object.keys(this.#api.methods)) {
      const h = own[name] ?? given[name];
      if (typeof h !== 'function') problems.push(`method ${name} has no handler`);
      else this.#handlers.set(name, h);
    }
    if (problems.length > 0) throw new Error(`RPC server cannot start: ${problems.join('; ')}`);
  }

  route(path: string, handler: GetHandler): void {
    this.#routes.set(path, handler);
  }

  /** A POST route other than JSON-RPC's `/` (a streamed upload): the handler reads the body itself. */
  postRoute(path: string, handler: GetHandler): void {
    this.#postRoutes.set(path, handler);
  }

  get methods(): string[] {
    return Object.keys(this.#api.methods);
  }

  /**
   * Deliver a payload to every subscriber of `topic` whose filter it matches (`matches`; without it,
   * every filter matches). PERF: the payload is serialized once, not once per subscriber.
   */
  publish<T extends TopicName<A>>(
    topic: T,
    payload: TopicPayload<A, T>,
    matches?: (filter: TopicFilter<A, T>) => boolean,
  ): void {
    const subs = this.#topics.get(topic);
    if (subs === undefined || subs.size === 0) return;
    let text: string | undefined;
    for (const { conn, id, filter } of subs) {
      if (filter !== undefined && matches !== undefined && !matches(filter as TopicFilter<A, T>)) continue;
      text ??= stringify(payload);
      this.#send(
        conn,
        `{"jsonrpc":"2.0","method":"vos_subscription","params":{"subscription":${JSON.stringify(id)},"result":${text}}}`,
      );
    }
  }

  hasSubscribers(topic: TopicName<A>): boolean {
    return (this.#topics.get(topic)?.size ?? 0) > 0;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#opts.port, this.#opts.host, () => {
        this.#http.off('error', reject);
        const a = this.#http.address();
        resolve({
          host: this.#opts.host,
          port: typeof a === 'object' && a !== null ? a.port : this.#opts.port,
        });
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.#connections) c.socket.terminate();
    this.#connections.clear();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  // ---- access ----

  /** The Host/Origin verdict of a request, or the error that refuses it. */
  #checkAccess(req: IncomingMessage, isWrite: boolean): { refuse?: RpcError; allowOrigin?: string } {
    const host = req.headers.host;
    if (!isHostAllowed(host, this.#access)) {
      this.#opts.metrics?.rpcRefused.inc({ reason: 'host' });
      return {
        refuse: new RpcError(
          RpcCode.Forbidden,
          `Host "${String(host ?? '').slice(0, 100)}" is not allowed: add its name to rpc.hosts in the node's config.json (or VOS_RPC_HOSTS); IP addresses and localhost are always allowed`,
          { code: 'HOST_NOT_ALLOWED', configKey: 'rpc.hosts' },
        ),
      };
    }
    const origin = req.headers.origin;
    const verdict = checkOrigin(origin, host, this.#access);
    if (verdict === 'allowed') return { allowOrigin: origin };
    if (verdict === 'refused' && isWrite) {
      this.#opts.metrics?.rpcRefused.inc({ reason: 'origin' });
      return {
        refuse: new RpcError(
          RpcCode.Forbidden,
          `cross-origin requests from ${String(origin).slice(0, 100)} are not allowed: add the origin to rpc.corsOrigins in the node's config.json (or VOS_RPC_CORS_ORIGINS)`,
          { code: 'ORIGIN_NOT_ALLOWED', configKey: 'rpc.corsOrigins' },
        ),
      };
    }
    return {};
  }

  /** The token of an `Authorization: Bearer <token>` header, compared in constant time. */
  #checkToken(header: string | undefined): boolean {
    const want = this.#adminTokenHash;
    if (want === undefined || header === undefined) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m !== null && timingSafeEqual(sha256(m[1]), want);
  }

  // ---- HTTP ----

  /** Count a new connection against its IP's cap; one over it is answered 429 and closed. */
  #onConnection(socket: Socket): void {
    const slot: ConnSlot = { key: clientKey(socket.remoteAddress), kind: 'http' };
    if (!this.#httpConns.acquire(slot.key)) {
      slot.kind = 'over';
      socket.setTimeout(OVER_CAP_IDLE_MS, () => socket.destroy());
    }
    this.#slots.set(socket, slot);
    socket.once('close', () => {
      if (slot.kind === 'http') this.#httpConns.release(slot.key);
      else if (slot.kind === 'ws') this.#wsConns.release(slot.key);
    });
  }

  #httpConnectionRefusal(): RpcError {
    this.#opts.metrics?.rpcRefused.inc({ reason: 'http_connections' });
    const limit = this.#opts.maxHttpConnectionsPerIp;
    return new RpcError(
      RpcCode.LimitExceeded,
      `at most ${limit} HTTP connections per IP (rpc.maxHttpConnectionsPerIp): reuse connections (keep-alive) or close some`,
      { code: 'TOO_MANY_CONNECTIONS', limit, configKey: 'rpc.maxHttpConnectionsPerIp' },
    );
  }

  async #onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const slot = this.#slots.get(req.socket);
    if (slot?.kind === 'over') {
      req.resume();
      return json(res, 429, errorResponse(null, this.#httpConnectionRefusal()), {
        Connection: 'close',
        'Retry-After': '1',
      });
    }
    const method = req.method ?? 'GET';
    const access = this.#checkAccess(req, method !== 'GET' && method !== 'HEAD');
    if (access.refuse !== undefined) {
      req.resume();
      return json(res, 403, errorResponse(null, access.refuse));
    }
    if (access.allowOrigin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', access.allowOrigin);
      res.setHeader('Vary', 'Origin');
    }
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    try {
      if (method === 'GET' || method === 'HEAD') {
        const path = (req.url ?? '/').split('?')[0];
        const handler =
          this.#routes.get(path) ??
          this.#routes.get(`${path.split('/').slice(0, 2).join('/')}/*`) ??
          this.#routes.get('*');
        if (handler === undefined) return json(res, 404, { error: `no route for GET ${path.slice(0, 200)}` });
        await handler(req, res);
        return;
      }
      if (method !== 'POST') return json(res, 405, { error: 'use POST for JSON-RPC' });
      const upload = this.#postRoutes.get((req.url ?? '/').split('?')[0]);
      if (upload !== undefined) {
        await upload(req, res);
        return;
      }
      const body = await readBody(req, this.#opts.maxBodyBytes);
      if (body === null) {
        json(res, 413, {
          jsonrpc: '2.0',
          id: null,
          error: {
            code: RpcCode.InvalidRequest,
            message: `request body exceeds ${this.#opts.maxBodyBytes} bytes`,
          },
        });
        req.resume();
        return;
      }
      const authorised = this.#checkToken(req.headers.authorization);
      const client = slot?.key ?? clientKey(req.socket.remoteAddress);
      const out = await this.#handleRaw(body, { transport: 'http' }, authorised, client);
      if (out.text === undefined) {
        res.writeHead(204);
        res.end();
      } else if (out.retryAfterMs !== undefined) {
        sendJson(res, 429, out.text, { 'Retry-After': String(Math.ceil(out.retryAfterMs / 1000)) });
      } else sendJson(res, 200, out.text);
    } catch (err) {
      if (clientGone(err, req, res)) {
        this.#opts.logger?.debug({ err: String(err) }, 'RPC client went away');
        return;
      }
      this.#opts.logger?.error({ err: String(err) }, 'RPC HTTP handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    }
  }

  // ---- WebSocket ----

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const slot = this.#slots.get(socket);
    if (slot?.kind === 'over') {
      refuseUpgrade(socket, 429, 'Too Many Requests', errorResponse(null, this.#httpConnectionRefusal()));
      return;
    }
    const access = this.#checkAccess(req, true);
    if (access.refuse !== undefined) {
      refuseUpgrade(socket, 403, 'Forbidden', errorResponse(null, access.refuse));
      return;
    }
    if (this.#connections.size >= this.#opts.maxConnections) {
      refuseUpgrade(
        socket,
        503,
        'Service Unavailable',
        errorResponse(
          null,
          new RpcError(RpcCode.LimitExceeded, `at most ${this.#opts.maxConnections} WebSocket connections`),
        ),
      );
      return;
    }
    const authorised = this.#checkToken(req.headers.authorization);
    const client = slot?.key ?? clientKey(req.socket.remoteAddress);
    // Over the per-IP cap: the handshake completes and the socket closes with the reason, which a
    // browser's WebSocket sees (CloseEvent.reason) where it would not see an HTTP refusal.
    const admitted = this.#wsConns.acquire(client);
    if (admitted && slot !== undefined) {
      this.#httpConns.release(slot.key);
      slot.kind = 'ws';
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (!admitted) {
        this.#opts.metrics?.rpcRefused.inc({ reason: 'ws_connections' });
        ws.close(
          1013,
          `at most ${this.#opts.maxWsConnectionsPerIp} WebSocket connections per IP (rpc.maxWsConnectionsPerIp)`,
        );
        return;
      }
      const conn = new WsConnection(ws, authorised, client);
      this.#connections.add(conn);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'binary frames are not supported');
        this.#onWsMessage(conn, data.toString());
      });
      ws.on('close', () => this.#drop(conn));
      ws.on('error', () => this.#drop(conn));
    });
  }

  #onWsMessage(conn: WsConnection, text: string): void {
    if (conn.inflight >= this.#opts.maxWsInflight) {
      const id = requestId(text);
      if (id !== undefined) {
        const err = new RpcError(
          RpcCode.LimitExceeded,
          `at most ${this.#opts.maxWsInflight} requests in flight per WebSocket connection: wait for answers`,
          { code: 'TOO_MANY_INFLIGHT', limit: this.#opts.maxWsInflight },
        );
        this.#send(conn, stringify(errorResponse(id, err)));
      }
      return;
    }
    conn.inflight++;
    void this.#handleRaw(text, { transport: 'ws', connection: conn }, conn.authorised, conn.client)
      .then(
        (out) => out.text !== undefined && out.silent !== true && this.#send(conn, out.text),
        (err) => this.#opts.logger?.error({ err: String(err) }, 'RPC WS handler failed'),
      )
      .finally(() => conn.inflight--);
  }

  #send(conn: WsConnection, text: string): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > this.#opts.maxSendBufferBytes) {
      this.#opts.logger?.warn({}, 'dropping a slow WebSocket client');
      conn.socket.terminate();
      this.#drop(conn);
      return;
    }
    conn.socket.send(text);
  }

  #drop(conn: WsConnection): void {
    if (!this.#connections.delete(conn)) return;
    for (const [id, topic] of conn.subscriptions) this.#removeSub(topic, id);
  }

  /** Subscribes the caller's WebSocket to `topic` (methods like comm_subscribe); returns the id. */
  subscribe<T extends TopicName<A>>(topic: T, ctx: CallContext, filter?: TopicFilter<A, T>): string {
    return this.#subscribe(topic, ctx, filter);
  }

  #subscribe(topic: string, ctx: CallContext, rawFilter?: unknown): string {
    const conn = ctx.connection as WsConnection | undefined;
    if (conn === undefined)
      throw new RpcError(RpcCode.InvalidRequest, 'subscriptions need a WebSocket connection');
    const filter = this.#checkFilter(topic, rawFilter);
    if (conn.subscriptions.size >= 32)
      throw new RpcError(RpcCode.LimitExceeded, 'at most 32 subscriptions per connection');
    const id = `0x${(++subCounter).toString(16)}${Math.floor(Math.random() * 0xffffff).toString(16)}`;
    conn.subscriptions.set(id, topic);
    let set = this.#topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#topics.set(topic, set);
    }
    set.add(filter === undefined ? { conn, id } : { conn, id, filter });
    return id;
  }

  /** The checked filter of a subscription (undefined: none, or an empty one). */
  #checkFilter(topic: string, filter: unknown): unknown {
    if (filter === undefined || filter === null) return undefined;
    const schema = Object.hasOwn(this.#api.filters, topic) ? this.#api.filters[topic] : undefined;
    if (schema === undefined) {
      const some = Object.keys(this.#api.filters);
      throw invalidParams(
        `topic ${topic} takes no filter${some.length > 0 ? ` (${some.join(', ')} do)` : ''}`,
        { param: 'filter' },
      );
    }
    const parsed = parseParam('filter', schema, filter);
    const empty =
      typeof parsed === 'object' && parsed !== null && Object.values(parsed).every((v) => v === undefined);
    return empty ? undefined : parsed;
  }

  #unsubscribe(id: string, ctx: CallContext): boolean {
    const conn = ctx.connection as WsConnection | undefined;
    const topic = conn?.subscriptions.get(id);
    if (conn === undefined || topic === undefined) return false;
    conn.subscriptions.delete(id);
    this.#removeSub(topic, id);
    return true;
  }

  #removeSub(topic: string, id: string): void {
    const set = this.#topics.get(topic);
    for (const s of set ?? []) if (s.id === id) set?.delete(s);
  }

  /** The -32005 answer to a request the rate limit refused: an error per call that has an id. */
  #rateLimited(msg: unknown, waitMs: number): Answer {
    this.#opts.metrics?.rpcRefused.inc({ reason: 'rate' });
    const rate = this.#opts.ratePerIp;
    const err = new RpcError(
      RpcCode.LimitExceeded,
      `rate limit: ${rate} requests/s per IP (rpc.ratePerIp), bursts of ${this.#limiter.burst} (rpc.rateBurst): retry in ${waitMs} ms`,
      {
        code: 'RATE_LIMITED',
        limit: rate,
        burst: this.#limiter.burst,
        retryAfterMs: waitMs,
        configKey: 'rpc.ratePerIp',
      },
    );
    const ids = (Array.isArray(msg) ? msg : [msg]).map(validId).filter((id) => id !== undefined);
    const batch = Array.isArray(msg) && ids.length > 0;
    const text = batch
      ? `[${ids.map((id) => stringify(errorResponse(id, err))).join(',')}]`
      : stringify(errorResponse(ids[0] ?? null, err));
    return { text, retryAfterMs: waitMs, silent: ids.length === 0 };
  }

  // ---- JSON-RPC ----

  /**
   * The serialized answer to a request body (no text: notifications only, nothing to send). The rate
   * limit of `client` is charged first: one token per call of a batch, one for anything else.
   */
  async #handleRaw(body: string, ctx: CallContext, authorised: boolean, client: string): Promise<Answer> {
    let msg: unknown;
    try {
      msg = JSON.parse(body);
    } catch {
      const wait = this.#limiter.take(client, 1);
      if (wait > 0) return this.#rateLimited(null, wait);
      return {
        text: stringify(errorResponse(null, new RpcError(RpcCode.ParseError, 'parse error: invalid JSON'))),
      };
    }
    const calls = Array.isArray(msg) && msg.length <= this.#opts.maxBatch ? msg.length : 1;
    const wait = this.#limiter.take(client, calls);
    if (wait > 0) return this.#rateLimited(msg, wait);
    const max = this.#opts.maxResponseBytes;
    if (!Array.isArray(msg)) {
      const r = await this.#handleOne(msg, ctx, authorised);
      return { text: r === undefined ? undefined : this.#capped(r, max).text };
    }
    if (msg.length === 0)
      return {
        text: stringify(
          errorResponse(null, new RpcError(RpcCode.InvalidRequest, 'invalid request: empty batch')),
        ),
      };
    if (msg.length > this.#opts.maxBatch) {
      return {
        text: stringify(
          errorResponse(
            null,
            new RpcError(
              RpcCode.LimitExceeded,
              `batch of ${msg.length} calls exceeds ${this.#opts.maxBatch} (rpc.maxBatch): split it`,
              { code: 'BATCH_TOO_LARGE', limit: this.#opts.maxBatch },
            ),
          ),
        ),
      };
    }
    const out = (await Promise.all(msg.map((m) => this.#handleOne(m, ctx, authorised)))).filter(
      (r): r is Response => r !== undefined,
    );
    if (out.length === 0) return {};
    // The batch's answers share the cap: each one that would cross it is replaced by an error.
    let left = max - 2;
    const parts: string[] = [];
    for (const r of out) {
      const c = this.#capped(r, left);
      left -= c.bytes + 1;
      parts.push(c.text);
    }
    return { text: `[${parts.join(',')}]` };
  }

  /** A response as JSON, or a -32005 error in its place when it is larger than `limit` bytes. */
  #capped(r: Response, limit: number): { text: string; bytes: number } {
    const text = stringify(r);
    const bytes = Buffer.byteLength(text);
    if (bytes <= limit) return { text, bytes };
    const err = new RpcError(
      RpcCode.LimitExceeded,
      `response of ${bytes} bytes exceeds the limit of ${this.#opts.maxResponseBytes} bytes (rpc.maxResponseBytes): ask for less at once`,
      { code: 'RESPONSE_TOO_LARGE', size: bytes, limit: this.#opts.maxResponseBytes },
    );
    this.#opts.metrics?.rpcRefused.inc({ reason: 'response_size' });
    const small = stringify(errorResponse(r.id, err));
    return { text: small, bytes: Buffer.byteLength(small) };
  }

  async #handleOne(msg: unknown, ctx: CallContext, authorised: boolean): Promise<Response | undefined> {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return errorResponse(null, new RpcError(RpcCode.InvalidRequest, 'invalid request: expected an object'));
    }
    const req = msg as Partial<Request>;
    const id = req.id;
    const idOk =
      id === undefined ||
      id === null ||
      typeof id === 'string' ||
      (typeof id === 'number' && Number.isFinite(id));
    if (req.jsonrpc !== '2.0' || typeof req.method !== 'string' || !idOk) {
      const why =
        req.jsonrpc !== '2.0'
          ? 'jsonrpc must be "2.0"'
          : typeof req.method !== 'string'
            ? 'method must be a string'
            : 'bad id';
      return errorResponse(
        idOk ? (id ?? null) : null,
        new RpcError(RpcCode.InvalidRequest, `invalid request: ${why}`),
      );
    }
    const isNotification = id === undefined;
    const name = req.method;
    let response: Response;
    let started: number | undefined;
    const def = Object.hasOwn(this.#api.methods, name) ? this.#api.methods[name] : undefined;
    const handler = this.#handlers.get(name);
    if (def === undefined || handler === undefined) {
      response = errorResponse(
        id ?? null,
        new RpcError(RpcCode.MethodNotFound, `method not found: ${name.slice(0, 100)}`),
      );
    } else if (name.startsWith('admin_') && !authorised) {
      response = errorResponse(id ?? null, this.#adminRefusal());
    } else {
      started = performance.now();
      try {
        const params = checkParams(def, req.params);
        const result = await handler(params as never, ctx);
        response = { jsonrpc: '2.0', id: id ?? null, result: result === undefined ? null : result };
      } catch (err) {
        response = errorResponse(id ?? null, this.#toRpcError(err, name));
      }
    }
    // PERF: one histogram observation per call (prom-client: a label lookup and a bucket scan).
    if (started !== undefined)
      this.#opts.metrics?.rpcDuration.observe({ method: name }, (performance.now() - started) / 1000);
    this.#opts.metrics?.rpcRequests.inc({
      method: def === undefined ? 'unknown' : name,
      code: String('error' in response ? (response.error as { code: number }).code : 0),
    });
    return isNotification ? undefined : response;
  }

  #adminRefusal(): RpcError {
    if (this.#adminTokenHash === undefined)
      return new RpcError(
        RpcCode.Unauthorized,
        'admin methods are disabled: no admin token is configured. Set rpc.adminToken in the node\'s config.json (or the VOS_ADMIN_TOKEN environment variable), restart, and send "Authorization: Bearer <token>"',
        { code: 'ADMIN_DISABLED', configKey: 'rpc.adminToken' },
      );
    return new RpcError(
      RpcCode.Unauthorized,
      'admin methods need the admin token: send "Authorization: Bearer <rpc.adminToken>"',
      {
        code: 'UNAUTHORIZED',
      },
    );
  }

  #toRpcError(err: unknown, method: string): RpcError {
    if (err instanceof RpcError) return err;
    const mapped = this.#opts.mapError?.(err);
    if (mapped !== undefined) return mapped;
    this.#opts.logger?.error({ method, err: String((err as Error)?.stack ?? err) }, 'RPC method failed');
    return new RpcError(RpcCode.InternalError, 'internal error');
  }
}

/** Positional (array) or named (object) params -> checked positional values. */
export function checkParams(def: MethodDef, params: unknown): unknown[] {
  const specs = def.params;
  let values: unknown[];
  if (params === undefined) values = [];
  else if (Array.isArray(params)) {
    if (params.length > specs.length)
      throw invalidParams(`too many params: expected at most ${specs.length}`);
    values = params;
  } else if (typeof params === 'object' && params !== null) {
    const obj = params as Record<string, unknown>;
    for (const k of Object.keys(obj))
      if (!specs.some((s) => s.name === k)) throw invalidParams(`unknown param "${k.slice(0, 64)}"`);
    values = specs.map((s) => obj[s.name]);
  } else {
    throw invalidParams('params must be an array or an object');
  }
  return specs.map((spec, i) => {
    const v = values[i];
    if (v === undefined || v === null) {
      if (spec.optional) return undefined;
      throw invalidParams(`missing param "${spec.name}"`, { param: spec.name });
    }
    return parseParam(spec.name, spec.schema, v);
  });
}

/** `value` parsed by `schema`, or -32602 naming the param and where in it the value is wrong. */
function parseParam(name: string, schema: { parse(v: unknown): unknown }, value: unknown): unknown {
  try {
    return schema.parse(value);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const where = err.path === '' ? '' : ` at ${err.path}`;
    throw invalidParams(`invalid param "${name}"${where}: expected ${err.expected}`, { param: name });
  }
}

function errorResponse(id: string | number | null, err: RpcError): Response {
  return { jsonrpc: '2.0', id, error: err.toJSON() };
}

/** The id of a parsed request: undefined for a notification, null when it has no valid one. */
function validId(m: unknown): string | number | null | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return null;
  const id = (m as { id?: unknown }).id;
  if (id === undefined) return undefined;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** The id of a request (for an answer that refuses it), undefined for a notification. */
function requestId(text: string): string | number | null | undefined {
  try {
    const m = JSON.parse(text) as { id?: unknown };
    if (Array.isArray(m)) return null;
    const id = m?.id;
    if (id === undefined) return undefined;
    return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
  } catch {
    return null;
  }
}

const bigintAsString = (_k: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x);

/**
 * JSON with bigints as decimal strings. PERF: without a replacer first (a replacer function makes
 * JSON.stringify several times slower on large answers such as blocks); only a value holding a bigint,
 * which throws TypeError there, is serialized again with one.
 */
export function stringify(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  return JSON.stringify(v, bigintAsString);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function clientGone(err: unknown, req: IncomingMessage, res: ServerResponse): boolean {
  const code = (err as { code?: string })?.code;
  return (code !== undefined && CLIENT_GONE.has(code)) || req.destroyed || res.destroyed;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, stringify(body), headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, body: unknown): void {
  const text = stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => !over && resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
