/**
 * RFC 2782 weighted selection, used to order A/AAAA answers of a name with several endpoints so that
 * clients that take the first address spread load by each endpoint's declared capacity (its weight).
 *
 * Selection (RFC 2782, "Usage rules"): order the remaining entries with the weight-0 ones first, draw r
 * uniformly in [0, sum of weights], take the first entry whose running sum is >= r; repeat with the
 * rest. The first position is i with probability w_i / W (weight-0 entries only when all are 0).
 */
import { randomBytes } from 'node:crypto';

/** A uniform float in [0, 1). */
export type Random = () => number;

/**
 * Fills `out` with a weighted random permutation of 0..weights.length-1. `scratch` must hold
 * weights.length entries; both are reused across calls (PERF: the query path allocates nothing here).
 */
export function weightedOrder(
  weights: ReadonlyArray<number>,
  rand: Random,
  out: number[],
  scratch: number[],
): void {
  const n = weights.length;
  // Remaining entries, weight-0 ones first (RFC 2782), stable otherwise.
  let k = 0;
  for (let i = 0; i < n; i++) if (weights[i] === 0) scratch[k++] = i;
  for (let i = 0; i < n; i++) if (weights[i] !== 0) scratch[k++] = i;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  for (let pos = 0; pos < n; pos++) {
    const left = n - pos;
    let pick = left - 1;
    if (total > 0) {
      // r in (0, total]: a weight-0 entry (running sum 0) is never chosen while weight remains.
      const r = total - rand() * total;
      let run = 0;
      for (let j = 0; j < left; j++) {
        run += weights[scratch[j]];
        if (run >= r) {
          pick = j;
          break;
        }
      }
    } else {
      pick = Math.floor(rand() * left);
    }
    const chosen = scratch[pick];
    out[pos] = chosen;
    total -= weights[chosen];
    // Keep the remaining entries in order (weight-0 first).
    for (let j = pick; j < left - 1; j++) scratch[j] = scratch[j + 1];
  }
}

/**
 * mulberry32: a fast 32-bit generator of good statistical quality, for answer order only (not a
 * security decision: weights are public and clients pick what they like). Seeded from the OS by default.
 */
export function fastRandom(seed = randomBytes(4).readUInt32LE(0)): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
