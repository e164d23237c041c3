/**
 * Proposer selection across validator-set changes: one ValidatorSet (with CometBFT priorities) per
 * change height, each derived from the previous one advanced to that height and updated with the diff.
 * Deterministic from genesis + the ledger's stored change list, so every node and every restart agrees.
 */
import type { ValidatorInfo } from '../chain/validators.js';
import { createValidatorSet, type ValidatorChange, type ValidatorSet } from './validator-set.js';

export class ProposerSchedule {
  /** Sets by the height they take effect, ascending. */
  readonly #sets: ValidatorSet[] = [];

  constructor(genesis: readonly ValidatorInfo[]) {
    this.#sets.push(createValidatorSet(genesis, 1));
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
