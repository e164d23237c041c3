/**
 * JSON-RPC 2.0 over HTTP POST and WebSocket on one port, plus small GET routes (/healthz, /metrics, the
 * explorer). Limits: body size (HTTP 413 / WS close 1009), batch size, WebSocket connections, a slow
 * subscriber's send buffer. `admin_*` methods need the admin token. Errors never leak stacks.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../util/logger.js';
import { RpcCode, RpcError } from './errors.js';
import { buildOpenRpc } from './openrpc.js';
import { checkParams, type ParamSpec } from './params.js';

export interface CallContext {
  transport: 'http' | 'ws';
  /** The WebSocket connection, for subscriptions. */
  connection?: WsConnection;
}

export interface MethodSpec {
  summary: string;
  params: ParamSpec[];
  result?: { name: string; description?: string };
  handler: (params: unknown[], ctx: CallContext) => unknown | Promise<unknown>;
}

export interface RpcServerOptions {
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  maxBatch?: number;
  maxConnections?: number;
  /** Per-connection send buffer; a subscriber slower than this is disconnected. */
  maxSendBufferBytes?: number;
  adminToken?: string;
  logger?: Logger;
  /** Map a domain error to a JSON-RPC error (undefined: internal error). */
  mapError?: (err: unknown) => RpcError | undefined;
  onRequest?: (method: string, code: number) => void;
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
  constructor(
    readonly socket: WebSocket,
    readonly authorised: boolean,
  ) {}
}

let subCounter = 0;

export class RpcServer {
  readonly #opts: Required<
    Pick<
      RpcServerOptions,
      'host' | 'port' | 'maxBodyBytes' | 'maxBatch' | 'maxConnections' | 'maxSendBufferBytes'
    >
  > &
    RpcServerOptions;
  readonly #methods = new Map<string, MethodSpec>();
  readonly #routes = new Map<string, GetHandler>();
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<WsConnection>();
  readonly #topics = new Map<string, Set<{ conn: WsConnection; id: string }>>();

  constructor(opts: RpcServerOptions = {}) {
    this.#opts = {
      host: '127.0.0.1',
      port: 8545,
      maxBodyBytes: 5 * 1024 * 1024,
      maxBatch: 1000,
      maxConnections: 200,
      maxSendBufferBytes: 16 * 1024 * 1024,
      ...opts,
    };
    this.#http = createServer((req, res) => void this.#onHttp(req, res));
    this.#http.keepAliveTimeout = 65_000;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#opts.maxBodyBytes });
    this.#http.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
    this.register('rpc.discover', {
      summary: 'The OpenRPC document of this server',
      params: [],
      handler: () =>
        buildOpenRpc(this.#methods, {
          title: this.#opts.title ?? 'VOS JSON-RPC',
          version: this.#opts.version ?? '0.1.0',
        }),
    });
    this.register('vos_subscribe', {
      summary: 'Subscribe (WebSocket only) to a topic: newHeads, txs, messages',
      params: [{ name: 'topic', type: 'string', maxLength: 64 }],
      result: { name: 'subscriptionId' },
      handler: ([topic], ctx) => this.#subscribe(topic as string, ctx),
    });
    this.register('vos_unsubscribe', {
      summary: 'Cancel a subscription',
      params: [{ name: 'subscriptionId', type: 'string', maxLength: 64 }],
      handler: ([id], ctx) => this.#unsubscribe(id as string, ctx),
    });
  }

  register(name: string, spec: MethodSpec): void {
    if (this.#methods.has(name)) throw new Error(`RPC method ${name} registered twice`);
    this.#methods.set(name, spec);
  }

  route(path: string, handler: GetHandler): void {
    this.#routes.set(path, handler);
  }

  get methods(): string[] {
    return [...this.#methods.keys()];
  }

  /** Deliver a payload to every subscriber of `topic`. */
  publish(topic: string, payload: unknown): void {
    const subs = this.#topics.get(topic);
    if (subs === undefined || subs.size === 0) return;
    for (const { conn, id } of subs) {
      this.#send(conn, {
        jsonrpc: '2.0',
        method: 'vos_subscription',
        params: { subscription: id, result: payload },
      });
    }
  }

  hasSubscribers(topic: string): boolean {
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

  // ---- HTTP ----

  async #onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return;
    }
    try {
      if (req.method === 'GET' || req.method === 'HEAD') {
        const path = (req.url ?? '/').split('?')[0];
        const handler =
          this.#routes.get(path) ??
          this.#routes.get(`${path.split('/').slice(0, 2).join('/')}/*`) ??
          this.#routes.get('*');
        if (handler === undefined) return json(res, 404, { error: `no route for GET ${path}` });
        await handler(req, res);
        return;
      }
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST for JSON-RPC' });
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
      const authorised = this.#checkToken(req.headers.authorization?.replace(/^Bearer\s+/i, ''));
      const out = await this.#handleRaw(body, { transport: 'http' }, authorised);
      if (out === undefined) {
        res.writeHead(204);
        res.end();
      } else json(res, 200, out);
    } catch (err) {
      this.#opts.logger?.error({ err: String(err) }, 'RPC HTTP handler failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    }
  }

  #checkToken(token: string | undefined): boolean {
    const want = this.#opts.adminToken;
    if (!want || token === undefined) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(want);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  // ---- WebSocket ----

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#connections.size >= this.#opts.maxConnections) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('token') ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WsConnection(ws, this.#checkToken(token ?? undefined));
      this.#connections.add(conn);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'binary frames are not supported');
        void this.#handleRaw(data.toString(), { transport: 'ws', connection: conn }, conn.authorised).then(
          (out) => out !== undefined && this.#send(conn, out),
          (err) => this.#opts.logger?.error({ err: String(err) }, 'RPC WS handler failed'),
        );
      });
      ws.on('close', () => this.#drop(conn));
      ws.on('error', () => this.#drop(conn));
    });
  }

  #send(conn: WsConnection, payload: unknown): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > this.#opts.maxSendBufferBytes) {
      this.#opts.logger?.warn({}, 'dropping a slow WebSocket client');
      conn.socket.terminate();
      this.#drop(conn);
      return;
    }
    conn.socket.send(stringify(payload));
  }

  #drop(conn: WsConnection): void {
    if (!this.#connections.delete(conn)) return;
    for (const [id, topic] of conn.subscriptions) this.#removeSub(topic, id);
  }

  #subscribe(topic: string, ctx: CallContext): string {
    const conn = ctx.connection;
    if (conn === undefined)
      throw new RpcError(RpcCode.InvalidRequest, 'subscriptions need a WebSocket connection');
    if (!['newHeads', 'txs', 'messages'].includes(topic)) {
      throw new RpcError(RpcCode.InvalidParams, `unknown topic "${topic}" (newHeads, txs, messages)`);
    }
    if (conn.subscriptions.size >= 32)
      throw new RpcError(RpcCode.LimitExceeded, 'at most 32 subscriptions per connection');
    const id = `0x${(++subCounter).toString(16)}${Math.floor(Math.random() * 0xffffff).toString(16)}`;
    conn.subscriptions.set(id, topic);
    let set = this.#topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#topics.set(topic, set);
    }
    set.add({ conn, id });
    return id;
  }

  #unsubscribe(id: string, ctx: CallContext): boolean {
    const conn = ctx.connection;
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

  // ---- JSON-RPC ----

  async #handleRaw(
    body: string,
    ctx: CallContext,
    authorised: boolean,
  ): Promise<Response | Response[] | undefined> {
    let msg: unknown;
    try {
      msg = JSON.parse(body);
    } catch {
      return errorResponse(null, new RpcError(RpcCode.ParseError, 'parse error: invalid JSON'));
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0)
        return errorResponse(null, new RpcError(RpcCode.InvalidRequest, 'invalid request: empty batch'));
      if (msg.length > this.#opts.maxBatch) {
        return errorResponse(
          null,
          new RpcError(
            RpcCode.InvalidRequest,
            `invalid request: batch of ${msg.length} exceeds ${this.#opts.maxBatch}`,
          ),
        );
      }
      const out = (await Promise.all(msg.map((m) => this.#handleOne(m, ctx, authorised)))).filter(
        (r): r is Response => r !== undefined,
      );
      return out.length === 0 ? undefined : out;
    }
    return this.#handleOne(msg, ctx, authorised);
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
    const method = req.method;
    let response: Response;
    const spec = this.#methods.get(method);
    if (spec === undefined) {
      response = errorResponse(
        id ?? null,
        new RpcError(RpcCode.MethodNotFound, `method not found: ${method.slice(0, 100)}`),
      );
    } else if (method.startsWith('admin_') && !authorised) {
      response = errorResponse(
        id ?? null,
        new RpcError(RpcCode.Unauthorized, 'admin methods need the admin token (Authorization: Bearer ...)'),
      );
    } else {
      try {
        const params = checkParams(spec.params, req.params);
        const result = await spec.handler(params, ctx);
        response = { jsonrpc: '2.0', id: id ?? null, result: result === undefined ? null : result };
      } catch (err) {
        response = errorResponse(id ?? null, this.#toRpcError(err, method));
      }
    }
    this.#opts.onRequest?.(
      spec === undefined ? 'unknown' : method,
      'error' in response ? (response.error as { code: number }).code : 0,
    );
    return isNotification ? undefined : response;
  }

  #toRpcError(err: unknown, method: string): RpcError {
    if (err instanceof RpcError) return err;
    const mapped = this.#opts.mapError?.(err);
    if (mapped !== undefined) return mapped;
    this.#opts.logger?.error({ method, err: String((err as Error)?.stack ?? err) }, 'RPC method failed');
    return new RpcError(RpcCode.InternalError, 'internal error');
  }
}

function errorResponse(id: string | number | null, err: RpcError): Response {
  return { jsonrpc: '2.0', id, error: err.toJSON() };
}

/** JSON with bigints as decimal strings and Uint8Arrays never leaking as objects. */
export function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
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
