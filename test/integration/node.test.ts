/**
 * One validator in-process: produces blocks through the consensus engine with real signed commits,
 * serves JSON-RPC, refuses bad input with specific errors and no state change, and restarts cleanly.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dnsPacket from 'dns-packet';
import WebSocket from 'ws';
import { createCommitFromRlp } from '../../chain/commit.js';
import { verifyCommit } from '../../chain/commit-verify.js';
import { PrivateKey } from '../../chain/keys.js';
import { accountKey } from '../../chain/ledger/accounts.js';
import { inlineVerifier } from '../../chain/ledger/verifier.js';
import { validatorFromJSON, verifyStateProofAnswer } from '../../chain/light-client.js';
import { proofFromJSON, type StateProofJSON, verifyProof } from '../../chain/state/proof.js';
import { Tx, TxKind } from '../../chain/tx/index.js';
import { createValidatorSetFromRlp } from '../../consensus/validator-set.js';
import { createDevGenesis } from '../../genesis/genesis.js';
import { defaultConfig } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { fallbackPage } from '../../node/web-routes.js';
import { peerIdOf } from '../../p2p/host.js';
import { RpcClient } from '../../rpc/client.js';
import { RpcCode, type RpcResponseError } from '../../rpc/errors.js';
import { vosApi } from '../../rpc/methods.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';
import { httpRequest, rpcBody } from '../helpers/http.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(11));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(12));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(13));
const genesis = createDevGenesis([validator], {
  chainId: 'vos-it',
  genesisTime: Date.now(),
  extraAccounts: [{ address: alice.address, balance: 1_000_000_000n }],
});
const config = defaultConfig({ rpcPort: 0 });
config.consensus.emptyBlockIntervalMs = 100;
config.consensus.timeoutProposeMs = 1000;
const ADMIN_TOKEN = 'integration-admin-token-0123456789';
config.rpc.adminToken = ADMIN_TOKEN;

let home: string;
let node: VosNode;
let rpc: RpcClient;

async function startNode() {
  node = await VosNode.create({ home, config, genesis, key: validator, logger: silentLogger() });
  await node.open();
  rpc = new RpcClient(node.rpcUrl);
}

async function waitHeight(h: number) {
  for (let i = 0; i < 200; i++) {
    if (node.ledger.head.height >= h) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`height ${h} not reached`);
}

function transfer(
  from: PrivateKey,
  nonce: bigint,
  amount: bigint,
  o: { chainId?: string; gasPrice?: bigint } = {},
) {
  return Tx.sign(
    {
      chainId: o.chainId ?? 'vos-it',
      nonce,
      kind: TxKind.Transfer,
      payload: { kind: TxKind.Transfer, body: { to: bob.address, amount } },
      gasLimit: 100_000n,
      gasPrice: o.gasPrice ?? 1n,
    },
    from,
  );
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vos-node-'));
  await startNode();
});
afterAll(async () => {
  await node?.close();
  await rm(home, { recursive: true, force: true });
});

describe('single-validator node', () => {
  it('produces blocks with real signed commits and serves them over RPC', async () => {
    await waitHeight(3);
    const status = await rpc.call<{ chainId: string; height: number; validator: { address: string } }>(
      'node_status',
    );
    expect(status.chainId).toBe('vos-it');
    expect(status.validator.address).toBe(validator.address.toString());
    const block = await rpc.call<{ header: { height: number; time: number }; lastCommit: unknown }>(
      'chain_getBlock',
      [2],
    );
    expect(block.header.height).toBe(2);
    expect(block.lastCommit).not.toBeNull();
    const commit = createCommitFromRlp((await node.ledger.store.getCommit(2))!.serialize());
    const b2 = await node.ledger.store.getBlock(2);
    await expect(
      verifyCommit('vos-it', await node.ledger.validatorsAt(2), commit, 2, b2!.hash(), inlineVerifier),
    ).resolves.toBeUndefined();
    const header = await rpc.call<{ hash: string }>('chain_getHeader', [2]);
    expect(header.hash).toBe(toHex(b2!.hash()));
  });

  it('commits a transfer (tx_sendCommit) and finds it with tx_get; state proofs verify against the header', async () => {
    const tx = transfer(alice, 0n, 1234n);
    const r = await rpc.call<{ hash: string; height: number; receipt: { status: string } }>('tx_sendCommit', [
      toHex(tx.serialize()),
    ]);
    expect(r.receipt.status).toBe('ok');
    const got = await rpc.call<{ height: number; index: number; tx: { from: string } }>('tx_get', [r.hash]);
    expect(got.height).toBe(r.height);
    expect(got.tx.from).toBe(alice.address.toString());
    const acct = await rpc.call<{ balance: string; nonce: string }>('chain_getAccount', [
      bob.address.toString(),
    ]);
    expect(acct.balance).toBe('1234');
    const proof = await rpc.call<StateProofJSON & { stateRoot: string; height: number }>('state_getProof', [
      toHex(accountKey(bob.address)),
      r.height,
    ]);
    const header = await rpc.call<{ stateRoot: string }>('chain_getHeader', [r.height]);
    expect(proof.stateRoot).toBe(header.stateRoot);
    const v = verifyProof(fromHex(header.stateRoot), accountKey(bob.address), proofFromJSON(proof));
    expect(v.ok).toBe(true);
  });

  describe('bad input gets a specific error and changes nothing', () => {
    async function expectRejected(rawHex: string, code: string) {
      const before = { alice: await node.ledger.getAccount(alice.address), mempool: node.mempool.size };
      const err = (await rpc.call('tx_send', [rawHex]).catch((e) => e)) as RpcResponseError;
      expect(err.code).toBe(RpcCode.TxRejected);
      expect((err.data as { code: string }).code).toBe(code);
      expect(await node.ledger.getAccount(alice.address)).toEqual(before.alice);
      expect(node.mempool.size).toBe(before.mempool);
    }
    it('malformed RLP', async () => {
      await expectRejected('0xdeadbeef', 'TX_MALFORMED');
      const good = transfer(alice, 1n, 1n).serialize();
      await expectRejected(toHex(new Uint8Array([...good, 0])), 'TX_MALFORMED');
    });
    it('wrong chain id', () =>
      expectRejected(toHex(transfer(alice, 1n, 1n, { chainId: 'other' }).serialize()), 'TX_WRONG_CHAIN'));
    it('bad signature', async () => {
      const tx = transfer(alice, 1n, 1n);
      const sig = Uint8Array.from(tx.signature);
      sig[10] ^= 0x40;
      await expectRejected(toHex(new Tx(tx, sig).serialize()), 'TX_INVALID_SIGNATURE');
    });
    it('replayed nonce', () =>
      expectRejected(toHex(transfer(alice, 0n, 1234n).serialize()), 'TX_NONCE_TOO_LOW'));
    it('insufficient balance', () =>
      expectRejected(toHex(transfer(alice, 1n, 10_000_000_000n).serialize()), 'TX_INSUFFICIENT_BALANCE'));
    it('amount overflow', () =>
      expectRejected(toHex(transfer(alice, 1n, (1n << 256n) - 1n).serialize()), 'TX_AMOUNT_OVERFLOW'));
    it('oversize tx', () => expectRejected(toHex(new Uint8Array(70_000).fill(0xc0)), 'TX_TOO_LARGE'));
    it('invalid JSON-RPC', async () => {
      const res = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","method":',
      });
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(RpcCode.ParseError);
      const res2 = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"tx_send","params":[42]}',
      });
      expect(((await res2.json()) as { error: { code: number } }).error.code).toBe(RpcCode.InvalidParams);
    });
  });

  it('restart: same head and state root, keeps producing', async () => {
    await waitHeight(node.ledger.head.height + 1);
    await node.close();
    const head = node.ledger.head;
    await startNode();
    expect(node.ledger.head.height).toBe(head.height);
    expect(toHex(node.ledger.head.hash)).toBe(toHex(head.hash));
    expect(toHex(node.ledger.head.stateRoot)).toBe(toHex(head.stateRoot));
    // The proposer priorities of the next height were stored with the head block (no re-derivation).
    const proposers = createValidatorSetFromRlp((await node.ledger.store.getProposerState())!);
    expect(proposers.height).toBe(head.height + 1);
    await waitHeight(head.height + 2);
    const acct = await rpc.call<{ balance: string }>('chain_getAccount', [bob.address.toString()]);
    expect(acct.balance).toBe('1234');
  });

  it('serves /healthz and /metrics', async () => {
    const health = (await (await fetch(`${node.rpcUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const metrics = await (await fetch(`${node.rpcUrl}/metrics`)).text();
    for (const name of [
      'vos_consensus_height',
      'vos_consensus_block_interval_seconds',
      'vos_mempool_size',
      'vos_txs_total',
      'vos_p2p_peers',
      'vos_p2p_connections',
      'vos_p2p_peer_bans_total',
      'vos_blocksync_syncing',
      'vos_blocksync_blocks_total',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('state_getProof answers with the header and commit: a light client verifies the proof and the signatures', async () => {
    const key = accountKey(bob.address);
    const h = node.ledger.head.height;
    const answer = await rpc.call('state_getProof', [toHex(key), h]);
    expect(answer.header.height).toBe(h);
    expect(answer.header.stateRoot).toBe(answer.stateRoot);
    expect(answer.commit.height).toBe(h);
    const vals = (await rpc.call('chain_getValidators', [h])).validators.map(validatorFromJSON);
    const value = await verifyStateProofAnswer('vos-it', key, answer, vals, inlineVerifier);
    expect(value).not.toBeNull();
    // Default height: the head, with its own header and commit.
    const latest = await rpc.call('state_getProof', [toHex(key)]);
    expect(latest.header.height).toBe(latest.height);
    // Tampering with any part is caught.
    const bad = (mutate: (a: typeof answer) => void) => {
      const copy = structuredClone(answer);
      mutate(copy);
      return verifyStateProofAnswer('vos-it', key, copy, vals, inlineVerifier);
    };
    await expect(bad((a) => (a.header.stateRoot = toHex(new Uint8Array(32))))).rejects.toThrow(/hash/);
    await expect(
      bad((a) => {
        const sig = a.commit.signatures[0];
        sig.signature = `0x${sig.signature!.slice(2, 4) === '00' ? '01' : '00'}${sig.signature!.slice(4)}`;
      }),
    ).rejects.toThrow(/bad signature/);
    // The proof is read from its canonical encoding: flip a sibling's bit in it.
    await expect(
      bad((a) => {
        const enc = fromHex(a.encoded);
        enc[enc.length - 40] ^= 1;
        a.encoded = toHex(enc);
      }),
    ).rejects.toThrow();
    await expect(rpc.call('state_getProof', [toHex(key), h + 1000])).rejects.toMatchObject({
      code: RpcCode.NotFound,
    });
  });

  it('every method rpc.discover lists answers through the typed client: its result schema or a documented error', async () => {
    const admin = new RpcClient(node.rpcUrl, { token: ADMIN_TOKEN });
    const doc = await admin.call('rpc.discover');
    const listed = new Map(
      (doc.methods as { name: string; errors?: { code: number }[] }[]).map((m) => [
        m.name,
        new Set((m.errors ?? []).map((e) => e.code)),
      ]),
    );
    expect([...listed.keys()].sort()).toEqual(Object.keys(vosApi.methods).sort());
    const h = node.ledger.head.height;
    const block = await admin.call('chain_getBlock', [h]);
    const pendingTx = transfer(alice, 200n, 1n); // a nonce gap: waits in the mempool
    await admin.call('tx_send', [toHex(pendingTx.serialize())]);
    const nonce = BigInt((await admin.call('chain_getAccount', [alice.address.toString()])).pendingNonce);
    const peer = await peerIdOf(PrivateKey.fromSeed(new Uint8Array(32).fill(99)));
    const cid = 'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq';
    const nothing = toHex(new Uint8Array(32));
    const calls: Record<string, unknown[]> = {
      node_status: [],
      chain_getParams: [],
      chain_getBlock: [h],
      chain_getHeader: [h],
      chain_getCommit: [h],
      chain_getValidators: [],
      chain_getAccount: [alice.address.toString()],
      chain_getAccountTxs: [alice.address.toString(), { limit: 5 }],
      state_getProof: [toHex(accountKey(alice.address))],
      name_resolve: ['nobody', { proof: true }],
      name_reverse: [alice.address.toString()],
      storage_put: [{ data: '0x68656c6c6f' }],
      publish_get: [cid],
      search_query: [{ q: 'nothing here' }],
      storage_get: [cid],
      storage_stat: [cid],
      storage_providers: [],
      storage_usage: [alice.address.toString()],
      storage_delete: [nothing],
      comm_history: [{ limit: 5 }],
      comm_info: [],
      comm_send: ['nobody-here', 'hello'],
      comm_attachment: [toHex(new Uint8Array(16)), 0],
      control_getParams: [],
      control_getNode: [alice.address.toString()],
      app_get: [nothing],
      app_list: [{ limit: 5 }],
      app_hosted: [],
      app_query: [{ app: nothing, method: 'get' }],
      app_callHosted: [{ via: 'nobody-here', app: nothing, method: 'get' }],
      admin_appServe: [nothing],
      tx_send: [toHex(transfer(alice, nonce, 1n).serialize())],
      tx_sendCommit: [toHex(transfer(alice, nonce + 1n, 1n).serialize())],
      tx_get: [toHex(pendingTx.hash())],
      admin_peers: [],
      admin_ban: [peer, 60],
      admin_unban: [peer],
      admin_setLogLevel: ['silent'],
      admin_mempoolFlush: [],
      'rpc.discover': [],
    };
    /** The result matches the method's schema, or the error is one rpc.discover lists for it (never -32603). */
    const check = (m: string, outcome: { result: unknown } | { error: RpcResponseError }) => {
      if ('error' in outcome) {
        const { code, message } = outcome.error;
        const documented = code !== RpcCode.InternalError && (listed.get(m)?.has(code) ?? false);
        expect([m, code, documented ? 'documented' : message]).toEqual([m, code, 'documented']);
        return;
      }
      let problem: string | null = null;
      try {
        vosApi.methods[m as keyof typeof vosApi.methods].result.parse(outcome.result);
      } catch (err) {
        problem = String(err);
      }
      expect([m, problem]).toEqual([m, null]);
    };
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (result) => ({ result }),
        (error: RpcResponseError) => ({ error }),
      );
    const answered = new Set<string>();
    for (const [m, params] of Object.entries(calls)) {
      const o = await outcome(admin.call<unknown>(m, params));
      check(m, o);
      answered.add(m);
      // These answer with a result here; an error would mean the node or the sweep is broken.
      if (['tx_send', 'tx_sendCommit', 'chain_getAccountTxs', 'storage_put'].includes(m))
        expect([m, 'result' in o]).toEqual([m, true]);
    }
    // The WebSocket-only methods, through the typed WebSocket client.
    const ws = await RpcClient.connectWs(node.rpcUrl, { token: ADMIN_TOKEN });
    try {
      const sub = await outcome(ws.call('vos_subscribe', ['newHeads']));
      check('vos_subscribe', sub);
      const filtered = await outcome(
        ws.call('vos_subscribe', ['txs', { account: alice.address.toString() }]),
      );
      check('vos_subscribe', filtered);
      const comm = await outcome(ws.call('comm_subscribe'));
      check('comm_subscribe', comm);
      check(
        'vos_unsubscribe',
        await outcome(ws.call('vos_unsubscribe', [(sub as { result: string }).result])),
      );
      for (const m of ['vos_subscribe', 'vos_unsubscribe', 'comm_subscribe']) answered.add(m);
    } finally {
      ws.close();
    }
    expect([...listed.keys()].filter((m) => !answered.has(m))).toEqual([]);
    expect(block?.hash).toBe(toHex((await node.ledger.store.getBlock(h))!.hash()));
    // Unknown things answer null, which the schemas allow.
    for (const [m, p] of [
      ['chain_getBlock', [h + 1000]],
      ['tx_get', [toHex(new Uint8Array(32))]],
    ] as const) {
      const r = await admin.call<unknown>(m, [...p]);
      expect(r).toBeNull();
    }
  });

  it('rpc.discover lists every method of the table with params and result schemas', async () => {
    const doc = await rpc.call('rpc.discover');
    expect(doc.methods.map((m) => m.name).sort()).toEqual(Object.keys(vosApi.methods).sort());
    for (const m of doc.methods) {
      expect(m.result).toMatchObject({ schema: expect.any(Object) });
      expect(Array.isArray(m.params)).toBe(true);
    }
    const proof = doc.methods.find((m) => m.name === 'state_getProof') as {
      params: { name: string; required: boolean }[];
      result: { schema: { properties: Record<string, unknown>; required: string[] } };
    };
    expect(proof.params.map((p) => [p.name, p.required])).toEqual([
      ['key', true],
      ['height', false],
    ]);
    expect(proof.result.schema.required).toEqual(
      expect.arrayContaining(['height', 'stateRoot', 'header', 'commit', 'siblings']),
    );
  });

  it('subscriptions: newHeads and txs are published; an unknown topic is refused', async () => {
    const ws = await RpcClient.connectWs(node.rpcUrl);
    try {
      const head = await new Promise<{ height: number; hash: string; txs: number }>((resolve) => {
        void ws.subscribe('newHeads', resolve);
      });
      expect(head.hash).toMatch(/^0x[0-9a-f]{64}$/);
      await expect(ws.call<string>('vos_subscribe', ['nonsense'])).rejects.toMatchObject({
        code: RpcCode.InvalidParams,
        message: 'invalid param "topic": expected one of newHeads, txs, names, messages',
      });
    } finally {
      ws.close();
    }
  });

  it('node_status.dns is the DNS gateway port: it answers the SOA of vos. with the height as serial', async () => {
    const status = await rpc.call('node_status');
    expect(status.chainId).toBe('vos-it');
    expect(typeof status.dns).toBe('number');
    const udp = createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      udp.once('message', resolve);
      udp.once('error', reject);
      udp.send(
        dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'SOA', name: 'vos' }] }),
        status.dns as number,
        '127.0.0.1',
      );
    }).finally(() => udp.close());
    const soa = dnsPacket.decode(reply).answers?.[0] as dnsPacket.SoaAnswer;
    expect(soa.data.serial).toBeGreaterThanOrEqual(status.height);
  });

  it("refuses Host: attacker.example (DNS rebinding) over HTTP and WebSocket; accepts the node's own address", async () => {
    const refused = await httpRequest(node.rpcUrl, {
      body: rpcBody('node_status'),
      headers: { host: 'attacker.example' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json().error.message).toContain('rpc.hosts');
    expect(
      (await httpRequest(node.rpcUrl, { path: '/metrics', headers: { host: 'attacker.example' } })).status,
    ).toBe(403);
    const ok = await httpRequest(node.rpcUrl, { body: rpcBody('node_status') });
    expect(ok.status).toBe(200);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(node.rpcUrl.replace('http', 'ws'), { headers: { host: 'attacker.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(status).toBe(403);
    const cross = await httpRequest(node.rpcUrl, {
      body: rpcBody('node_status'),
      headers: { origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
    expect(cross.json().error.message).toContain('rpc.corsOrigins');
  });

  it('admin_ methods need the token; they flush the mempool, set the log level and ban/unban peers', async () => {
    await expect(rpc.call('admin_mempoolFlush')).rejects.toMatchObject({ code: RpcCode.Unauthorized });
    const admin = new RpcClient(node.rpcUrl, { token: ADMIN_TOKEN });
    await admin.call('tx_send', [toHex(transfer(alice, 201n, 1n).serialize())]);
    expect(node.mempool.size).toBeGreaterThan(0);
    const flushed = await admin.call('admin_mempoolFlush');
    expect(flushed.removed).toBeGreaterThan(0);
    expect(node.mempool.size).toBe(0);
    expect(await admin.call('admin_setLogLevel', ['debug'])).toEqual({ level: 'debug', previous: 'silent' });
    expect(await admin.call('admin_setLogLevel', ['silent'])).toEqual({ level: 'silent', previous: 'debug' });
    await expect(admin.call<unknown>('admin_setLogLevel', ['loud'])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
    });
    const peer = await peerIdOf(PrivateKey.fromSeed(new Uint8Array(32).fill(98)));
    const ban = await admin.call('admin_ban', [peer]);
    expect(ban.id).toBe(peer);
    expect(ban.until).toBeGreaterThan(Date.now() + 3_500_000);
    expect((await admin.call('admin_peers')).banned.map((b) => b.id)).toContain(peer);
    expect(await admin.call('admin_unban', [peer])).toEqual({ id: peer, wasBanned: true });
    expect(await admin.call('admin_unban', [peer])).toEqual({ id: peer, wasBanned: false });
    expect((await admin.call('admin_peers')).banned).toEqual([]);
    await expect(admin.call('admin_ban', ['not-a-peer'])).rejects.toMatchObject({
      code: RpcCode.InvalidParams,
    });
  });

  it('tx_sendCommit waits on one index by tx hash, not on a block listener per caller', async () => {
    const next = BigInt((await rpc.call('chain_getAccount', [alice.address.toString()])).pendingNonce);
    const listeners = node.events.listenerCount('block');
    // Five txs behind a nonce gap wait in the mempool; their callers wait for the commit.
    const later = [1n, 2n, 3n, 4n, 5n].map((d) =>
      rpc.call('tx_sendCommit', [toHex(transfer(alice, next + d, 1n).serialize())]),
    );
    for (let i = 0; i < 200 && node.txWaiters.size < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(node.txWaiters.size).toBe(5);
    expect(node.events.listenerCount('block')).toBe(listeners);
    // Filling the gap commits all six.
    const first = await rpc.call('tx_sendCommit', [toHex(transfer(alice, next, 1n).serialize())]);
    const rest = await Promise.all(later);
    expect(first.receipt.status).toBe('ok');
    expect(rest.map((r) => r.receipt.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(node.txWaiters.size).toBe(0);
  });

  it('GET / serves the built web app: index with a same-origin CSP, hashed assets cached, gzip, 304, 404', async () => {
    const res = await fetch(`${node.rpcUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    for (const s of ['href="/healthz"', 'href="/metrics"', 'rpc.discover', 'POST']) expect(html).toContain(s);
    const js = /src="(\/app\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${node.rpcUrl}${js}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await asset.text()).length).toBeGreaterThan(10_000);
    const etag = asset.headers.get('etag');
    expect(etag).not.toBeNull();
    const again = await fetch(`${node.rpcUrl}${js}`, { headers: { 'if-none-match': etag as string } });
    expect(again.status).toBe(304);
    expect((await fetch(`${node.rpcUrl}/app/main-NOPE.js`)).status).toBe(404);
  });

  it('without a bundle, / is a small page with the chain, its height and how to call the RPC (escaped)', () => {
    const html = fallbackPage({ chainId: 'vos-it<script>', height: 7, rpcUrl: 'http://127.0.0.1:1' });
    expect(html).toContain('vos-it&lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('height <strong>7</strong>');
    for (const s of ['href="/healthz"', 'href="/metrics"', 'rpc.discover', 'POST', 'curl', 'npm run build'])
      expect(html).toContain(s);
  });

  it('/metrics: vos_ names without a doubled prefix, no NaN, sane event-loop figures, rejections by code', async () => {
    const before = node.mempool.size;
    await rpc.call<unknown>('tx_send', ['0xdeadbeef']).catch(() => undefined);
    await rpc.call<unknown>('tx_send', [toHex(transfer(alice, 0n, 1n).serialize())]).catch(() => undefined);
    expect(node.mempool.size).toBe(before);
    // Two scrapes in a row: the second sees an empty event-loop window.
    await fetch(`${node.rpcUrl}/metrics`).then((r) => r.text());
    const text = await fetch(`${node.rpcUrl}/metrics`).then((r) => r.text());
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.filter((l) => l.includes('vos_process_process_'))).toEqual([]);
    expect(samples.filter((l) => /\s(nan|[+-]?inf)$/i.test(l) && !l.includes('le="+Inf"'))).toEqual([]);
    expect(text).toContain('vos_process_cpu_seconds_total');
    expect(text).toContain('vos_nodejs_eventloop_lag_p99_seconds');
    for (const l of samples.filter((x) => x.startsWith('vos_nodejs_eventloop_lag_'))) {
      const v = Number(l.split(' ').pop());
      expect([l, v >= 0 && v < 3600]).toEqual([l, true]);
    }
    expect(text).toContain('vos_mempool_rejected_total{code="TX_MALFORMED"} 1');
    expect(text).toContain('vos_mempool_rejected_total{code="TX_NONCE_TOO_LOW"} 1');
  });
});
