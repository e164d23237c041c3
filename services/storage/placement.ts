/**
 * Where shards go: capacity-weighted rendezvous hashing (highest random weight). Each provider's score
 * for an object is -free / ln(u), u in (0, 1) from sha256(id | provider): a provider with twice the
 * free capacity wins about twice as often, and adding or removing one provider moves only the shards it
 * wins or held. Any node computes the same order from the same provider list.
 */
import { createHash } from 'node:crypto';
import type { Address } from '../../chain/address.js';
import { VosError } from '../../util/errors.js';

export interface Candidate {
  address: Address;
  /** Free bytes: capacity - used. */
  free: number;
}

export class PlacementError extends VosError<{ code: 'NOT_ENOUGH_PROVIDERS'; have: number; need: number }> {}

function unit(id: Uint8Array, provider: Address): number {
  const h = createHash('sha256').update('vos/storage/place/1').update(id).update(provider.bytes).digest();
  // 53 random bits -> (0, 1)
  return (Number(h.readBigUInt64BE(0) >> 11n) + 0.5) / 2 ** 53;
}

/** Providers by descending score for `id`, those with less than `need` bytes free left out. */
export function rendezvousOrder(id: Uint8Array, candidates: readonly Candidate[], need: number): Address[] {
  return candidates
    .filter((c) => c.free >= need && c.free > 0)
    .map((c) => ({ c, score: -c.free / Math.log(unit(id, c.address)) }))
    .sort(
      (a, b) =>
        b.score - a.score || Buffer.compare(Buffer.from(a.c.address.bytes), Buffer.from(b.c.address.bytes)),
    )
    .map((x) => x.c.address);
}

/** `n` distinct providers for the shards of `id` (each with `shardSize` free), in shard order. */
export function chooseProviders(
  id: Uint8Array,
  candidates: readonly Candidate[],
  n: number,
  shardSize: number,
): Address[] {
  const order = rendezvousOrder(id, candidates, shardSize);
  if (order.length < n)
    throw new PlacementError(
      { code: 'NOT_ENOUGH_PROVIDERS', have: order.length, need: n },
      `${n} providers with ${shardSize} bytes free are needed for the shards, ${order.length} are registered`,
    );
  return order.slice(0, n);
}
