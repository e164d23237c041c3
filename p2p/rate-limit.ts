/**
 * Per-peer token buckets: `ratePerSec` sustained, `burst` at once. A peer over its rate has its messages
 * dropped (and each drop reported, so the scorer can act on a peer that keeps flooding).
 */
export class PeerRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take one token for `peer`; false when the peer is over its rate. */
  take(peer: string): boolean {
    const t = this.now();
    let b = this.#buckets.get(peer);
    if (b === undefined) {
      b = { tokens: this.burst, at: t };
      this.#buckets.set(peer, b);
      // PERF: bounded; idle peers are forgotten (a fresh bucket is full, which is what forgetting means).
      if (this.#buckets.size > 10_000) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSec);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
