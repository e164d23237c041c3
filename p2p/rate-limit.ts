/**
 * Per-peer token buckets: `ratePerSec` sustained, `burst` at once. A peer over its rate has its messages
 * dropped (and each drop reported, so the scorer can act on a peer that keeps flooding), or, for a
 * cost that must be paid (bytes served), waits until its bucket has refilled (`delay`).
 */
export class PeerRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take `cost` tokens for `peer`; false (and nothing taken) when the peer is over its rate. */
  take(peer: string, cost = 1): boolean {
    const b = this.#bucket(peer);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /**
   * Take `cost` tokens for `peer` even if that leaves its bucket in debt; returns the ms the caller
   * should wait before using them (0 = at once). Later calls queue behind the debt.
   */
  delay(peer: string, cost: number): number {
    const b = this.#bucket(peer);
    b.tokens -= cost;
    return b.tokens >= 0 ? 0 : (-b.tokens / this.ratePerSec) * 1000;
  }

  #bucket(peer: string): { tokens: number; at: number } {
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
    return b;
  }
}
