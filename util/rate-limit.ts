/**
 * Token buckets by key: `rate` tokens a second, at most `burst` held. A key never seen, or forgotten,
 * has a full bucket; memory is bounded (at most `maxKeys` buckets: the full ones are dropped first,
 * then the oldest). The RPC's per-IP limit (rpc/limits.ts) and the P2P per-peer limits
 * (p2p/rate-limit.ts) are both this. PERF: one Map lookup and a few float operations per call.
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly maxKeys = 65_536,
  ) {}

  get size(): number {
    return this.#buckets.size;
  }

  /** Take `cost` tokens for `key`: 0 when granted, else the ms until they would be there (nothing taken). */
  wait(key: string, cost: number, now: number): number {
    const b = this.#bucket(key, now);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil(((cost - b.tokens) * 1000) / this.rate));
  }

  /**
   * Take `cost` tokens for `key` even if that leaves its bucket in debt; returns the ms the caller
   * should wait before using them (0 = at once). Later calls queue behind the debt.
   */
  delay(key: string, cost: number, now: number): number {
    const b = this.#bucket(key, now);
    b.tokens -= cost;
    return b.tokens >= 0 ? 0 : (-b.tokens / this.rate) * 1000;
  }

  #bucket(key: string, now: number): Bucket {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.maxKeys) this.#sweep(now);
      b = { tokens: this.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    }
    return b;
  }

  /** Drop the buckets that are full again; if none is, the oldest sixteenth (they start full). */
  #sweep(now: number): void {
    for (const [k, b] of this.#buckets)
      if (b.tokens + ((now - b.at) * this.rate) / 1000 >= this.burst) this.#buckets.delete(k);
    if (this.#buckets.size < this.maxKeys) return;
    const drop = Math.max(1, this.maxKeys >> 4);
    let i = 0;
    for (const k of this.#buckets.keys()) {
      if (i++ >= drop) break;
      this.#buckets.delete(k);
    }
  }
}
