/**
 * The control module's arithmetic (consensus-critical: integers only, the same on every node).
 *
 *   C (contribution)  = floor((storage + served) x uptimePpm / 10^6)   bytes of the epoch
 *   T (threshold)     = lower median of the epoch's non-zero C, clamped to [minThreshold, maxThreshold]
 *                       (minThreshold when no node contributed)
 *   quota             = base + floor(kPpm x min(C, T) / 10^6)
 *   boost             = log2(1 + max(0, C - T) / T) = log2(max(C, T) / T), in millionths, rounded down
 *   voting power      = stake + floor(stake x min(C, T) / T)   (= stake x (1 + min(1, C/T)))
 */
import type { ControlParams } from '../../chain/ledger/params.js';

export const PPM = 1_000_000n;

export function contribution(storage: bigint, served: bigint, uptimePpm: bigint): bigint {
  return ((storage + served) * uptimePpm) / PPM;
}

/** Lower median of the positive contributions, clamped. */
export function threshold(
  contributions: readonly bigint[],
  p: Pick<ControlParams, 'minThreshold' | 'maxThreshold'>,
): bigint {
  const min = BigInt(p.minThreshold);
  const max = BigInt(p.maxThreshold);
  const active = contributions.filter((c) => c > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (active.length === 0) return min;
  const m = active[Math.floor((active.length - 1) / 2)];
  return m < min ? min : m > max ? max : m;
}

export function quota(base: bigint, kPpm: bigint, c: bigint, t: bigint): bigint {
  return base + (kPpm * (c < t ? c : t)) / PPM;
}

export function votingPower(stake: bigint, c: bigint, t: bigint): bigint {
  return stake + (stake * (c < t ? c : t)) / t;
}

/** Fractional bits of the binary logarithm: 2^-24 resolution, finer than the millionths kept. */
const FRACTION_BITS = 24;
const ONE = 1n << 64n;

/** floor(10^6 x log2(C / T)) for C > T, else 0; exact integer squaring, no floats. */
export function boostPpm(c: bigint, t: bigint): bigint {
  if (t <= 0n || c <= t) return 0n;
  // Integer part n: T x 2^n <= C < T x 2^(n+1).
  let n = 0n;
  while (t << (n + 1n) <= c) n++;
  // y = C / (T x 2^n) in [1, 2) as a 64-bit fixed point; each squaring yields one fractional bit.
  let y = (c * ONE) / (t << n);
  let frac = 0n;
  for (let i = 0; i < FRACTION_BITS; i++) {
    y = (y * y) / ONE;
    frac <<= 1n;
    if (y >= 2n * ONE) {
      y /= 2n;
      frac |= 1n;
    }
  }
  return (((n << BigInt(FRACTION_BITS)) + frac) * PPM) >> BigInt(FRACTION_BITS);
}

/** The search factor 1 + boost (a float: search ranking is off chain). */
export function boostFactor(ppm: bigint): number {
  return 1 + Number(ppm) / 1e6;
}
