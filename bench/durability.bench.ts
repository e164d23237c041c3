/**
 * What durable commits cost, and start-up time at a height of 100,000.
 * - Commit: a block's batch written with LevelDB sync (the consensus path) vs without (block sync's
 *   deferred path), same blocks, same run; baseline: a raw synced vs unsynced LevelDB batch.
 * - Start-up: VosNode.open() on a chain of VOS_BENCH_HEIGHT (default 100,000) blocks and 4 validators,
 *   resuming from the proposer state stored with the head block; the same DB without that record (the
 *   previous behaviour: priorities re-stepped from genesis, O(height x n)); a fresh home (height 0).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Block } from '../chain/block.js';
import { Commit, CommitFlag } from '../chain/commit.js';
import { PrivateKey } from '../chain/keys.js';
import { Ledger } from '../chain/ledger/ledger.js';
import { openChainDb } from '../chain/store/chain-db.js';
import { KEY_PROPOSERS } from '../chain/store/layout.js';
import { Tx, TxKind } from '../chain/tx/index.js';
import { sortValidators } from '../chain/validators.js';
import { Vote, VoteType } from '../chain/vote.js';
import { ProposerSchedule } from '../consensus/proposer-schedule.js';
import { LocalHub } from '../consensus/sim/local-hub.js';
import { createDevGenesis, genesisHash } from '../genesis/genesis.js';
import { defaultConfig, homePaths } from '../node/config.js';
import { VosNode } from '../node/node.js';
import { silentLogger } from '../util/logger.js';

const keys = [1, 2, 3, 4].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(40 + i)));
const genesis = createDevGenesis(keys, { chainId: 'vos-bench', genesisTime: 1_700_000_000_000 });

/** A commit of `block` signed by every validator. */
async function signCommit(ledger: Ledger, block: Block, time: number): Promise<Commit> {
  const vals = sortValidators(await ledger.validatorsAt(block.height));
  const sigs = vals.map((v) => {
    const key = keys.find((k) => k.address.equals(v.address))!;
    const data = {
      type: VoteType.Precommit,
      height: block.height,
      round: 0,
      blockHash: block.hash(),
      time,
      validator: v.address,
    };
    return { flag: CommitFlag.Commit, time, signature: Vote.sign(data, genesis.chainId, key).signature };
  });
  return new Commit(block.height, 0, block.hash(), sigs);
}

async function openLedger(path: string) {
  const { db, stateDb: sub, tree } = await openChainDb(path);
  const ledger = await Ledger.open({
    db,
    state: tree,
    genesis,
    genesisHash: genesisHash(genesis),
    stateSublevel: sub,
  });
  return { db, tree, ledger };
}

/** Build and commit `count` blocks (optionally `txs` transfers each), timing commitBlock alone. */
async function buildChain(path: string, count: number, opts: { sync: boolean; txs: number }) {
  const { db, tree, ledger } = await openLedger(path);
  const schedule = ProposerSchedule.fromGenesis(await ledger.validatorsAt(1));
  let last: Commit | null = (await ledger.store.getCommit(ledger.head.height)) ?? null;
  let commitMs = 0;
  let nonce = (await ledger.getAccount(keys[0].address)).nonce;
  for (let i = 0; i < count; i++) {
    const height = ledger.head.height + 1;
    const time = await ledger.nextBlockTime(last);
    const proposer = (await ledger.validatorsAt(height))[schedule.proposerAt(height, 0)].address;
    const candidates = Array.from({ length: opts.txs }, () =>
      Tx.sign(
        {
          chainId: genesis.chainId,
          nonce: nonce++,
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to: keys[1].address, amount: 1n } },
          gasLimit: 100_000n,
          gasPrice: 1n,
        },
        keys[0],
      ),
    );
    const { block, execution } = await ledger.buildBlock({ time, proposer, lastCommit: last, candidates });
    const commit = await signCommit(ledger, block, time + 1000);
    const extraOps = [ledger.store.proposerStateOp(schedule.snapshot(height + 1).serialize())];
    const t = performance.now();
    await ledger.commitBlock(block, commit, execution, { deferWrite: !opts.sync, extraOps });
    commitMs += performance.now() - t;
    last = commit;
  }
  await ledger.store.settled();
  await tree.close();
  await db.close();
  return { msPerCommit: commitMs / count };
}

async function rawBatches(path: string, n: number) {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const value = new Uint8Array(4096).fill(7);
  const time = async (sync: boolean) => {
    const t = performance.now();
    for (let i = 0; i < n; i++)
      await db.batch([{ type: 'put', key: new Uint8Array([sync ? 1 : 0, i >> 8, i & 255]), value }], {
        sync,
      });
    return (performance.now() - t) / n;
  };
  const unsynced = await time(false);
  const synced = await time(true);
  await db.close();
  return { synced, unsynced };
}

/** Best of three opens (the first one of a process also pays for loading and compiling code). */
async function openNode(home: string): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) best = Math.min(best, await openNodeOnce(home));
  return best;
}

async function openNodeOnce(home: string): Promise<number> {
  const config = defaultConfig({ rpcPort: 0 });
  const t = performance.now();
  const node = await VosNode.create({
    home,
    config,
    genesis,
    key: keys[0],
    logger: silentLogger(),
    transport: new LocalHub().transportFor('bench'),
    verifyWorkers: 0,
  });
  await node.open();
  const ms = performance.now() - t;
  await node.close();
  return ms;
}

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-durable-'));
  try {
    const raw = await rawBatches(join(dir, 'raw'), 300);
    const withSync = await buildChain(join(dir, 'sync'), 300, { sync: true, txs: 100 });
    const noSync = await buildChain(join(dir, 'nosync'), 300, { sync: false, txs: 100 });

    const height = Number(process.env.VOS_BENCH_HEIGHT ?? 100_000);
    const home = join(dir, 'home');
    const buildStart = performance.now();
    await buildChain(homePaths(home).chainDb, height, { sync: false, txs: 0 });
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const fresh = join(dir, 'fresh');
    const startFresh = await openNode(fresh);
    const startWithState = await openNode(home);
    // The previous behaviour: no stored proposer state, priorities re-stepped from genesis.
    {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(homePaths(home).chainDb, {
        keyEncoding: 'view',
        valueEncoding: 'view',
      });
      await db.open();
      await db.del(KEY_PROPOSERS);
      await db.close();
    }
    // Once only: the open writes the state back with the next block it commits (none here).
    const startFromGenesis = await openNodeOnce(home);
    return {
      commitMsSynced: withSync.msPerCommit,
      commitMsUnsynced: noSync.msPerCommit,
      commitSyncCostRatio: withSync.msPerCommit / noSync.msPerCommit,
      rawBatchMsSynced: raw.synced,
      rawBatchMsUnsynced: raw.unsynced,
      rawSyncCostRatio: raw.synced / raw.unsynced,
      startupHeight: height,
      chainBuildSeconds: buildSeconds,
      startupMsWithStoredProposerState: startWithState,
      startupMsReDerivingFromGenesis: startFromGenesis,
      startupMsFreshHome: startFresh,
      startupRatioToFreshHome: startWithState / startFresh,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
