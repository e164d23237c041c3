/**
 * The control module's arithmetic (services/control/formula.ts), fast-check with printed seeds: quota is
 * non-decreasing in C and flat beyond T; boost is 0 at or below T and increasing above it (exact to a
 * millionth of log2); the threshold is the clamped lower median whatever the order; and the Sybil bound
 * of the README: splitting one contribution (and stake) over n identities never yields more than
 * n x base + k x C of quota in total, 2 x stake of voting power, or a boost above the unsplit one.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { boostPpm, PPM, quota, threshold, votingPower } from '../../services/control/formula.js';
import { propertyParams } from '../fc-params.js';

const big = (max: bigint) => fc.bigInt({ min: 0n, max });
const pos = (max: bigint) => fc.bigInt({ min: 1n, max });
const BYTES = 1n << 50n;

describe('control formula', () => {
  it('quota is non-decreasing in C and flat beyond T', () => {
    fc.assert(
      fc.property(big(1n << 40n), big(10n ** 9n), pos(BYTES), big(BYTES), big(BYTES), (base, k, t, a, b) => {
        const [c1, c2] = a <= b ? [a, b] : [b, a];
        expect(quota(base, k, c1, t)).toBeLessThanOrEqual(quota(base, k, c2, t));
        if (c1 >= t) expect(quota(base, k, c1, t)).toBe(quota(base, k, t, t));
        expect(quota(base, k, 0n, t)).toBe(base);
      }),
      propertyParams('quota monotone and flat beyond T', 500),
    );
  });

  it('boost is 0 at or below T, non-decreasing above it, +1 per doubling, within a millionth of log2', () => {
    fc.assert(
      fc.property(pos(BYTES), big(BYTES), big(BYTES), (t, a, b) => {
        const [c1, c2] = a <= b ? [a, b] : [b, a];
        if (c1 <= t) expect(boostPpm(c1, t)).toBe(0n);
        expect(boostPpm(c1, t)).toBeLessThanOrEqual(boostPpm(c2, t));
        if (c2 > t) {
          // Doubling C adds exactly log2(2) = 1 (up to the rounding of both sides).
          const d = boostPpm(2n * c2, t) - boostPpm(c2, t);
          expect(d >= PPM - 1n && d <= PPM + 1n).toBe(true);
          const exact = Math.log2(Number(c2) / Number(t)) * 1e6;
          expect(Math.abs(Number(boostPpm(c2, t)) - exact)).toBeLessThan(2);
        }
      }),
      propertyParams('boost', 500),
    );
    expect(boostPpm(3n, 1n)).toBe(1_584_962n); // log2(3) = 1.5849625...
  });

  it('the threshold is the clamped lower median of the non-zero contributions, in any order', () => {
    fc.assert(
      fc.property(fc.array(big(BYTES), { maxLength: 40 }), pos(1n << 30n), pos(1n << 30n), (cs, x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const p = { minThreshold: Number(lo), maxThreshold: Number(hi) };
        const t = threshold(cs, p);
        expect(threshold([...cs].reverse(), p)).toBe(t);
        const active = cs.filter((c) => c > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        if (active.length === 0) expect(t).toBe(lo);
        else {
          const m = active[Math.floor((active.length - 1) / 2)];
          // Clamping to [lo, hi] is the middle of the three.
          expect(t).toBe([lo, m, hi].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))[1]);
        }
      }),
      propertyParams('threshold', 500),
    );
  });

  it('Sybil bound: n identities never get more than n x base + k x C, 2 x stake, or a higher boost', () => {
    fc.assert(
      fc.property(
        big(1n << 40n),
        big(10n ** 7n),
        pos(BYTES),
        big(BYTES),
        pos(1n << 60n),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 12 }),
        (base, k, t, c, stake, weights) => {
          const w = weights.map(BigInt);
          const sum = w.reduce((a, b) => a + b, 0n);
          // Split C and the stake by the weights (remainders to the first identity).
          const split = (x: bigint) => {
            const parts = w.map((wi) => (x * wi) / sum);
            parts[0] += x - parts.reduce((a, b) => a + b, 0n);
            return parts;
          };
          const cs = split(c);
          const stakes = split(stake);
          const n = BigInt(w.length);
          const total = cs.reduce((a, ci) => a + quota(base, k, ci, t), 0n);
          expect(total).toBeLessThanOrEqual(n * base + (k * c) / PPM + n); // + n: per-identity rounding
          const power = cs.reduce((a, ci, i) => a + votingPower(stakes[i], ci, t), 0n);
          expect(power).toBeLessThanOrEqual(2n * stake);
          for (const ci of cs) expect(boostPpm(ci, t)).toBeLessThanOrEqual(boostPpm(c, t));
        },
      ),
      propertyParams('sybil bound', 500),
    );
  });
});
