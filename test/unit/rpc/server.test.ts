import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../../rpc/client.js';
import { RpcCode, RpcError, RpcResponseError } from '../../../rpc/errors.js';
import { RpcServer } from '../../../rpc/server.js';

let server: RpcServer;
let url: string;

beforeAll(async () => {
  server = new RpcServer({ port: 0, maxBodyBytes: 10_000, maxBatch: 5, adminToken: 'secret' });
  server.register('test_add', {
    summary: 'adds',
    params: [
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'integer', optional: true },
    ],
    handler: ([a, b]) => (a as number) + ((b as number | undefined) ?? 0),
  });
  server.register('test_fail', {
    summary: 'fails',
    params: [],
    handler: () => {
      throw new RpcError(-32010, 'refused', { code: 'TX_NONCE_TOO_LOW' });
    },
  });
  server.register('test_crash', { summary: 'bug', params: [], handler: () => JSON.parse('{') });
  server.register('admin_ping', { summary: 'admin', params: [], handler: () => 'pong' });
  server.route('/healthz', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  });
  const a = await server.listen();
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

describe('JSON-RPC server', () => {
  it('calls with positional and named params', async () => {
    const c = new RpcClient(url);
    expect(await c.call('test_add', [2, 3])).toBe(5);
    expect(await c.call('test_add', { a: 4 })).toBe(4);
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
  it('-32601 for an unknown method and -32602 naming the param', async () => {
    const c = new RpcClient(url);
    await expect(c.call('nope_nope')).rejects.toMatchObject({ code: RpcCode.MethodNotFound });
    await expect(c.call('test_add', ['x'])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: expect.stringContaining('"a"'),
    });
    await expect(c.call('test_add', [])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
      message: 'missing param "a"',
    });
    await expect(c.call('test_add', { z: 1 })).rejects.toMatchObject({ code: RpcCode.InvalidParams });
  });
  it('typed app errors keep code and data; bugs become -32603 without a stack', async () => {
    const c = new RpcClient(url);
    const err = (await c.call('test_fail').catch((e) => e)) as RpcResponseError;
    expect(err).toBeInstanceOf(RpcResponseError);
    expect(err.code).toBe(-32010);
    expect(err.data).toEqual({ code: 'TX_NONCE_TOO_LOW' });
    const crash = (await c.call('test_crash').catch((e) => e)) as RpcResponseError;
    expect(crash.code).toBe(RpcCode.InternalError);
    expect(crash.message).toBe('internal error');
  });
  it('notifications get no response; batches mix results and errors; limits apply', async () => {
    const n = await post('{"jsonrpc":"2.0","method":"test_add","params":[1]}');
    expect(n.status).toBe(204);
    const c = new RpcClient(url);
    const r = await c.batch([{ method: 'test_add', params: [1, 1] }, { method: 'missing' }]);
    expect(r[0]).toBe(2);
    expect((r[1] as RpcResponseError).code).toBe(RpcCode.MethodNotFound);
    expect((await post('[]')).body.error.code).toBe(RpcCode.InvalidRequest);
    const six = JSON.stringify(
      Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'test_add', params: [i] })),
    );
    expect((await post(six)).body.error.message).toContain('exceeds 5');
  });
  it('refuses an oversize body with 413', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test_add', params: ['x'.repeat(20_000)] }),
    );
    expect(r.status).toBe(413);
  });
  it('admin methods need the token', async () => {
    await expect(new RpcClient(url).call('admin_ping')).rejects.toMatchObject({ code: RpcCode.Unauthorized });
    expect(await new RpcClient(url, { token: 'secret' }).call('admin_ping')).toBe('pong');
    await expect(new RpcClient(url, { token: 'secreT' }).call('admin_ping')).rejects.toMatchObject({
      code: RpcCode.Unauthorized,
    });
  });
  it('WebSocket calls and subscriptions', async () => {
    const ws = await RpcClient.connectWs(url);
    expect(await ws.call('test_add', [5, 5])).toBe(10);
    const got: unknown[] = [];
    const unsubscribe = await ws.subscribe('newHeads', (p) => got.push(p));
    server.publish('newHeads', { height: 7 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([{ height: 7 }]);
    await unsubscribe();
    server.publish('newHeads', { height: 8 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got.length).toBe(1);
    await expect(ws.call('vos_subscribe', ['bogus'])).rejects.toMatchObject({ code: RpcCode.InvalidParams });
    ws.close();
    await expect(new RpcClient(url).call('vos_subscribe', ['newHeads'])).rejects.toMatchObject({
      code: RpcCode.InvalidRequest,
    });
  });
  it('rpc.discover lists every method; GET routes, 404 and CORS preflight', async () => {
    const doc = await new RpcClient(url).call<{ openrpc: string; methods: { name: string }[] }>(
      'rpc.discover',
    );
    expect(doc.openrpc).toBe('1.2.6');
    expect(doc.methods.map((m) => m.name)).toEqual(
      expect.arrayContaining(['test_add', 'rpc.discover', 'vos_subscribe']),
    );
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const pre = await fetch(url, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });
  it('client reports an unreachable node clearly', async () => {
    await expect(new RpcClient('http://127.0.0.1:1').call('x')).rejects.toThrow(
      'cannot reach node at http://127.0.0.1:1',
    );
  });
});
