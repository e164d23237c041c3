import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { defineApi, type Handlers, method, optionalParam, param } from '../../../rpc/api.js';
import { RpcClient } from '../../../rpc/client.js';
import { RpcCode, RpcError, RpcResponseError } from '../../../rpc/errors.js';
import { s } from '../../../rpc/schema.js';
import { RpcServer } from '../../../rpc/server.js';
import type { Logger } from '../../../util/logger.js';
import { httpRequest, rpcBody } from '../../helpers/http.js';

const api = defineApi({
  methods: {
    test_add: method({
      summary: 'adds',
      params: [param('a', s.int()), optionalParam('b', s.int())],
      result: s.int(),
    }),
    test_fail: method({ summary: 'fails', params: [], result: s.any() }),
    test_crash: method({ summary: 'bug', params: [], result: s.any() }),
    test_big: method({ summary: 'a string of n bytes', params: [param('n', s.int())], result: s.string() }),
    test_gate: method({ summary: 'answers when the test opens the gate', params: [], result: s.string() }),
    admin_ping: method({ summary: 'admin', params: [], result: s.string() }),
  },
  topics: { newHeads: s.object({ height: s.int() }), txs: s.any() },
});
type TestApi = typeof api;

let gate: { promise: Promise<void>; open: () => void };
function newGate() {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  gate = { promise, open };
}
newGate();

const handlers: Handlers<TestApi> = {
  test_add: ([a, b]) => a + (b ?? 0),
  test_fail: () => {
    throw new RpcError(-32010, 'refused', { code: 'TX_NONCE_TOO_LOW' });
  },
  test_crash: () => JSON.parse('{'),
  test_big: ([n]) => 'x'.repeat(n),
  test_gate: async () => {
    await gate.promise;
    return 'opened';
  },
  admin_ping: () => 'pong',
};

/** A logger that records what it was given, by level. */
function recordingLogger() {
  const lines: { level: string; msg?: string }[] = [];
  const make = (): Logger => ({
    error: (_o, msg) => lines.push({ level: 'error', msg }),
    warn: (_o, msg) => lines.push({ level: 'warn', msg }),
    info: (_o, msg) => lines.push({ level: 'info', msg }),
    debug: (_o, msg) => lines.push({ level: 'debug', msg }),
    child: () => make(),
  });
  return { logger: make(), lines };
}

let server: RpcServer<TestApi>;
let url: string;
let port: number;
const log = recordingLogger();

beforeAll(async () => {
  server = new RpcServer({
    api,
    handlers,
    port: 0,
    maxBodyBytes: 10_000,
    maxBatch: 5,
    maxResponseBytes: 10_000,
    maxWsInflight: 2,
    adminToken: 'secret',
    hosts: ['node.example'],
    corsOrigins: ['https://app.example'],
    logger: log.logger,
  });
  server.route('/healthz', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  });
  const a = await server.listen();
  port = a.port;
  url = `http://${a.host}:${a.port}`;
});
afterAll(() => server.close());

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function openWs(o: { headers?: Record<string, string>; origin?: string; path?: string } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${o.path ?? '/'}`, {
    headers: o.headers,
    origin: o.origin,
  });
  return new Promise<{ ws?: WebSocket; status?: number; body?: string }>((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    ws.once('error', () => resolve({}));
  });
}

interface Reply {
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

/** Send raw messages on a WebSocket and collect `n` answers. */
function wsExchange(ws: WebSocket, messages: string[], n: number, onPartial?: (got: Reply[]) => void) {
  return new Promise<Reply[]>((resolve) => {
    const got: Reply[] = [];
    ws.on('message', (d) => {
      got.push(JSON.parse(d.toString()));
      onPartial?.(got);
      if (got.length === n) resolve(got);
    });
    for (const m of messages) ws.send(m);
  });
}

describe('JSON-RPC server', () => {
  it('calls with positional and named params, typed from the table', async () => {
    const c = new RpcClient<TestApi>(url);
    const sum: number = await c.call('test_add', [2, 3]);
    expect(sum).toBe(5);
    expect(await c.call('test_add', { a: 4 })).toBe(4);
    // @ts-expect-error: a is a number in the table
    await expect(c.call('test_add', ['x'])).rejects.toMatchObject({ code: RpcCode.InvalidParams });
  });
  it('-32700 on broken JSON with id null', async () => {
    const r = await post('{"jsonrpc":');
    expect(r.body).toMatchObject({ id: null, error: { code: RpcCode.ParseError } });
  });
  it('-32600 for each invalid request shape', async () => {
    for (const bad of [
      '1',
      '"x"',
      '{"jsonrpc":"1.0","method":"test_add","id":1}',
      '{"jsonrpc":"2.0","id":1}',
      '{"jsonrpc":"2.0","method":"test_add","id":{}}',
    ]) {
      const r = await post(bad);
      expect(r.body.error.code).toBe(RpcCode.InvalidRequest);
    }
  });
  it('-32601 for an unknown method (also inherited names) and -32602 naming the param', async () => {
    const c = new RpcClient<TestApi>(url);
    await expect(c.call('nope_nope')).rejects.toMatchObject({ code: RpcCode.MethodNotFound });
    await expect(c.call('toString')).rejects.toMatchObject({ code: RpcCode.MethodNotFound });
    await expect(c.call<number>('test_add', ['x'])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: 'invalid param "a": expected a non-negative integer',
    });
    await expect(c.call<number>('test_add', [])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: 'missing param "a"',
    });
    await expect(c.call('test_add', { z: 1 } as never)).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
    });
  });
  it('typed app errors keep code and data; bugs become -32603 without a stack', async () => {
    const c = new RpcClient<TestApi>(url);
    const err = (await c.call('test_fail').catch((e) => e)) as RpcResponseError;
    expect(err).toBeInstanceOf(RpcResponseError);
    expect(err.code).toBe(-32010);
    expect(err.data).toEqual({ code: 'TX_NONCE_TOO_LOW' });
    const crash = (await c.call('test_crash').catch((e) => e)) as RpcResponseError;
    expect(crash.code).toBe(RpcCode.InternalError);
    expect(crash.message).toBe('internal error');
  });
  it('notifications get no response; batches mix results and errors', async () => {
    const n = await post('{"jsonrpc":"2.0","method":"test_add","params":[1]}');
    expect(n.status).toBe(204);
    const c = new RpcClient<TestApi>(url);
    const r = await c.batch([{ method: 'test_add', params: [1, 1] }, { method: 'missing' }]);
    expect(r[0]).toBe(2);
    expect((r[1] as RpcResponseError).code).toBe(RpcCode.MethodNotFound);
    expect((await post('[]')).body.error.code).toBe(RpcCode.InvalidRequest);
  });
  it('caps batches: more than maxBatch calls are refused with -32005, maxBatch pass', async () => {
    const calls = (n: number) =>
      JSON.stringify(
        Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'test_add', params: [i] })),
      );
    const six = (await post(calls(6))).body;
    expect(six.error).toMatchObject({
      code: RpcCode.LimitExceeded,
      data: { code: 'BATCH_TOO_LARGE', limit: 5 },
    });
    expect(six.error.message).toContain('exceeds 5');
    expect((await post(calls(5))).body).toHaveLength(5);
  });
  it('caps the response size: a larger answer becomes a -32005 error for that call', async () => {
    const c = new RpcClient<TestApi>(url);
    expect(await c.call('test_big', [100])).toHaveLength(100);
    const err = (await c.call('test_big', [20_000]).catch((e) => e)) as RpcResponseError;
    expect(err.code).toBe(RpcCode.LimitExceeded);
    expect(err.data).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 10_000 });
    // A batch shares the cap: the third 4,000-byte answer would cross it.
    const r = await c.batch([0, 1, 2].map(() => ({ method: 'test_big', params: [4_000] })));
    expect(r[0]).toHaveLength(4_000);
    expect(r[1]).toHaveLength(4_000);
    expect((r[2] as RpcResponseError).code).toBe(RpcCode.LimitExceeded);
  });
  it('refuses an oversize body with 413', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test_add', params: ['x'.repeat(20_000)] }),
    );
    expect(r.status).toBe(413);
  });
  it('admin methods need the token, from the Authorization: Bearer header only', async () => {
    await expect(new RpcClient<TestApi>(url).call('admin_ping')).rejects.toMatchObject({
      code: RpcCode.Unauthorized,
    });
    expect(await new RpcClient<TestApi>(url, { token: 'secret' }).call('admin_ping')).toBe('pong');
    await expect(new RpcClient<TestApi>(url, { token: 'secreT' }).call('admin_ping')).rejects.toMatchObject({
      code: RpcCode.Unauthorized,
    });
    // The bare token without the Bearer scheme is not accepted.
    const bare = await httpRequest(url, {
      body: rpcBody('admin_ping'),
      headers: { authorization: 'secret' },
    });
    expect(bare.json().error.code).toBe(RpcCode.Unauthorized);
  });
  it('a WebSocket takes the token from the Authorization header, never from ?token= in the URL', async () => {
    const viaUrl = await openWs({ path: '/?token=secret' });
    const [a] = await wsExchange(viaUrl.ws!, [rpcBody('admin_ping')], 1);
    expect(a.error?.code).toBe(RpcCode.Unauthorized);
    viaUrl.ws!.close();
    const ws = await RpcClient.connectWs<TestApi>(url, { token: 'secret' });
    expect(await ws.call('admin_ping')).toBe('pong');
    ws.close();
  });
  it('without a configured admin token, admin methods are refused with how to set one', async () => {
    const bare = new RpcServer({ api, handlers, port: 0 });
    const a = await bare.listen();
    try {
      const err = (await new RpcClient<TestApi>(`http://127.0.0.1:${a.port}`, { token: 'anything' })
        .call('admin_ping')
        .catch((e) => e)) as RpcResponseError;
      expect(err.code).toBe(RpcCode.Unauthorized);
      expect(err.message).toContain('rpc.adminToken');
      expect(err.message).toContain('VOS_ADMIN_TOKEN');
      expect(err.data).toMatchObject({ code: 'ADMIN_DISABLED' });
    } finally {
      await bare.close();
    }
  });
  it('refuses to start when a table method has no handler or a handler has no table entry', () => {
    const { admin_ping: _, ...missing } = handlers;
    expect(() => new RpcServer({ api, handlers: missing as Handlers<TestApi> })).toThrow(
      'method admin_ping has no handler',
    );
    expect(
      () => new RpcServer({ api, handlers: { ...handlers, test_extra: () => 1 } as Handlers<TestApi> }),
    ).toThrow('handler test_extra has no entry in the method table');
  });
  it('WebSocket calls and subscriptions; only published topics are accepted', async () => {
    const ws = await RpcClient.connectWs<TestApi>(url);
    expect(await ws.call('test_add', [5, 5])).toBe(10);
    const got: unknown[] = [];
    const unsubscribe = await ws.subscribe('newHeads', (p) => got.push(p.height));
    server.publish('newHeads', { height: 7 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([7]);
    await unsubscribe();
    server.publish('newHeads', { height: 8 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got.length).toBe(1);
    for (const topic of ['bogus', 'messages'])
      await expect(ws.call('vos_subscribe', [topic as 'txs'])).rejects.toMatchObject({
        code: RpcCode.InvalidParams,
        message: 'invalid param "topic": expected one of newHeads, txs',
      });
    ws.close();
    await expect(new RpcClient<TestApi>(url).call('vos_subscribe', ['newHeads'])).rejects.toMatchObject({
      code: RpcCode.InvalidRequest,
    });
  });
  it('caps requests in flight per WebSocket: beyond maxWsInflight they are answered with -32005', async () => {
    newGate();
    const { ws } = await openWs();
    const msgs = [1, 2, 3, 4].map((id) => rpcBody('test_gate', [], id));
    // The two over the limit are answered at once; then the gate opens for the two in flight.
    const answers = await wsExchange(ws!, msgs, 4, (got) => got.length === 2 && gate.open());
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.get(1)?.result).toBe('opened');
    expect(byId.get(2)?.result).toBe('opened');
    for (const id of [3, 4])
      expect(byId.get(id)?.error).toMatchObject({
        code: RpcCode.LimitExceeded,
        data: { code: 'TOO_MANY_INFLIGHT' },
      });
    // Answered ones no longer count.
    const [again] = await wsExchange(ws!, [rpcBody('test_add', [1], 9)], 1);
    expect(again.result).toBe(1);
    ws!.close();
  }, 10_000);
  it('rpc.discover lists every method with its param and result schemas; GET routes and 404', async () => {
    const doc = await new RpcClient<TestApi>(url).call('rpc.discover');
    expect(doc.openrpc).toBe('1.2.6');
    expect(doc.methods.map((m) => m.name).sort()).toEqual(Object.keys(api.methods).sort());
    const add = doc.methods.find((m) => m.name === 'test_add')!;
    expect(add.params).toEqual([
      { name: 'a', required: true, schema: { type: 'integer', minimum: 0 } },
      { name: 'b', required: false, schema: { type: 'integer', minimum: 0 } },
    ]);
    expect(add.result).toEqual({ name: 'result', schema: { type: 'integer', minimum: 0 } });
    const sub = doc.methods.find((m) => m.name === 'vos_subscribe')! as { params: { schema: unknown }[] };
    expect(sub.params[0].schema).toEqual({ type: 'string', enum: ['newHeads', 'txs'] });
    expect(Object.keys(doc['x-subscriptions'])).toEqual(['newHeads', 'txs']);
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });
  it('client reports an unreachable node clearly', async () => {
    await expect(new RpcClient('http://127.0.0.1:1').call('x')).rejects.toThrow(
      'cannot reach node at http://127.0.0.1:1',
    );
  });
  it('a client that drops its connection mid-request is logged at debug, not error', async () => {
    const { connect } = await import('node:net');
    const before = log.lines.length;
    await new Promise<void>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.write(
          `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"jsonrpc":`,
        );
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 50);
      });
    });
    for (let i = 0; i < 100 && log.lines.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    const lines = log.lines.slice(before);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines).toEqual([{ level: 'debug', msg: 'RPC client went away' }]);
  });
});

describe('RPC access: Host and Origin', () => {
  const call = (headers: Record<string, string>) =>
    httpRequest(url, { body: rpcBody('test_add', [1]), headers });

  it('refuses Host: attacker.example (DNS rebinding) with 403 naming rpc.hosts, for POST and GET', async () => {
    const r = await call({ host: 'attacker.example' });
    expect(r.status).toBe(403);
    expect(r.json().error).toMatchObject({
      code: RpcCode.Forbidden,
      data: { code: 'HOST_NOT_ALLOWED', configKey: 'rpc.hosts' },
    });
    expect(r.json().error.message).toContain('rpc.hosts');
    expect((await call({ host: `attacker.example:${port}` })).status).toBe(403);
    expect((await httpRequest(url, { path: '/healthz', headers: { host: 'attacker.example' } })).status).toBe(
      403,
    );
    // A name that only starts like an allowed one, and userinfo tricks, are refused too.
    for (const host of ['localhost.attacker.example', 'node.example.attacker.example', 'x@127.0.0.1'])
      expect((await call({ host })).status).toBe(403);
  });
  it('accepts localhost, 127.0.0.1, [::1], IP addresses and the configured names, on any port', async () => {
    for (const host of [
      `localhost:${port}`,
      'localhost',
      `127.0.0.1:${port}`,
      '[::1]:8545',
      '[::1]',
      '10.1.2.3:9999',
      `NODE.example:${port}`,
      'node.example.',
    ]) {
      const r = await call({ host });
      expect([host, r.status]).toEqual([host, 200]);
      expect(r.json().result).toBe(1);
    }
  });
  it('cross-origin POST only from configured origins; same-origin and origin-less pass', async () => {
    const evil = await call({ origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.json().error).toMatchObject({
      code: RpcCode.Forbidden,
      data: { configKey: 'rpc.corsOrigins' },
    });
    expect((await call({ origin: 'null' })).status).toBe(403);
    const app = await call({ origin: 'https://app.example' });
    expect(app.status).toBe(200);
    expect(app.headers['access-control-allow-origin']).toBe('https://app.example');
    const same = await call({ origin: `http://127.0.0.1:${port}` });
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
    const none = await call({});
    expect(none.status).toBe(200);
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });
  it('CORS preflight: allowed for a configured origin, 403 otherwise', async () => {
    const ok = await httpRequest(url, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(ok.headers['access-control-allow-headers']).toContain('Authorization');
    const bad = await httpRequest(url, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });
  it('WebSocket upgrades get the same Host and Origin checks', async () => {
    const rebound = await openWs({ headers: { host: 'attacker.example' } });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body!).error.data.configKey).toBe('rpc.hosts');
    const cross = await openWs({ origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body!).error.data.configKey).toBe('rpc.corsOrigins');
    for (const o of [{ origin: 'https://app.example' }, { origin: `http://127.0.0.1:${port}` }, {}]) {
      const ok = await openWs(o);
      expect(ok.ws).toBeDefined();
      ok.ws!.close();
    }
  });
});
