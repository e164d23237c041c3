/**
 * fast-check arbitraries of simulator scenarios (consensus/sim): validator powers, Byzantine
 * validators, network faults, partitions that heal, crashes at a WAL write index, clock skew.
 */
import fc from 'fast-check';
import type { Behaviour } from '../../consensus/sim/sim-node.js';
import type { SimConfig, SimCrash, SimPartition } from '../../consensus/sim/simulation.js';

export const BYZANTINE: Behaviour[] = ['silent', 'equivocatingProposer', 'doubleVoter', 'twin'];

/** Process names of a validator set with these behaviours (twins are `v<i>a`, `v<i>b`). */
export function processNames(behaviours: readonly Behaviour[]): string[] {
  return behaviours.flatMap((b, i) =>
    b === 'silent' ? [] : b === 'twin' ? [`v${i}a`, `v${i}b`] : [`v${i}`],
  );
}

/** Powers sorted descending: the validator set's canonical order, so behaviours[i] meets powers[i]. */
const powersArb = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 7 })
  .map((p) => p.sort((a, b) => b - a).map(BigInt));

/** Byzantine validators with power strictly below 1/3 of the total (`atLeastThird`: at or above). */
function behavioursArb(powers: bigint[], atLeastThird: boolean): fc.Arbitrary<Behaviour[]> {
  return fc
    .tuple(
      fc.shuffledSubarray([...powers.keys()]),
      fc.array(fc.constantFrom(...BYZANTINE), { minLength: powers.length, maxLength: powers.length }),
    )
    .map(([order, kinds]) => {
      const total = powers.reduce((a, b) => a + b, 0n);
      const out: Behaviour[] = powers.map(() => 'honest');
      let byz = 0n;
      for (const i of order) {
        if (!atLeastThird && 3n * (byz + powers[i]) >= total) continue;
        out[i] = kinds[i];
        byz += powers[i];
        if (atLeastThird && 3n * byz >= total) break;
      }
      return out;
    });
}

function partitionsArb(names: string[], healAtMs: number): fc.Arbitrary<SimPartition[]> {
  return fc
    .array(
      fc.record({
        fromMs: fc.integer({ min: 0, max: Math.max(0, healAtMs) }),
        side: fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
      }),
      { maxLength: 2 },
    )
    .map((ps) =>
      ps
        .sort((a, b) => a.fromMs - b.fromMs)
        .map((p) => ({
          fromMs: p.fromMs,
          groups: [names.filter((_, i) => p.side[i]), names.filter((_, i) => !p.side[i])],
        })),
    );
}

function crashesArb(names: string[], behaviours: Behaviour[], healAtMs: number): fc.Arbitrary<SimCrash[]> {
  const honest = names.filter((n) => behaviours[Number(n.slice(1).replace(/[ab]$/, ''))] === 'honest');
  if (honest.length === 0) return fc.constant([]);
  return fc.array(
    fc.record({
      node: fc.constantFrom(...honest),
      afterMs: fc.integer({ min: 0, max: healAtMs + 500 }),
      atWrite: fc.integer({ min: 0, max: 60 }),
      lands: fc.boolean(),
      downMs: fc.integer({ min: 0, max: 1500 }),
    }),
    { maxLength: 3 },
  );
}

export interface ScenarioOptions {
  /** Byzantine power at or above 1/3 (negative control) instead of strictly below. */
  byzantineAtLeastThird?: boolean;
  heights?: number;
}

export function scenarioArb(opts: ScenarioOptions = {}): fc.Arbitrary<SimConfig> {
  return powersArb.chain((powers) =>
    behavioursArb(powers, opts.byzantineAtLeastThird ?? false).chain((behaviours) => {
      const names = processNames(behaviours);
      return fc.integer({ min: 0, max: 3000 }).chain((healAtMs) =>
        fc.record({
          seed: fc.integer({ min: 0, max: 0x7fffffff }),
          powers: fc.constant(powers),
          behaviours: fc.constant(behaviours),
          heights: fc.constant(opts.heights ?? 4),
          network: fc.record({
            minDelayMs: fc.integer({ min: 0, max: 5 }),
            maxDelayMs: fc.integer({ min: 5, max: 120 }),
            dropRate: fc.constantFrom(0, 0, 0.05, 0.2, 0.4),
            dupRate: fc.constantFrom(0, 0.05, 0.3),
          }),
          partitions: partitionsArb(names, healAtMs),
          healAtMs: fc.constant(healAtMs),
          crashes: crashesArb(names, behaviours, healAtMs),
          skew: fc.constantFrom(0, 0.1, 0.3),
        }),
      );
    }),
  );
}
