/** Test fixtures: a real ledger on a temp LevelDB with a real state tree, and real signed commits. */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClassicLevel } from 'classic-level';
import type { Block } from '../../chain/block.js';
import { Commit, CommitFlag, type CommitSig } from '../../chain/commit.js';
import type { PrivateKey } from '../../chain/keys.js';
import { type Execution, Ledger } from '../../chain/ledger/ledger.js';
import type { ChainParams, GenesisState } from '../../chain/ledger/params.js';
import { ReceiptStatus } from '../../chain/receipt.js';
import type { StateTree } from '../../chain/state/tree.js';
import { openChainDb } from '../../chain/store/chain-db.js';
import type { TxPayload } from '../../chain/tx/kinds.js';
import { type Tx, Tx as TxClass } from '../../chain/tx/tx.js';
import { sortValidators } from '../../chain/validators.js';
import { Vote, VoteType } from '../../chain/vote.js';
import { createDevGenesis, genesisHash } from '../../genesis/genesis.js';
import { NAME_REC_PREFIX } from '../../services/naming/layout.js';
import { PUB_PREFIX } from '../../services/publish/layout.js';

export interface TestChain {
  ledger: Ledger;
  genesis: GenesisState;
  keys: PrivateKey[];
  dir: string;
  db: ClassicLevel<Uint8Array, Uint8Array>;
  tree: StateTree;
  close(): Promise<void>;
  /** Reopen the same data dir (restart). */
  reopen(): Promise<TestChain>;
}

export async function openLedgerAt(
  dir: string,
  genesis: GenesisState,
  keys: PrivateKey[],
): Promise<TestChain> {
  const { db, stateDb: sub, tree } = await openChainDb(join(dir, 'chain'));
  const ledger = await Ledger.open({
    db,
    state: tree,
    genesis,
    genesisHash: genesisHash(genesis),
    stateSublevel: sub,
    // As the node: the naming records are mirrored for enumeration.
    indexedPrefixes: [NAME_REC_PREFIX, PUB_PREFIX],
  });
  const chain: TestChain = {
    ledger,
    genesis,
    keys,
    dir,
    db,
    tree,
    async close() {
      await tree.close();
      await db.close();
    },
    async reopen() {
      await tree.close();
      await db.close();
      const next = await openLedgerAt(dir, genesis, keys);
      next.close = chain.close === next.close ? next.close : withCleanup(next, chain.close);
      return next;
    },
  };
  return chain;
}

export async function openTestChain(
  keys: PrivateKey[],
  opts: {
    params?: Partial<ChainParams>;
    extraAccounts?: GenesisState['accounts'];
    genesisTime?: number;
  } = {},
): Promise<TestChain> {
  const dir = await mkdtemp(join(tmpdir(), 'vos-ledger-'));
  const genesis = createDevGenesis(keys, {
    chainId: 'vos-test',
    genesisTime: opts.genesisTime ?? 1_700_000_000_000,
    params: opts.params,
    extraAccounts: opts.extraAccounts,
  });
  const chain = await openLedgerAt(dir, genesis, keys);
  const close = chain.close;
  chain.close = async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  };
  return chain;
}

/** Keep the caller's cleanup (temp dir removal) when a chain is reopened. */
function withCleanup(next: TestChain, previousClose: () => Promise<void>): () => Promise<void> {
  const own = next.close;
  return async () => {
    await own();
    await previousClose().catch(() => undefined);
  };
}

/** A commit for `block` signed by every validator key (> 2/3 by construction). */
export async function signCommit(chain: TestChain, block: Block, time: number): Promise<Commit> {
  const vals = sortValidators(await chain.ledger.validatorsAt(block.height));
  const byAddr = new Map(chain.keys.map((k) => [k.address.toString(), k]));
  const sigs: CommitSig[] = vals.map((v) => {
    const key = byAddr.get(v.address.toString());
    if (key === undefined) return { flag: CommitFlag.Absent, time: 0, signature: new Uint8Array(0) };
    const vote = Vote.sign(
      {
        type: VoteType.Precommit,
        height: block.height,
        round: 0,
        blockHash: block.hash(),
        time,
        validator: v.address,
      },
      chain.ledger.chainId,
      key,
    );
    return { flag: CommitFlag.Commit, time, signature: vote.signature };
  });
  return new Commit(block.height, 0, block.hash(), sigs);
}

/**
 * Build the next block from `txs` with the first of our keys that is in the height's validator set as
 * proposer (random stake/unstake sequences can take keys[0] out of the set), execute it as a validator
 * would, commit.
 */
export async function produceBlock(
  chain: TestChain,
  txs: Tx[],
  lastCommit: Commit | null,
): Promise<{ block: Block; commit: Commit; execution: Execution; dropped: { tx: Tx; error: unknown }[] }> {
  const time = await chain.ledger.nextBlockTime(lastCommit);
  const vals = await chain.ledger.validatorsAt(chain.ledger.head.height + 1);
  const proposer = chain.keys.find((k) => vals.some((v) => v.address.equals(k.address))) ?? chain.keys[0];
  const { block, execution, dropped } = await chain.ledger.buildBlock({
    time,
    proposer: proposer.address,
    lastCommit,
    candidates: txs,
  });
  const verified = await chain.ledger.executeBlock(block);
  const commit = await signCommit(chain, block, time + 1000);
  await chain.ledger.commitBlock(block, commit, verified);
  void execution;
  return { block, commit, execution: verified, dropped };
}

/**
 * Drives a test chain tx by tx: signs with per-sender nonces and commits blocks on the last commit;
 * `block` returns each tx's receipt error ('' = ok) and fails if the block dropped any tx.
 */
export class BlockRunner {
  #last: Commit | null = null;
  readonly #nonces = new Map<string, bigint>();

  constructor(
    readonly chain: TestChain,
    readonly chainId = 'vos-test',
  ) {}

  tx(key: PrivateKey, payload: TxPayload, gasLimit = 200_000n): Tx {
    const id = key.address.toString();
    const nonce = this.#nonces.get(id) ?? 0n;
    this.#nonces.set(id, nonce + 1n);
    return TxClass.sign({ chainId: this.chainId, nonce, payload, gasLimit, gasPrice: 1n }, key);
  }

  /** The last block's commit (the next block's lastCommit). */
  get lastCommit(): Commit | null {
    return this.#last;
  }

  async block(...txs: Tx[]): Promise<string[]> {
    const r = await produceBlock(this.chain, txs, this.#last);
    this.#last = r.commit;
    if (r.dropped.length > 0)
      throw new Error(`the block dropped ${r.dropped.length} txs: ${String(r.dropped[0].error)}`);
    return r.execution.receipts.map((x) => (x.status === ReceiptStatus.Ok ? '' : x.error));
  }
}
