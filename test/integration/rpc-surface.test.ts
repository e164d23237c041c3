/**
 * The JSON-RPC surface of one in-process validator beyond node.test.ts: an account's txs page by page
 * (chain_getAccountTxs), the txs topic filtered by account, the names topic (registration, update,
 * transfer and its taking effect, expiry), and a bounded flood against the per-IP rate limit while the
 * node keeps committing. The flood runs last: it spends the loopback bucket every test here shares.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../chain/keys.js';
import { DEFAULT_NAMING_PARAMS } from '../../chain/ledger/params.js';
import { Tx, type TxPayload } from '../../chain/tx/index.js';
import { TxKind } from '../../chain/tx/kinds.js';
import { createDevGenesis } from '../../genesis/genesis.js';
import { defaultConfig } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { RpcClient } from '../../rpc/client.js';
import { RpcCode, RpcResponseError } from '../../rpc/errors.js';
import type { NameEventJSON, TxEventJSON } from '../../rpc/methods.js';
import { commitHash } from '../../services/naming/layout.js';
import { EMPTY_RECORDS } from '../../services/naming/records.js';
import { namePayload } from '../../services/naming/state.js';
import { toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(41));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(42));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(43));
const carol = PrivateKey.fromSeed(new Uint8Array(32).fill(44));
const REGISTRATION_PERIOD = 40;
const genesis = createDevGenesis([validator], {
  chainId: 'vos-rpc-it',
  genesisTime: Date.now(),
  extraAccounts: [alice, bob].map((k) => ({ address: k.address, balance: 10n ** 15n })),
  params: {
    naming: { ...DEFAULT_NAMING_PARAMS, registrationPeriod: REGISTRATION_PERIOD, transferLockup: 2 },
  },
});
const config = defaultConfig({ rpcPort: 0 });
config.consensus.emptyBlockIntervalMs = 100;
config.consensus.timeoutProposeMs = 1000;

let home: string;
let node: VosNode;
let rpc: RpcClient;
const nonces = new Map<string, bigint>();

function sign(key: PrivateKey, payload: TxPayload): Tx {
  const a = key.address.toString();
  const nonce = nonces.get(a) ?? 0n;
  nonces.set(a, nonce + 1n);
  return Tx.sign({ chainId: genesis.chainId, nonce, payload, gasLimit: 200_000n, gasPrice: 1n }, key);
}

const transferTo = (to: PrivateKey, amount = 1n): TxPayload => ({
  kind: TxKind.Transfer,
  body: { to: to.address, amount },
});

async function commit(tx: Tx) {
  const r = await rpc.call('tx_sendCommit', [toHex(tx.serialize())]);
  expect([r.receipt.status, r.receipt.error]).toEqual(['ok', null]);
  return r;
}

async function waitFor<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vos-rpc-it-'));
  node = await VosNode.create({ home, config, genesis, key: validator, logger: silentLogger() });
  await node.open();
  rpc = new RpcClient(node.rpcUrl);
});
afterAll(async () => {
  await node?.close();
  await rm(home, { recursive: true, force: true });
});

describe('JSON-RPC surface', () => {
  it('chain_getAccountTxs pages an account: newest first, sent and received, cursor null at the end', async () => {
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await commit(sign(alice, transferTo(bob, BigInt(i + 1)))));
    const received = await commit(sign(bob, transferTo(alice)));
    const self = await commit(sign(alice, transferTo(alice)));
    const want = [self, received, ...sent.reverse()].map((r) => r.hash);

    const seen: { hash: string; role: string; kind: string; status: string }[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await rpc.call('chain_getAccountTxs', [
        alice.address.toString(),
        cursor === undefined || cursor === null ? { limit: 3 } : { limit: 3, before: cursor },
      ]);
      expect(page.txs.length).toBeLessThanOrEqual(3);
      seen.push(...page.txs);
      cursor = page.cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen.map((t) => t.hash)).toEqual(want);
    expect(pages).toBe(3);
    expect(seen.map((t) => t.role)).toEqual([
      'both',
      'recipient',
      'sender',
      'sender',
      'sender',
      'sender',
      'sender',
    ]);
    expect(seen.every((t) => t.kind === 'transfer' && t.status === 'ok')).toBe(true);
    // Heights never increase down the list, and each entry is where tx_get finds it.
    const first = (await rpc.call('chain_getAccountTxs', [alice.address.toString()])).txs[0];
    const got = await rpc.call('tx_get', [first.hash]);
    expect([got?.height, got?.index]).toEqual([first.height, first.index]);
    // Bob's list has the five he received and the one he sent.
    const bobs = await rpc.call('chain_getAccountTxs', [bob.address.toString(), { limit: 100 }]);
    expect(bobs.txs.map((t) => t.role)).toEqual(['sender', ...Array(5).fill('recipient')]);
    expect(bobs.cursor).toBeNull();
    // An account with none, and a malformed cursor.
    expect(await rpc.call('chain_getAccountTxs', [carol.address.toString()])).toEqual({
      txs: [],
      cursor: null,
    });
    await expect(
      rpc.call('chain_getAccountTxs', [alice.address.toString(), { before: 'yesterday' }]),
    ).rejects.toMatchObject({ code: RpcCode.InvalidParams });
  });

  it('txs subscriptions filtered by account get the txs that account sent or received; unfiltered get all', async () => {
    const ws = await RpcClient.connectWs(node.rpcUrl);
    try {
      const all: TxEventJSON[] = [];
      const carols: TxEventJSON[] = [];
      await ws.subscribe('txs', (p) => all.push(p));
      await ws.subscribe('txs', (p) => carols.push(p), { account: carol.address.toString() });
      const a = await commit(sign(alice, transferTo(bob)));
      const b = await commit(sign(bob, transferTo(carol)));
      const c = await commit(sign(alice, transferTo(bob)));
      await waitFor('the txs events', () => (all.some((e) => e.hash === c.hash) ? true : undefined));
      expect(all.map((e) => e.hash)).toEqual(expect.arrayContaining([a.hash, b.hash, c.hash]));
      expect(carols.map((e) => e.hash)).toEqual([b.hash]);
      expect(carols[0]).toMatchObject({
        from: bob.address.toString(),
        to: carol.address.toString(),
        kind: 'transfer',
        height: b.height,
        receipt: { status: 'ok' },
      });
    } finally {
      ws.close();
    }
  });

  it('names: register, update, transfer, the transfer taking effect and the expiry arrive as blocks commit them', async () => {
    const ws = await RpcClient.connectWs(node.rpcUrl);
    try {
      const events: NameEventJSON[] = [];
      const other: NameEventJSON[] = [];
      await ws.subscribe('names', (p) => events.push(p), { name: 'rpc-surface' });
      await ws.subscribe('names', (p) => other.push(p), { name: 'someone-else' });
      const name = 'rpc-surface';
      const salt = randomBytes(32);
      await commit(sign(alice, namePayload.commit(commitHash(name, alice.address, salt))));
      const reveal = await commit(sign(alice, namePayload.reveal(name, salt)));
      const reg = await waitFor('register', () => events.find((e) => e.kind === 'register'));
      expect(reg).toEqual({
        name,
        owner: alice.address.toString(),
        height: reveal.height,
        kind: 'register',
        tx: reveal.hash,
        expires: reveal.height + REGISTRATION_PERIOD,
      });
      const upd = await commit(sign(alice, namePayload.update(name, { ...EMPTY_RECORDS, txt: ['hello'] })));
      await waitFor('update', () => events.find((e) => e.kind === 'update' && e.tx === upd.hash));
      const tr = await commit(sign(alice, namePayload.transfer(name, bob.publicKey)));
      const started = await waitFor('transfer', () => events.find((e) => e.kind === 'transfer'));
      expect(started).toMatchObject({ to: bob.address.toString(), effectiveAt: tr.height + 2 });
      const effective = await waitFor('transfer-effective', () =>
        events.find((e) => e.kind === 'transfer-effective'),
      );
      expect(effective).toMatchObject({
        owner: bob.address.toString(),
        previousOwner: alice.address.toString(),
        height: tr.height + 3,
        tx: null,
      });
      const expired = await waitFor('expire', () => events.find((e) => e.kind === 'expire'), 60_000);
      expect(expired).toMatchObject({ owner: bob.address.toString(), height: reg.expires + 1 });
      expect(other).toEqual([]);
      // The node agrees: the name no longer resolves as active.
      expect((await rpc.call('name_resolve', [name])).status).toBe('grace');
    } finally {
      ws.close();
    }
  }, 90_000);

  it('a bounded flood gets -32005 rate-limit errors while the node keeps committing; a normal client works after the window', async () => {
    const strict = new RpcClient(node.rpcUrl, { rateLimitRetries: 0 });
    const startHeight = node.ledger.head.height;
    const { ratePerIp, rateBurst } = config.rpc;
    let ok = 0;
    let limited: RpcResponseError | undefined;
    // Batches of 100 node_status, until refused or at most 3 buckets' worth.
    for (let sent = 0; sent < 3 * rateBurst && limited === undefined; sent += 100) {
      const answers = await strict.batch(Array.from({ length: 100 }, () => ({ method: 'node_status' })));
      for (const a of answers) {
        if (a instanceof RpcResponseError) limited ??= a;
        else ok++;
      }
    }
    expect(limited).toBeDefined();
    expect(limited!.code).toBe(RpcCode.LimitExceeded);
    expect(limited!.message).toMatch(
      new RegExp(`^rate limit: ${ratePerIp} requests/s per IP \\(rpc\\.ratePerIp\\)`),
    );
    expect(ok).toBeGreaterThanOrEqual(rateBurst);
    // Refused before any work: the node went on committing blocks.
    await waitFor('blocks during the flood', () =>
      node.ledger.head.height > startHeight + 2 ? true : undefined,
    );
    const wait = (limited!.data as { retryAfterMs: number }).retryAfterMs;
    await new Promise((r) => setTimeout(r, wait + 50));
    expect((await strict.call('node_status')).height).toBeGreaterThan(startHeight);
  });
});
