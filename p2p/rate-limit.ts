/**
 * Per-peer token buckets (util/rate-limit.ts): `ratePerSec` sustained, `burst` at once. A peer over
 * its rate has its messages dropped (and each drop reported, so the scorer can act on a peer that
 * keeps flooding), or, for a cost that must be paid (bytes served), waits until its bucket has
 * refilled (`delay`). At most 10,000 peers are remembered.
 */
import { TokenBuckets } from '../util/rate-limit.js';

export class PeerRateLimiter {
  readonly #buckets: TokenBuckets;

  constructor(
    ratePerSec: number,
    burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#buckets = new TokenBuckets(ratePerSec, burst, 10_000);
  }

  /** Take `cost` tokens for `peer`; false (and nothing taken) when the peer is over its rate. */
  take(peer: string, cost = 1): boolean {
    return this.#buckets.wait(peer, cost, this.now()) === 0;
  }

  /**
   * Take `cost` tokens for `peer` even if that leaves its bucket in debt; returns the ms the caller
   * should wait before using them (0 = at once). Later calls queue behind the debt.
   */
  delay(peer: string, cost: number): number {
    return this.#buckets.delay(peer, cost, this.now());
  }
}
