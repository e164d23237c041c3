/**
 * Proposer selection is proportional to voting power: over any window of `total power` consecutive
 * rounds (or heights), each validator proposes power times, give or take one; also in the first and
 * second windows right after an epoch update (powers changed, validators added and removed).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { addressFromPublicKey } from '../../chain/address.js';
import { sha256 } from '../../chain/hash.js';
import { ProposerSchedule } from '../../consensus/proposer-schedule.js';
import {
  createValidatorSet,
  createValidatorSetFromRlp,
  type Validator,
  type ValidatorSet,
} from '../../consensus/validator-set.js';
import { utf8 } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';

function validator(seed: number, power: bigint): Validator {
  const publicKey = sha256(utf8(`proposer-property-${seed}`));
  return { address: addressFromPublicKey(publicKey), publicKey, power };
}

/** Largest |proposals - power| over one window of total-power proposers. */
function windowDeviation(set: ValidatorSet, proposers: number[]): number {
  const counts = new Array<number>(set.size).fill(0);
  for (const p of proposers) counts[p]++;
  let worst = 0;
  for (let i = 0; i < set.size; i++) worst = Math.max(worst, Math.abs(counts[i] - Number(set.powerOf(i))));
  return worst;
}

function roundsWindow(set: ValidatorSet, height: number, firstRound: number): number[] {
  const t = Number(set.totalPower);
  return Array.from({ length: t }, (_, k) => set.proposerAt(height, firstRound + k));
}

function heightsWindow(set: ValidatorSet, firstHeight: number): number[] {
  const t = Number(set.totalPower);
  return Array.from({ length: t }, (_, k) => set.atHeight(firstHeight + k).proposerAt(firstHeight + k, 0));
}

const power = fc.bigInt({ min: 1n, max: 40n });
const scenario = fc.record({
  powers: fc.array(power, { minLength: 1, maxLength: 6 }),
  warmup: fc.nat({ max: 60 }),
  /** Per existing validator: undefined = unchanged, 0n = removed, else the new power. */
  changes: fc.array(fc.option(fc.oneof(fc.constant(0n), power), { nil: undefined }), {
    minLength: 6,
    maxLength: 6,
  }),
  joining: fc.array(power, { maxLength: 2 }),
});

describe('proposer selection (property)', () => {
  it('each validator proposes in proportion to its power, within one per window (two in the first window after an update)', () => {
    fc.assert(
      fc.property(scenario, ({ powers, warmup, changes, joining }) => {
        const vals = powers.map((p, i) => validator(i, p));
        const base = createValidatorSet(vals, 1).atHeight(1 + warmup);
        const h = base.height;
        expect(windowDeviation(base, roundsWindow(base, h, 0))).toBeLessThanOrEqual(1);
        expect(windowDeviation(base, roundsWindow(base, h, 3))).toBeLessThanOrEqual(1);
        expect(windowDeviation(base, heightsWindow(base, h))).toBeLessThanOrEqual(1);

        const update = vals
          .map((v, i) => (changes[i] === undefined ? null : { publicKey: v.publicKey, power: changes[i]! }))
          .filter((c) => c !== null);
        update.push(...joining.map((p, i) => ({ publicKey: validator(100 + i, p).publicKey, power: p })));
        const remaining = vals.filter((_, i) => changes[i] !== 0n).length + joining.length;
        if (remaining === 0) return; // an update may not empty the set (tested in the unit tests)
        const after = base.update(update);
        const t = Number(after.totalPower);
        // The first window after an update may be off by 2: a joining validator starts at -1.125 x the
        // total power (CometBFT's penalty for newcomers), which delays it by about one proposal; the
        // next window is balanced again. (Both first windows start at the update: rounds and heights.)
        expect(windowDeviation(after, roundsWindow(after, h, 0))).toBeLessThanOrEqual(2);
        expect(windowDeviation(after, heightsWindow(after, h))).toBeLessThanOrEqual(2);
        expect(windowDeviation(after, roundsWindow(after, h, t))).toBeLessThanOrEqual(1);
      }),
      propertyParams('proposer windows', 300),
    );
  });
});

describe('persisted proposer state (property)', () => {
  it('a schedule restored from the persisted snapshot of any height picks the proposers of the one derived from genesis', () => {
    const changeArb = fc.record({
      at: fc.integer({ min: 2, max: 60 }),
      powers: fc.array(fc.option(power, { nil: undefined }), { minLength: 5, maxLength: 5 }),
    });
    fc.assert(
      fc.property(
        fc.array(power, { minLength: 1, maxLength: 5 }),
        fc.array(changeArb, { maxLength: 4 }),
        fc.integer({ min: 1, max: 70 }),
        (powers, rawChanges, restartAt) => {
          const genesis = powers.map((p, i) => validator(i, p));
          // Change lists by height (at most one per height, increasing), never empty.
          const changes = new Map<number, Validator[]>();
          for (const c of rawChanges) {
            const list = c.powers.flatMap((p, i) => (p === undefined ? [] : [validator(i, p)]));
            if (list.length > 0) changes.set(c.at, list);
          }
          const ordered = [...changes.entries()].sort((a, b) => a[0] - b[0]);
          const derived = ProposerSchedule.fromGenesis(genesis);
          for (const [h, list] of ordered) derived.applyChange(h, list);
          // The node persists snapshot(head + 1) and, on start, applies the stored changes after it.
          const restoredSet = createValidatorSetFromRlp(derived.snapshot(restartAt).serialize());
          const restored = ProposerSchedule.fromSet(restoredSet);
          for (const [h, list] of ordered) restored.applyChange(h, list);
          for (let h = restartAt; h < restartAt + 40; h++) {
            for (const r of [0, 1, 5]) expect(restored.proposerAt(h, r)).toBe(derived.proposerAt(h, r));
          }
        },
      ),
      propertyParams('proposer state restore', 200),
    );
  });
});
