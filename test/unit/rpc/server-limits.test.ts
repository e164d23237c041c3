/**
 * The RPC server's per-IP limits (rate, HTTP and WebSocket connections; loopback is not exempt) and
 * filtered subscriptions, each against a server of its own so one test's spent bucket is not another's.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { defineApi, type Handlers, method, param } from '../../../rpc/api.js';
import { RpcClient } from '../../../rpc/client.js';
import { RpcCode, type RpcResponseError } from '../../../rpc/errors.js';
import { s } from '../../../rpc/schema.js';
import { RpcServer, type RpcServerOptions } from '../../../rpc/server.js';
import { httpRequest, rpcBody } from '../../helpers/http.js';

const api = defineApi({
  methods: {
    test_echo: method({ summary: 'echoes', params: [param('x', s.int())], result: s.int() }),
  },
  topics: { newHeads: s.object({ height: s.int() }), txs: s.object({ hash: s.string(), from: s.string() }) },
  filters: { txs: s.object({ account: s.optional(s.string({ maxLength: 10 })) }) },
});
type TestApi = typeof api;
const handlers: Handlers<TestApi> = { test_echo: ([x]) => x };

let server: RpcServer<TestApi> | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(o: Partial<RpcServerOptions<TestApi>>): Promise<string> {
  server = new RpcServer({ api, handlers, port: 0, ...o });
  const a = await server.listen();
  return `http://${a.host}:${a.port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openWs(url: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('error', reject);
  });
}

describe('rate limit per IP', () => {
  it('a bounded flood gets -32005 "rate limit: N requests/s per IP (rpc.ratePerIp)" with 429; a normal client works after the window', async () => {
    const url = await start({ ratePerIp: 4, rateBurst: 10 });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await httpRequest(url, { body: rpcBody('test_echo', [i], i) }));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(ok.length + refused.length).toBe(30);
    const body = refused[0].json();
    expect(body.error.code).toBe(RpcCode.LimitExceeded);
    expect(body.error.message).toMatch(/^rate limit: 4 requests\/s per IP \(rpc\.ratePerIp\)/);
    expect(body.error.data).toMatchObject({ code: 'RATE_LIMITED', limit: 4, configKey: 'rpc.ratePerIp' });
    expect(body.id).toBe(Number(answers.indexOf(refused[0])));
    expect(Number(refused[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Without retries the client sees the error; after the window it is served again.
    const strict = new RpcClient(url, { rateLimitRetries: 0 });
    await expect(strict.call<number>('test_echo', [1])).rejects.toMatchObject({
      code: RpcCode.LimitExceeded,
      data: { code: 'RATE_LIMITED' },
    });
    await sleep(300);
    expect(await strict.call<number>('test_echo', [7])).toBe(7);
    // The default client waits the named time and sends again.
    for (let i = 0; i < 3; i++) expect(await new RpcClient(url).call<number>('test_echo', [i])).toBe(i);
  });

  it('a batch costs its calls: refused whole, each call answered -32005 under its id', async () => {
    const url = await start({ ratePerIp: 10, rateBurst: 10, maxBatch: 20 });
    const strict = new RpcClient(url, { rateLimitRetries: 0 });
    const first = await strict.batch(
      Array.from({ length: 8 }, (_, i) => ({ method: 'test_echo', params: [i] })),
    );
    expect(first).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const second = await strict.batch(
      Array.from({ length: 5 }, (_, i) => ({ method: 'test_echo', params: [i] })),
    );
    expect(second.map((r) => (r as RpcResponseError).code)).toEqual(Array(5).fill(RpcCode.LimitExceeded));
    // The retrying client gets the whole batch through once the bucket holds 5.
    expect(
      await new RpcClient(url).batch(
        Array.from({ length: 5 }, (_, i) => ({ method: 'test_echo', params: [i] })),
      ),
    ).toEqual([0, 1, 2, 3, 4]);
  });

  it('WebSocket requests share the bucket; refusals come back under their ids', async () => {
    const url = await start({ ratePerIp: 1, rateBurst: 5 });
    const { ws } = await openWs(url);
    const replies: { id: number; result?: number; error?: { code: number; data: { code: string } } }[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    for (let i = 0; i < 12; i++) ws.send(rpcBody('test_echo', [i], i));
    for (let i = 0; i < 100 && replies.length < 12; i++) await sleep(10);
    const refused = replies.filter((r) => r.error !== undefined);
    expect(replies.length).toBe(12);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    expect(
      refused.every((r) => r.error?.code === RpcCode.LimitExceeded && r.error.data.code === 'RATE_LIMITED'),
    ).toBe(true);
    expect(new Set(replies.map((r) => r.id)).size).toBe(12);
    // HTTP from the same IP finds the bucket spent too.
    const h = await httpRequest(url, { body: rpcBody('test_echo', [1]) });
    expect(h.status).toBe(429);
    ws.close();
  });

  it('ratePerIp 0 turns it off', async () => {
    const url = await start({ ratePerIp: 0, rateBurst: 1 });
    const c = new RpcClient(url, { rateLimitRetries: 0 });
    for (let i = 0; i < 50; i++) expect(await c.call<number>('test_echo', [i])).toBe(i);
  });
});

describe('connections per IP', () => {
  it('HTTP: beyond the cap a connection is answered 429 with a JSON-RPC error and closed; freed slots are reused', async () => {
    const url = await start({ maxHttpConnectionsPerIp: 3 });
    const port = Number(new URL(url).port);
    for (let i = 0; i < 3; i++) {
      const sock = connect(port, '127.0.0.1');
      sockets.push(sock);
      await new Promise((r) => sock.once('connect', r));
    }
    await sleep(50);
    const refused = await httpRequest(url, { body: rpcBody('test_echo', [1]) });
    expect(refused.status).toBe(429);
    expect(refused.headers.connection).toBe('close');
    expect(refused.json().error).toMatchObject({
      code: RpcCode.LimitExceeded,
      message: expect.stringMatching(/^at most 3 HTTP connections per IP \(rpc\.maxHttpConnectionsPerIp\)/),
      data: { code: 'TOO_MANY_CONNECTIONS', limit: 3 },
    });
    sockets.pop()?.destroy();
    await sleep(50);
    const ok = await httpRequest(url, { body: rpcBody('test_echo', [5]) });
    expect([ok.status, ok.json().result]).toEqual([200, 5]);
  });

  it('WebSocket: beyond the cap the socket is closed with 1013 and the reason; the typed client reports it', async () => {
    const url = await start({ maxWsConnectionsPerIp: 2 });
    const a = await openWs(url);
    const b = await openWs(url);
    const c = await openWs(url);
    const closed = await c.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toBe('at most 2 WebSocket connections per IP (rpc.maxWsConnectionsPerIp)');
    const typed = await RpcClient.connectWs(url);
    await sleep(50);
    await expect(typed.call<number>('test_echo', [1])).rejects.toThrow(
      'WebSocket closed (1013: at most 2 WebSocket connections per IP (rpc.maxWsConnectionsPerIp))',
    );
    // The two admitted ones work; closing one admits a new one.
    a.ws.close();
    await a.closed;
    await sleep(50);
    const d = await RpcClient.connectWs(url);
    expect(await d.call<number>('test_echo', [3])).toBe(3);
    d.close();
    b.ws.close();
  });

  it('upgraded WebSockets do not count against the HTTP cap', async () => {
    const url = await start({ maxHttpConnectionsPerIp: 2, maxWsConnectionsPerIp: 5 });
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await openWs(url));
    const r = await httpRequest(url, { body: rpcBody('test_echo', [2]) });
    expect(r.status).toBe(200);
    for (const o of open) o.ws.close();
  });
});

describe('filtered subscriptions', () => {
  it('a subscriber with a filter gets what the publisher says it matches; others get everything', async () => {
    const url = await start({});
    const all = await RpcClient.connectWs<TestApi>(url);
    const mine = await RpcClient.connectWs<TestApi>(url);
    const got = { all: [] as string[], mine: [] as string[] };
    await all.subscribe('txs', (p) => got.all.push(p.hash));
    await mine.subscribe('txs', (p) => got.mine.push(p.hash), { account: 'alice' });
    for (const [hash, from] of [
      ['0x01', 'bob'],
      ['0x02', 'alice'],
      ['0x03', 'carol'],
    ])
      server!.publish('txs', { hash, from }, (f) => f.account === undefined || f.account === from);
    for (let i = 0; i < 100 && got.all.length < 3; i++) await sleep(10);
    await sleep(20);
    expect(got).toEqual({ all: ['0x01', '0x02', '0x03'], mine: ['0x02'] });
    // A topic without a filter schema refuses one; a bad filter names the problem.
    await expect(mine.call('vos_subscribe', ['newHeads', { account: 'alice' }])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: 'topic newHeads takes no filter (txs do)',
    });
    await expect(mine.call('vos_subscribe', ['txs', { owner: 'x' }])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: 'invalid param "filter" at owner: expected no such property',
    });
    all.close();
    mine.close();
  });
});
