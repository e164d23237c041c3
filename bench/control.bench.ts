/**
 * The control module's epoch end with VOS_BENCH_NODES (default 10,000) nodes' contributions, beside
 * the cost of an empty block in the same run, on a real ledger (LevelDB + state tree) as a validator
 * executes and commits blocks: each node earns through a real `control-receipts` tx (one receipt signed
 * by a funded client) in the epoch after the receipts' epoch; then empty blocks are timed, then the
 * epoch's last block, whose end walks every accrual, sets the threshold and writes each node's record.
 *
 * cost = time(epoch-end block) - median time(empty block); both execute + commit, fsync included.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Block } from '../chain/block.js';
import { Commit, CommitFlag } from '../chain/commit.js';
import { PrivateKey } from '../chain/keys.js';
import { Ledger } from '../chain/ledger/ledger.js';
import { openChainDb } from '../chain/store/chain-db.js';
import { Tx } from '../chain/tx/index.js';
import { Vote, VoteType } from '../chain/vote.js';
import { createDevGenesis, genesisHash } from '../genesis/genesis.js';
import { signReceipt } from '../services/control/receipt.js';
import { controlPayload, lastEpoch } from '../services/control/state.js';
import '../services/storage/state.js';

const progress = (msg: string) =>
  process.stderr.write(`[control ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

const EPOCH = 20;
const PER_BLOCK = 2500;

export async function run(): Promise<Record<string, unknown>> {
  const nodes = Number(process.env.VOS_BENCH_NODES ?? 10_000);
  const validator = PrivateKey.generate();
  const client = PrivateKey.generate();
  const servers = Array.from({ length: nodes }, () => PrivateKey.generate());
  const genesis = createDevGenesis([validator], {
    chainId: 'vos-bench',
    genesisTime: Date.now() - 86_400_000,
    params: { epochLength: EPOCH },
    extraAccounts: [client, ...servers].map((k) => ({ address: k.address, balance: 10n ** 15n })),
  });
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-control-'));
  const { db, stateDb, tree } = await openChainDb(join(dir, 'chain'));
  const ledger = await Ledger.open({
    db,
    state: tree,
    genesis,
    genesisHash: genesisHash(genesis),
    stateSublevel: stateDb,
  });
  let last: Commit | null = null;
  const sign = (block: Block, time: number) => {
    const vote = Vote.sign(
      {
        type: VoteType.Precommit,
        height: block.height,
        round: 0,
        blockHash: block.hash(),
        time,
        validator: validator.address,
      },
      genesis.chainId,
      validator,
    );
    return new Commit(block.height, 0, block.hash(), [
      { flag: CommitFlag.Commit, time, signature: vote.signature },
    ]);
  };
  /** Build (as the proposer), then execute and commit as a validator: returns the validator's ms. */
  const block = async (txs: Tx[]): Promise<number> => {
    const time = await ledger.nextBlockTime(last);
    const { block: b, dropped } = await ledger.buildBlock({
      time,
      proposer: validator.address,
      lastCommit: last,
      candidates: txs,
    });
    if (dropped.length > 0) throw new Error(`dropped ${dropped.length}: ${String(dropped[0].error)}`);
    const t0 = performance.now();
    const verified = await ledger.executeBlock(b);
    last = sign(b, time + 1000);
    await ledger.commitBlock(b, last, verified);
    return performance.now() - t0;
  };
  try {
    while (ledger.head.height < EPOCH) await block([]);
    progress(`${nodes} receipts txs (epoch 1's served bytes, in epoch 2)`);
    const txs = servers.map((s, i) =>
      Tx.sign(
        {
          chainId: genesis.chainId,
          nonce: 0n,
          payload: controlPayload.receipts({
            epoch: 1,
            receipts: [signReceipt(client, genesis.chainId, 1, s.address, 1_000_000 + i)],
          }),
          gasLimit: 1_000_000n,
          gasPrice: 1n,
        },
        s,
      ),
    );
    for (let i = 0; i < txs.length; i += PER_BLOCK) await block(txs.slice(i, i + PER_BLOCK));
    const empty: number[] = [];
    while (ledger.head.height < 2 * EPOCH - 1) empty.push(await block([]));
    progress(`epoch end at height ${ledger.head.height + 1}`);
    const end = await block([]);
    const ep = await lastEpoch({ get: (k) => ledger.getState(k) });
    if (ep?.active !== nodes) throw new Error(`epoch end counted ${ep?.active} nodes, not ${nodes}`);
    empty.sort((a, b) => a - b);
    const emptyMs = empty[Math.floor(empty.length / 2)];
    return {
      nodes,
      epochEndBlockMs: end,
      emptyBlockMs: emptyMs,
      epochEndCostMs: end - emptyMs,
      epochEndPerNodeUs: ((end - emptyMs) * 1000) / nodes,
      ratioToEmptyBlock: end / emptyMs,
      threshold: ep.threshold.toString(),
    };
  } finally {
    await tree.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
