/**
 * Proposer selection: CometBFT's weighted round robin with priorities (types/validator_set.go), in
 * bigint arithmetic, as pure functions over arrays aligned with the validator set's canonical order.
 *
 * One selection step (one round):
 *   1. rescale: if max - min > 2 * total, divide every priority by ceil(diff / (2 * total)) (truncating,
 *      like Go), which keeps the spread within 2 * total;
 *   2. centre: subtract the floor of the average priority;
 *   3. every priority += its power; the highest priority proposes (ties: the lower address) and its
 *      priority -= total.
 * Over any window of consecutive steps each validator proposes about power/total of the time.
 * A validator joining the set starts at -1.125 * total (after the update), so that joining and leaving
 * cannot be used to jump the queue. VOS applies rescale + centre before every step (CometBFT does once
 * per batch of steps; the two agree whenever the spread stays within 2 * total, the normal case).
 */
import { compareBytes } from '../util/bytes.js';

export const PRIORITY_WINDOW_SIZE_FACTOR = 2n;

/** Floor division for bigint (JS `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function totalOf(powers: readonly bigint[]): bigint {
  let t = 0n;
  for (const p of powers) t += p;
  return t;
}

/** Keep max - min within `PRIORITY_WINDOW_SIZE_FACTOR * total` (CometBFT RescalePriorities). */
export function rescalePriorities(priorities: readonly bigint[], total: bigint): bigint[] {
  if (priorities.length === 0 || total === 0n) return [...priorities];
  const diffMax = PRIORITY_WINDOW_SIZE_FACTOR * total;
  let min = priorities[0];
  let max = priorities[0];
  for (const p of priorities) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const diff = max - min;
  if (diff <= diffMax) return [...priorities];
  const ratio = (diff + diffMax - 1n) / diffMax;
  return priorities.map((p) => p / ratio); // truncation toward zero, as Go's int64 division
}

/** Subtract the (floor) average so that priorities stay centred around 0 (shiftByAvgProposerPriority). */
export function centrePriorities(priorities: readonly bigint[]): bigint[] {
  if (priorities.length === 0) return [];
  const avg = floorDiv(totalOf(priorities), BigInt(priorities.length));
  return priorities.map((p) => p - avg);
}

/**
 * One selection step. `addresses` break ties (the lower address wins). Returns the new priorities and
 * the index of the proposer chosen in this step.
 */
export function proposerStep(
  powers: readonly bigint[],
  addresses: readonly Uint8Array[],
  priorities: readonly bigint[],
): { priorities: bigint[]; proposer: number } {
  if (powers.length === 0) throw new Error('empty validator set');
  const total = totalOf(powers);
  const next = centrePriorities(rescalePriorities(priorities, total));
  let best = -1;
  for (let i = 0; i < next.length; i++) {
    next[i] += powers[i];
    if (
      best < 0 ||
      next[i] > next[best] ||
      (next[i] === next[best] && compareBytes(addresses[i], addresses[best]) < 0)
    ) {
      best = i;
    }
  }
  next[best] -= total;
  return { priorities: next, proposer: best };
}

/** Priority of a validator that joins a set whose total power (after the update) is `total`. */
export function newValidatorPriority(total: bigint): bigint {
  return -(total + (total >> 3n));
}

/** After an update: rescale to 2 * total and centre (CometBFT updateWithChangeSet). */
export function normalisePriorities(priorities: readonly bigint[], total: bigint): bigint[] {
  return centrePriorities(rescalePriorities(priorities, total));
}
