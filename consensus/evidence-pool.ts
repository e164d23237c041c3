/**
 * Evidence waiting to be committed: duplicate votes this node detected or peers gossiped, each checked
 * by the ledger before it gets here. One entry per (validator, height) - the ledger punishes a
 * validator once per height. Bounded; entries leave when committed or expired (older than the
 * unbonding period, after which the validator's stake may be gone). Committed ids are remembered
 * while such evidence could still be valid, so gossip of it is not pooled and proposed again.
 */
import type { DuplicateVoteEvidence } from '../chain/evidence.js';

export interface EvidencePoolOptions {
  maxPending: number;
  /** Evidence of height h may be in blocks h + 1 .. h + expiryHeights (the ledger's window). */
  expiryHeights: number;
  /** Committed ids remembered at most (the oldest are forgotten first). Default 10,000. */
  maxCommitted?: number;
}

export class EvidencePool {
  readonly #pending = new Map<string, DuplicateVoteEvidence>();
  /** Committed evidence id -> its height, in commit order. */
  readonly #committed = new Map<string, number>();
  readonly #opts: Required<EvidencePoolOptions>;
  /** The last committed block height seen by update(). */
  #height = 0;

  constructor(opts: EvidencePoolOptions) {
    this.#opts = { maxCommitted: 10_000, ...opts };
  }

  get size(): number {
    return this.#pending.size;
  }

  static idOf(ev: DuplicateVoteEvidence): string {
    return `${ev.voteA.validator.toString()}/${ev.height}`;
  }

  has(ev: DuplicateVoteEvidence): boolean {
    const id = EvidencePool.idOf(ev);
    return this.#pending.has(id) || this.#committed.has(id);
  }

  /** false when already known, too old for the next block, or the pool is full. */
  add(ev: DuplicateVoteEvidence): boolean {
    if (this.has(ev) || this.#expired(ev.height, this.#height + 1)) return false;
    if (this.#pending.size >= this.#opts.maxPending) return false;
    this.#pending.set(EvidencePool.idOf(ev), ev);
    return true;
  }

  /**
   * Evidence a block at `height` may carry (from earlier heights, not expired), oldest first: the
   * evidence closest to expiring goes in before newer evidence that can wait.
   * PERF: O(p log p) over the pending evidence (p <= maxPending), once per proposal.
   */
  forBlock(height: number, max: number): DuplicateVoteEvidence[] {
    const ok: DuplicateVoteEvidence[] = [];
    for (const ev of this.#pending.values())
      if (ev.height < height && !this.#expired(ev.height, height)) ok.push(ev);
    // Array.prototype.sort is stable: insertion order among equal heights.
    return ok.sort((a, b) => a.height - b.height).slice(0, Math.max(0, max));
  }

  /** A block at `height` was committed with `evidence`: drop it and anything expired. */
  update(height: number, evidence: readonly DuplicateVoteEvidence[]): void {
    if (height > this.#height) this.#height = height;
    for (const ev of evidence) {
      const id = EvidencePool.idOf(ev);
      this.#pending.delete(id);
      this.#committed.delete(id);
      this.#committed.set(id, ev.height);
    }
    // Nothing of these heights can go into the next block any more.
    const next = this.#height + 1;
    for (const [id, ev] of this.#pending) if (this.#expired(ev.height, next)) this.#pending.delete(id);
    for (const [id, h] of this.#committed) if (this.#expired(h, next)) this.#committed.delete(id);
    for (const id of this.#committed.keys()) {
      if (this.#committed.size <= this.#opts.maxCommitted) break;
      this.#committed.delete(id);
    }
  }

  /** Evidence of `evHeight` is outside the window of a block at `height`. */
  #expired(evHeight: number, height: number): boolean {
    return evHeight + this.#opts.expiryHeights < height;
  }
}
