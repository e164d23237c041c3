/**
 * Proposer selection across validator-set changes: one ValidatorSet (with CometBFT priorities) per
 * change height, each derived from the previous one advanced to that height and updated with the diff.
 * Deterministic from genesis + the ledger's stored change list, so every node and every restart agrees.
 * The node persists `snapshot(head + 1)` with every block and starts from it (`fromSet`), so a start
 * costs O(n), not O(height x n) steps from genesis.
 */
import type { ValidatorInfo } from '../chain/validators.js';
import { createValidatorSet, type ValidatorChange, type ValidatorSet } from './validator-set.js';

export class ProposerSchedule {
  /** Sets by the height they take effect, ascending. */
  readonly #sets: ValidatorSet[] = [];

  private constructor(first: ValidatorSet) {
    this.#sets.push(first);
  }

  /** From the genesis validators (priorities 0 at height 1). */
  static fromGenesis(genesis: readonly ValidatorInfo[]): ProposerSchedule {
    return new ProposerSchedule(createValidatorSet(genesis, 1));
  }

  /** From a persisted set (its height and priorities); later changes are applied after it. */
  static fromSet(set: ValidatorSet): ProposerSchedule {
    return new ProposerSchedule(set);
  }

  /** The set of `height` with the priorities before its round 0 (what the node persists). */
  snapshot(height: number): ValidatorSet {
    return this.setAt(height).atHeight(height);
  }

  /** Record that `list` signs from `height` on (heights must be applied in increasing order). */
  applyChange(height: number, list: readonly ValidatorInfo[]): void {
    const last = this.#sets[this.#sets.length - 1];
    if (height <= last.height) return; // already known (replays on restart)
    const next = new Map(list.map((v) => [v.address.toHex(), v]));
    const changes: ValidatorChange[] = [];
    for (const v of last.validators) {
      if (!next.has(v.address.toHex())) changes.push({ publicKey: v.publicKey, power: 0n });
    }
    for (const v of list) changes.push({ publicKey: v.publicKey, power: v.power });
    this.#sets.push(last.atHeight(height).update(changes));
    // PERF: keep only the recent sets; older heights are never proposed at again.
    if (this.#sets.length > 8) this.#sets.shift();
  }

  setAt(height: number): ValidatorSet {
    for (let i = this.#sets.length - 1; i >= 0; i--) if (this.#sets[i].height <= height) return this.#sets[i];
    throw new Error(`no validator set known for height ${height}`);
  }

  /** Index (canonical order) of the proposer of (height, round). */
  proposerAt(height: number, round: number): number {
    return this.setAt(height).proposerAt(height, round);
  }
}
