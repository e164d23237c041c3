/**
 * The ledger and mempool as the consensus driver sees them: build a block from the mempool, validate a
 * proposed one (caching its execution so the commit does not execute twice), commit a decided one.
 */
import type { Address } from '../chain/address.js';
import type { Block } from '../chain/block.js';
import type { Commit } from '../chain/commit.js';
import { commitSignatureItems, verifyCommit } from '../chain/commit-verify.js';
import type { Evidence } from '../chain/evidence.js';
import { BlockError, type Execution, type Ledger } from '../chain/ledger/ledger.js';
import { maxEvidenceAge } from '../chain/ledger/params.js';
import type { SignatureVerifier, VerifyItem } from '../chain/ledger/verifier.js';
import type { Mempool } from '../chain/mempool/mempool.js';
import type { BatchOp } from '../chain/store/block-store.js';
import { sortValidators, type ValidatorInfo } from '../chain/validators.js';
import type { ConsensusApp } from '../consensus/driver.js';
import { EvidencePool } from '../consensus/evidence-pool.js';
import { asBuffer, toHex } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';

export interface CommittedBlockEvent {
  block: Block;
  commit: Commit;
  execution: Execution;
}

const MAX_EVIDENCE_PER_BLOCK = 50;

export class LedgerConsensusApp implements ConsensusApp {
  readonly chainId: string;
  readonly #executions = new Map<string, Execution>();
  readonly #listeners = new Set<(e: CommittedBlockEvent) => void>();
  readonly #stateListeners = new Set<(e: CommittedBlockEvent) => void>();
  readonly evidence: EvidencePool;

  constructor(
    private readonly ledger: Ledger,
    private readonly mempool: Mempool,
    private readonly opts: {
      maxBlockTxs: number;
      maxBlockBuildMs: number;
      verifier: SignatureVerifier;
      logger?: Logger;
      /** Ops written in the batch of block `height` (the node's proposer state). */
      commitOps?: (height: number) => BatchOp[];
    },
  ) {
    this.chainId = ledger.chainId;
    this.evidence = new EvidencePool({ maxPending: 1000, expiryHeights: maxEvidenceAge(ledger.params) });
  }

  /** Detected or gossiped evidence: checked by the ledger, then pooled for the next blocks. */
  async addEvidence(ev: Evidence): Promise<boolean> {
    if (this.evidence.has(ev)) return false;
    try {
      await this.ledger.checkEvidence(ev);
    } catch (err) {
      this.opts.logger?.warn(
        { height: ev.height, reason: String((err as Error).message) },
        'evidence rejected',
      );
      return false;
    }
    const added = this.evidence.add(ev);
    if (added)
      this.opts.logger?.warn(
        { height: ev.height, validator: ev.voteA.validator.toString() },
        'duplicate-vote evidence pooled',
      );
    return added;
  }

  /**
   * Called synchronously as soon as the block's state is the committed state, before anything else
   * runs (no I/O event in between): for views that must never lag the head (the DNS gateway).
   */
  onStateCommitted(fn: (e: CommittedBlockEvent) => void): () => void {
    this.#stateListeners.add(fn);
    return () => this.#stateListeners.delete(fn);
  }

  onCommitted(fn: (e: CommittedBlockEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  headHeight(): number {
    return this.ledger.head.height;
  }

  headTime(): number {
    return this.ledger.head.time;
  }

  validatorsAt(height: number): Promise<ValidatorInfo[]> {
    return this.ledger.validatorsAt(height);
  }

  hasPendingTxs(): boolean {
    return this.mempool.size > 0;
  }

  async buildBlock(height: number, proposer: Address): Promise<Block> {
    if (height !== this.ledger.head.height + 1)
      throw new Error(`cannot build ${height} on head ${this.ledger.head.height}`);
    const lastCommit = height === 1 ? null : ((await this.ledger.store.getCommit(height - 1)) ?? null);
    const time = await this.ledger.nextBlockTime(lastCommit);
    const p = this.ledger.params;
    const candidates = this.mempool.reap({
      maxTxs: this.opts.maxBlockTxs,
      maxBytes: p.maxBlockBytes - 4096,
      maxGas: p.maxBlockGas,
    });
    const { block, execution, dropped } = await this.ledger.buildBlock({
      time,
      proposer,
      lastCommit,
      evidence: this.evidence.forBlock(height, MAX_EVIDENCE_PER_BLOCK),
      candidates,
      maxBuildMs: this.opts.maxBlockBuildMs,
    });
    if (dropped.length > 0) {
      this.opts.logger?.debug(
        { height, dropped: dropped.length },
        'dropped invalid txs while building a block',
      );
      this.mempool.remove(dropped.map((d) => d.tx));
    }
    this.#executions.set(toHex(block.hash()), execution);
    return block;
  }

  async validateBlock(block: Block): Promise<boolean> {
    const key = toHex(block.hash());
    if (this.#executions.has(key)) return true;
    try {
      this.#executions.set(key, await this.ledger.executeBlock(block));
      return true;
    } catch (err) {
      if (!(err instanceof BlockError)) throw err;
      this.opts.logger?.warn(
        { height: block.height, hash: key, reason: err.message },
        'invalid block proposed',
      );
      return false;
    }
  }

  /**
   * Block sync hands a fetched batch here before applying it: the signatures of its commits (and of the
   * blocks' last commits) are checked in the worker pool at once, so applying each block finds them in
   * the verifier's cache. The validator set is taken as the latest known one; where a batch crosses a
   * set change the guess misses and that commit is checked when applied. Results are only cached.
   */
  async prewarmCommits(batch: readonly { block: Block; commit: Commit }[]): Promise<void> {
    const vals = sortValidators(await this.ledger.validatorsAt(this.ledger.head.height + 1));
    // A block's last commit mostly repeats the stored commit of the height before (same precommits):
    // send each signature once.
    const items = new Map<string, VerifyItem>();
    for (const { block, commit } of batch) {
      for (const c of [block.lastCommit, commit]) {
        if (c === null || c.signatures.length !== vals.length) continue;
        for (const item of commitSignatureItems(this.chainId, vals, c))
          items.set(asBuffer(item.signature).toString('latin1'), item);
      }
    }
    await this.opts.verifier.verifyBatch([...items.values()]);
  }

  ensureDurable(): Promise<void> {
    return this.ledger.ensureDurable();
  }

  async commitSynced(block: Block, commit: Commit): Promise<void> {
    const h = block.height;
    if (h !== this.ledger.head.height + 1)
      throw new Error(`synced block ${h} does not extend head ${this.ledger.head.height}`);
    await verifyCommit(
      this.chainId,
      await this.ledger.validatorsAt(h),
      commit,
      h,
      block.hash(),
      this.opts.verifier,
    );
    // A synced block's write need not land before the next block runs (see Ledger.commitBlock).
    await this.commitBlock(block, commit, { deferWrite: true });
  }

  async commitBlock(block: Block, commit: Commit, opts: { deferWrite?: boolean } = {}): Promise<void> {
    const key = toHex(block.hash());
    const execution = this.#executions.get(key) ?? (await this.ledger.executeBlock(block));
    await this.ledger.commitBlock(block, commit, execution, {
      ...opts,
      extraOps: this.opts.commitOps?.(block.height),
    });
    const event = { block, commit, execution };
    for (const fn of this.#stateListeners) fn(event);
    this.#executions.clear();
    this.evidence.update(block.height, block.evidence);
    await this.mempool.update(block.txs);
    for (const fn of this.#listeners) fn(event);
  }
}
