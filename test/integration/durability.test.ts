/**
 * Durable commits under a simulated power loss. The chain DB is wrapped so that every batch written
 * without `sync` can be taken back (the OS page cache lost): its previous values are recorded and
 * restored on `powerLoss()`; a synced batch makes everything before it durable, as LevelDB's
 * sequential log does. A block committed by consensus survives; block sync's deferred writes survive
 * only up to the last ensureDurable().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClassicLevel } from 'classic-level';
import type { Commit } from '../../chain/commit.js';
import { PrivateKey } from '../../chain/keys.js';
import { Ledger } from '../../chain/ledger/ledger.js';
import type { BatchOp, ChainDb } from '../../chain/store/block-store.js';
import { openChainDb } from '../../chain/store/chain-db.js';
import { createDevGenesis, genesisHash } from '../../genesis/genesis.js';
import { toHex } from '../../util/bytes.js';
import { produceBlock, signCommit, type TestChain } from '../helpers/chain.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type Sub = ReturnType<Db['sublevel']>;

/** A chain DB whose unsynced batches a power loss takes back. */
function lossyDb(real: Db): { db: ChainDb; powerLoss(): Promise<void>; unsynced(): number } {
  let undo: { sublevel?: Sub; key: Uint8Array; prev: Uint8Array | undefined }[] = [];
  const batch = async (ops: BatchOp[], opts?: { sync?: boolean }) => {
    if (opts?.sync !== true) {
      for (const op of ops) {
        const where = (op.sublevel as Sub | undefined) ?? real;
        undo.push({
          sublevel: op.sublevel as Sub | undefined,
          key: op.key,
          prev: (await where.get(op.key)) as Uint8Array | undefined,
        });
      }
    }
    // biome-ignore lint/suspicious/noExplicitAny: classic-level's batch op type is generic over sublevels.
    await real.batch(ops as any, opts ?? {});
    if (opts?.sync === true) undo = [];
  };
  const db = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'batch') return batch;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as ChainDb;
  return {
    db,
    unsynced: () => undo.length,
    async powerLoss() {
      const back = undo.reverse().map((u) =>
        u.prev === undefined
          ? { type: 'del' as const, key: u.key, ...(u.sublevel ? { sublevel: u.sublevel } : {}) }
          : {
              type: 'put' as const,
              key: u.key,
              value: u.prev,
              ...(u.sublevel ? { sublevel: u.sublevel } : {}),
            },
      );
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      await real.batch(back as any);
      undo = [];
      await real.close();
    },
  };
}

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(3));
const genesis = createDevGenesis([key], { chainId: 'vos-test', genesisTime: 1_700_000_000_000 });
let dir: string | undefined;

afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function open(path: string, lossy: boolean) {
  const { db: real, stateDb: sub, tree } = await openChainDb(path);
  const shim = lossy ? lossyDb(real) : undefined;
  const ledger = await Ledger.open({
    db: shim?.db ?? real,
    state: tree,
    genesis,
    genesisHash: genesisHash(genesis),
    stateSublevel: sub,
  });
  const chain: TestChain = {
    ledger,
    genesis,
    keys: [key],
    dir: path,
    db: real,
    tree,
    close: async () => real.close(),
    reopen: async () => {
      throw new Error('not used');
    },
  };
  return { chain, shim, real };
}

describe('durable commits (simulated loss of unsynced writes)', () => {
  it('blocks committed by consensus survive a power loss', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-durable-'));
    const { chain, shim } = await open(join(dir, 'chain'), true);
    let last: Commit | null = null;
    for (let i = 0; i < 3; i++) last = (await produceBlock(chain, [], last)).commit;
    const head = chain.ledger.head;
    expect(shim!.unsynced()).toBe(0);
    await shim!.powerLoss();
    const after = await open(join(dir, 'chain'), false);
    expect(after.chain.ledger.head.height).toBe(3);
    expect(toHex(after.chain.ledger.head.stateRoot)).toBe(toHex(head.stateRoot));
    await after.real.close();
  });

  it("block sync's deferred writes are lost only after the last ensureDurable()", async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-durable-'));
    const { chain, shim } = await open(join(dir, 'chain'), true);
    let last: Commit | null = null;
    const deferred = async () => {
      const time = await chain.ledger.nextBlockTime(last);
      const { block } = await chain.ledger.buildBlock({
        time,
        proposer: key.address,
        lastCommit: last,
        candidates: [],
      });
      const execution = await chain.ledger.executeBlock(block);
      const commit = await signCommit(chain, block, time + 1000);
      await chain.ledger.commitBlock(block, commit, execution, { deferWrite: true });
      last = commit;
    };
    for (let i = 0; i < 3; i++) await deferred();
    await chain.ledger.ensureDurable();
    const durable = chain.ledger.head;
    for (let i = 0; i < 2; i++) await deferred();
    await chain.ledger.store.settled();
    expect(chain.ledger.head.height).toBe(5);
    expect(shim!.unsynced()).toBeGreaterThan(0);
    await shim!.powerLoss();
    const after = await open(join(dir, 'chain'), false);
    expect(after.chain.ledger.head.height).toBe(3);
    expect(toHex(after.chain.ledger.head.hash)).toBe(toHex(durable.hash));
    await after.real.close();
  });
});
