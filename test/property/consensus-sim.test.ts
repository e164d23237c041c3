/**
 * Tendermint's guarantees, checked by fast-check over the deterministic simulator (consensus/sim):
 * real engines, a seeded network with delays, drops, duplicates, reordering, partitions that heal,
 * crashes at any WAL write index with restart, clock skew, and Byzantine validators (equivocating
 * proposer, double voter, twins sharing a key, silent). Seeds are printed; `npm run test:soak` runs more.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkAgreement } from '../../consensus/sim/agreement.js';
import type { Behaviour } from '../../consensus/sim/sim-node.js';
import { type SimConfig, type SimResult, simulate } from '../../consensus/sim/simulation.js';
import { toHex } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';
import { scenarioArb } from '../helpers/sim-scenarios.js';

const RUNS = 300;
const SOAK_RUNS = 10_000;

function honestDecisions(r: SimResult) {
  return new Map([...r.decisions].filter(([name]) => r.honest.includes(name)));
}

function byzantinePower(r: SimResult, behaviours: readonly Behaviour[]): bigint {
  let p = 0n;
  behaviours.forEach((b, i) => {
    if (b !== 'honest') p += r.powerOf(i);
  });
  return p;
}

/**
 * A forced fork: twins (one key, two processes) with at least 1/3 of the power, the honest validators
 * split in two groups, each group with one twin copy of every twinned validator, partitioned for 5 s.
 * Each side has more than 2/3 of the power, so both sides can decide, differently.
 */
const forkArb: fc.Arbitrary<SimConfig> = fc
  .record({
    n: fc.integer({ min: 4, max: 7 }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    maxDelayMs: fc.integer({ min: 1, max: 60 }),
    firstSide: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
  })
  .map(({ n, seed, maxDelayMs, firstSide }) => {
    let t = 1;
    while (3 * (t + Math.floor((n - t) / 2)) <= 2 * n) t++;
    const behaviours: Behaviour[] = Array.from({ length: n }, (_, i) => (i < t ? 'twin' : 'honest'));
    const honest = Array.from({ length: n - t }, (_, k) => t + k);
    // Balanced split of the honest validators (sides differ by at most one).
    const order = [...honest].sort((a, b) => Number(firstSide[a % 7]) - Number(firstSide[b % 7]) || a - b);
    const half = Math.ceil(order.length / 2);
    const sideA = order.slice(0, half).map((i) => `v${i}`);
    const sideB = order.slice(half).map((i) => `v${i}`);
    const twinsA = Array.from({ length: t }, (_, i) => `v${i}a`);
    const twinsB = Array.from({ length: t }, (_, i) => `v${i}b`);
    return {
      seed,
      powers: Array.from({ length: n }, () => 1n),
      behaviours,
      heights: 3,
      network: { minDelayMs: 1, maxDelayMs, dropRate: 0, dupRate: 0 },
      partitions: [
        {
          fromMs: 0,
          groups: [
            [...sideA, ...twinsA],
            [...sideB, ...twinsB],
          ],
        },
      ],
      healAtMs: 5000,
      maxTimeMs: 20_000,
    };
  });

describe('consensus simulator (property)', () => {
  it('agreement: no two honest processes decide differently at a height (Byzantine power < 1/3)', () => {
    fc.assert(
      fc.property(scenarioArb(), (sc) => {
        const r = simulate(sc);
        expect(3n * byzantinePower(r, sc.behaviours)).toBeLessThan(r.totalPower);
        expect(checkAgreement(honestDecisions(r))).toEqual([]);
      }),
      propertyParams('sim agreement', RUNS, SOAK_RUNS),
    );
  });

  it('validity: honest processes decide only values that were proposed and are valid', () => {
    fc.assert(
      fc.property(scenarioArb(), (sc) => {
        const r = simulate(sc);
        for (const log of honestDecisions(r).values()) {
          for (const d of log) {
            const v = toHex(d.value as Uint8Array);
            expect(r.proposed.has(v)).toBe(true);
            expect(r.invalid.has(v)).toBe(false);
          }
        }
      }),
      propertyParams('sim validity', RUNS, SOAK_RUNS),
    );
  });

  it('liveness: after the network heals every honest process decides the next height within n + 3 rounds', () => {
    fc.assert(
      fc.property(scenarioArb(), (sc) => {
        const r = simulate(sc);
        const bound = r.maxRoundAtHeal + sc.powers.length + 3;
        for (const [name, ah] of r.afterHeal) {
          if (ah.nextDecidedAtMs === null)
            throw new Error(`${name} decided nothing after heal (seed ${sc.seed})`);
          expect(ah.nextDecidedRound!).toBeLessThanOrEqual(bound);
        }
        expect(r.afterHeal.size).toBe(r.honest.length);
      }),
      propertyParams('sim liveness', RUNS, SOAK_RUNS),
    );
  });

  it('no honest validator signs two different messages for one step, across crashes at any WAL write index', () => {
    const crashy = scenarioArb().filter((sc) => (sc.crashes?.length ?? 0) > 0);
    let crashesSeen = 0;
    fc.assert(
      fc.property(crashy, (sc) => {
        const r = simulate(sc);
        crashesSeen += r.processes.reduce((s, p) => s + p.incarnation, 0);
        expect(r.honestDoubleSigns).toEqual([]);
        expect(checkAgreement(honestDecisions(r))).toEqual([]);
      }),
      propertyParams('sim no double sign across crashes', RUNS, SOAK_RUNS),
    );
    // The property is not vacuous: processes did crash and restart.
    expect(crashesSeen).toBeGreaterThan(RUNS / 2);
  });

  it('accountability: a fork forced with >= 1/3 twins yields evidence against >= 1/3 of the power', () => {
    let forks = 0;
    fc.assert(
      fc.property(forkArb, (sc) => {
        const r = simulate(sc);
        if (checkAgreement(honestDecisions(r)).length === 0) return;
        forks++;
        const proven = r.evidenceAgainst.reduce((s, i) => s + r.powerOf(i), 0n);
        expect(3n * proven).toBeGreaterThanOrEqual(r.totalPower);
        // Only the twins are accused: honest validators are never framed.
        for (const i of r.evidenceAgainst) expect(sc.behaviours[i]).toBe('twin');
      }),
      propertyParams('sim accountability', RUNS, SOAK_RUNS),
    );
    expect(forks).toBeGreaterThan(0);
  });

  it('negative control: with Byzantine power >= 1/3 the agreement checker does report violations', () => {
    // Fixed seeds, so this cannot pass by luck: the harness must be able to fail.
    const samples = fc.sample(forkArb, { numRuns: 40, seed: 20261124 });
    const violations = samples.map((sc) => checkAgreement(honestDecisions(simulate(sc))));
    const failing = violations.filter((v) => v.length > 0).length;
    process.stdout.write(
      `negative control: ${failing} of ${samples.length} forced-fork runs violate agreement\n`,
    );
    expect(failing).toBeGreaterThan(0);
    expect(violations.flat()[0]).toMatchObject({ kind: 'disagreement' });
  });
});
