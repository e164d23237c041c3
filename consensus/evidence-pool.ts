/**
 * Evidence waiting to be committed: duplicate votes this node detected or peers gossiped, each checked
 * by the ledger before it gets here. One entry per (validator, height) - the ledger punishes a
 * validator once per height. Bounded; entries leave when committed or expired (older than the
 * unbonding period, after which the validator's stake may be gone).
 */
import type { DuplicateVoteEvidence } from '../chain/evidence.js';

export class EvidencePool {
  readonly #pending = new Map<string, DuplicateVoteEvidence>();
  readonly #committed = new Set<string>();

  constructor(private readonly opts: { maxPending: number; expiryHeights: number }) {}

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

  /** false when already known or the pool is full. */
  add(ev: DuplicateVoteEvidence): boolean {
    if (this.has(ev) || this.#pending.size >= this.opts.maxPending) return false;
    this.#pending.set(EvidencePool.idOf(ev), ev);
    return true;
  }

  /** Evidence a block at `height` may carry (from earlier heights, not expired). */
  forBlock(height: number, max: number): DuplicateVoteEvidence[] {
    const out: DuplicateVoteEvidence[] = [];
    for (const ev of this.#pending.values()) {
      if (out.length >= max) break;
      if (ev.height < height && ev.height + this.opts.expiryHeights >= height) out.push(ev);
    }
    return out;
  }

  /** A block at `height` was committed with `evidence`: drop it and anything expired. */
  update(height: number, evidence: readonly DuplicateVoteEvidence[]): void {
    for (const ev of evidence) {
      const id = EvidencePool.idOf(ev);
      this.#pending.delete(id);
      this.#committed.add(id);
    }
    for (const [id, ev] of this.#pending)
      if (ev.height + this.opts.expiryHeights < height) this.#pending.delete(id);
    // PERF: the committed set only guards against re-adding gossip of recent heights.
    if (this.#committed.size > 10_000) this.#committed.clear();
  }
}
