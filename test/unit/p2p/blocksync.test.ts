/**
 * Block sync between in-process libp2p hosts on 127.0.0.1: a real chain serves, a fresh ledger of the
 * same genesis syncs and verifies every commit. Fake peers are BlockSync servers over lying sources:
 * a head they do not have, commits that do not verify, a response that never comes, one too large.
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Block } from '../../../chain/block.js';
import { frameBudget } from '../../../chain/budget.js';
import { encodeRlp } from '../../../chain/codec.js';
import type { Commit } from '../../../chain/commit.js';
import { verifyCommit } from '../../../chain/commit-verify.js';
import { PrivateKey } from '../../../chain/keys.js';
import { inlineVerifier } from '../../../chain/ledger/verifier.js';
import { type BlockSource, BlockSync, type BlockSyncOptions, planSync } from '../../../p2p/blocksync.js';
import { frame, readFrames } from '../../../p2p/framing.js';
import { createHost, type VosHost } from '../../../p2p/host.js';
import { VosError } from '../../../util/errors.js';
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.js';

const keys = [1, 2, 3, 4].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(40 + i)));
const N = 30;
const chainId = 'vos-test';
const maxFrameBytes = frameBudget({ maxBlockBytes: 64 * 1024, maxValidators: 4 }).blocksyncFrame;

let source: TestChain;
let cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  source = await openTestChain(keys);
  let last: Commit | null = null;
  for (let i = 0; i < N; i++) last = (await produceBlock(source, [], last)).commit;
}, 60_000);

afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

async function host(): Promise<VosHost> {
  const h = await createHost({ key: PrivateKey.generate(), chainId, listen: ['/ip4/127.0.0.1/tcp/0'] });
  cleanups.push(async () => h.stop());
  return h;
}

function addr(h: VosHost): string {
  return h.getMultiaddrs()[0].toString();
}

function storeSource(chain: TestChain): BlockSource {
  return {
    headHeight: () => chain.ledger.head.height,
    getBlockRange: (from, to) => chain.ledger.store.getBlockRange(from, to),
  };
}

/** A peer serving `src` (not syncing itself: it claims to be ahead of everyone). */
async function peer(src: BlockSource, o: Partial<BlockSyncOptions> = {}) {
  const h = await host();
  const faults: string[] = [];
  const s = new BlockSync({
    host: h,
    chainId,
    source: src,
    apply: async () => false,
    maxFrameBytes,
    intervalMs: 60_000,
    onPeerFault: (_p, err) => faults.push(err instanceof VosError ? err.code : String(err)),
    ...o,
  });
  await s.start();
  cleanups.push(() => s.stop());
  return { host: h, sync: s, faults };
}

/** A fresh ledger of the same genesis that syncs, checking every commit as the node does. */
async function syncer(o: Partial<BlockSyncOptions> = {}) {
  const chain = await openTestChain(keys);
  cleanups.push(() => chain.close());
  const h = await host();
  const faults: { peer: string; code: string }[] = [];
  const ledger = chain.ledger;
  const apply = async (block: Block, commit: Commit) => {
    if (block.height !== ledger.head.height + 1) return false;
    const execution = await ledger.executeBlock(block);
    await verifyCommit(
      chainId,
      await ledger.validatorsAt(block.height),
      commit,
      block.height,
      block.hash(),
      inlineVerifier,
    );
    await ledger.commitBlock(block, commit, execution);
    return true;
  };
  const s = new BlockSync({
    host: h,
    chainId,
    source: storeSource(chain),
    apply,
    maxFrameBytes,
    intervalMs: 100,
    onPeerFault: (p: PeerId, err) =>
      faults.push({ peer: p.toString(), code: err instanceof VosError ? err.code : String(err) }),
    ...o,
  });
  await s.start();
  cleanups.push(() => s.stop());
  return { chain, host: h, sync: s, faults };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('planSync', () => {
  it('targets a height two peers claim, or at most STEP past ours on one claim', () => {
    expect(planSync([], 10)).toBeNull();
    expect(planSync([{ peer: 'a', height: 10 }], 10)).toBeNull();
    // One peer: capped, and the claims are asked again after the step.
    expect(planSync([{ peer: 'a', height: 1_000_000 }], 10, 100)?.target).toBe(110);
    expect(planSync([{ peer: 'a', height: 50 }], 10, 100)?.target).toBe(50);
    // A liar far above the others: the target is what a second peer claims (the liar is asked first).
    const p = planSync(
      [
        { peer: 'honest', height: 5000 },
        { peer: 'liar', height: 1e9 },
        { peer: 'behind', height: 3 },
      ],
      10,
      100,
    );
    expect(p?.target).toBe(5000);
    expect(p?.peers.map((x) => x.peer)).toEqual(['liar', 'honest']);
  });
});

describe('block sync', () => {
  it('syncs every block from an honest peer, in short responses (its byte budget) continued in order', async () => {
    const server = await peer(storeSource(source), { responseBytes: 3000 });
    const s = await syncer({ responseBytes: 3000 });
    await s.host.dial(multiaddr(addr(server.host)));
    await until('synced', () => s.chain.ledger.head.height === N);
    expect(s.sync.synced).toBe(N);
    expect(s.faults).toEqual([]);
    expect(server.faults).toEqual([]);
    for (const h of [1, 15, N])
      expect((await s.chain.ledger.store.getBlock(h))!.hash()).toEqual(
        (await source.ledger.store.getBlock(h))!.hash(),
      );
  }, 30_000);

  it('a peer that claims a head and serves nothing is penalised; sync goes on from an honest one', async () => {
    const liar = await peer({ headHeight: () => 1_000_000, getBlockRange: async () => [] });
    const honest = await peer(storeSource(source));
    const s = await syncer();
    await s.host.dial(multiaddr(addr(liar.host)));
    await s.host.dial(multiaddr(addr(honest.host)));
    await until('synced', () => s.chain.ledger.head.height === N);
    const liarId = liar.host.peerId.toString();
    expect(s.faults.filter((f) => f.peer === liarId).map((f) => f.code)).toContain('SYNC_EMPTY_RESPONSE');
    expect(s.faults.filter((f) => f.peer !== liarId)).toEqual([]);
  }, 30_000);

  it('an honest chain with a head claim it cannot serve: blocks up to what it has, then penalised', async () => {
    const src = storeSource(source);
    const overclaim = await peer({ headHeight: () => N + 500, getBlockRange: src.getBlockRange });
    const s = await syncer();
    await s.host.dial(multiaddr(addr(overclaim.host)));
    await until('a fault', () => s.faults.length > 0);
    expect(s.chain.ledger.head.height).toBe(N);
    expect(s.faults[0].code).toBe('SYNC_EMPTY_RESPONSE');
  }, 30_000);

  it('blocks whose commits do not verify are never applied and cost the peer score', async () => {
    const src = storeSource(source);
    const forged = await peer({
      headHeight: src.headHeight,
      getBlockRange: async (from, to) =>
        (await src.getBlockRange(from, to)).map(({ block, commit }) => {
          const bad = Uint8Array.from(commit);
          bad[bad.length - 1] ^= 1; // the last signature
          return { block, commit: bad };
        }),
    });
    const s = await syncer();
    await s.host.dial(multiaddr(addr(forged.host)));
    await until('a fault', () => s.faults.length > 0);
    expect(s.faults[0].code).toBe('SYNC_INVALID_BLOCK');
    expect(s.chain.ledger.head.height).toBe(0);
  }, 30_000);

  it('a peer that never answers times out, is penalised, and the next peer serves', async () => {
    const src = storeSource(source);
    const stall = await peer({
      headHeight: () => N + 1000,
      getBlockRange: () => new Promise(() => undefined),
    });
    const honest = await peer(src);
    const s = await syncer({ idleTimeoutMs: 300 });
    await s.host.dial(multiaddr(addr(stall.host)));
    await s.host.dial(multiaddr(addr(honest.host)));
    await until('synced', () => s.chain.ledger.head.height === N);
    expect(s.faults.map((f) => f.code)).toContain('SYNC_TIMEOUT');
    expect(s.faults.every((f) => f.peer === stall.host.peerId.toString())).toBe(true);
  }, 30_000);

  it('a response over the byte budget is refused before more is buffered', async () => {
    const big = await peer(storeSource(source), { responseBytes: 1 << 20 });
    const s = await syncer({ responseBytes: 2000 });
    await s.host.dial(multiaddr(addr(big.host)));
    await until('a fault', () => s.faults.length > 0);
    expect(s.faults[0].code).toBe('BAD_SYNC_RESPONSE');
    // What arrived within the budget was applied; nothing beyond it.
    expect(s.chain.ledger.head.height).toBeLessThan(N);
  }, 30_000);
});

describe('serving block sync is rate-limited per peer', () => {
  it('requests per second: a peer over the rate is refused and penalised', async () => {
    const server = await peer(storeSource(source), { serve: { requestsPerSec: 1, requestBurst: 3 } });
    const client = await host();
    await client.dial(multiaddr(addr(server.host)));
    const ask = async () => {
      const stream = await client.dialProtocol(server.host.peerId, `/vos/${chainId}/blocksync/1`);
      stream.send(frame(encodeRlp([1])));
      await stream.close();
      for await (const _ of readFrames(stream, 64)) return true;
      return false;
    };
    const answered = [];
    for (let i = 0; i < 6; i++) answered.push(await ask().catch(() => false));
    expect(answered.filter(Boolean).length).toBe(3);
    expect(server.faults).toContain('SYNC_RATE_LIMITED');
  }, 30_000);

  it('bytes per second: the response is paced to the rate', async () => {
    const waits: number[] = [];
    const bytesPerSec = 2000;
    const server = await peer(storeSource(source), {
      maxFrameBytes: 4096,
      serve: { bytesPerSec },
      sleep: async (ms) => void waits.push(ms),
    });
    const s = await syncer();
    await s.host.dial(multiaddr(addr(server.host)));
    await until('synced', () => s.chain.ledger.head.height === N);
    let total = 0;
    for (const { block, commit } of await source.ledger.store.getBlockRange(1, N))
      total += frame(encodeRlp([block, commit])).length;
    // The burst (one frame's worth) goes at once, the rest at 2,000 bytes/s.
    const paced = waits.reduce((a, b) => a + b, 0);
    expect(paced).toBeGreaterThan(((total - 4096) / bytesPerSec) * 1000 * 0.9);
  }, 30_000);
});

describe('weak subjectivity: a trusted height and hash', () => {
  it('a wrong trusted hash: nothing is synced from an honest peer, which is refused, and the node says why', async () => {
    const honest = await peer(storeSource(source));
    const wrong = new Uint8Array(32).fill(9);
    const s = await syncer({ trust: { height: 10, hash: wrong } });
    await s.host.dial(multiaddr(addr(honest.host)));
    await until('a refusal', () => s.sync.refusal !== null);
    await sleep(300);
    expect(s.chain.ledger.head.height).toBeLessThan(10);
    expect(s.sync.refusal).toMatchObject({
      peer: honest.host.peerId.toString(),
      height: 10,
      hash: `0x${Buffer.from((await source.ledger.store.getBlock(10))!.hash()).toString('hex')}`,
      trusted: `0x${'09'.repeat(32)}`,
    });
    expect(s.faults.map((f) => f.code)).toContain('TRUST_HASH_MISMATCH');
  }, 30_000);

  it('the right trusted hash: syncs past it', async () => {
    const honest = await peer(storeSource(source));
    const hash = (await source.ledger.store.getBlock(10))!.hash();
    const s = await syncer({ trust: { height: 10, hash } });
    await s.host.dial(multiaddr(addr(honest.host)));
    await until('synced', () => s.chain.ledger.head.height === N);
    expect(s.sync.refusal).toBeNull();
    expect(s.faults).toEqual([]);
  }, 30_000);
});
