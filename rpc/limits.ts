/**
 * Per-client limits of the RPC server: a token bucket of requests per second (a batch costs its calls)
 * and counts of open connections, both keyed by `clientKey` (the IP; an IPv6 client by its /64, which
 * one host usually holds whole). No address is exempt, loopback included: a local tool that needs more
 * raises `rpc.ratePerIp` (0 turns the rate limit off).
 * Memory is bounded: at most `maxClients` buckets; a full bucket is the same as none and is dropped first.
 */
import { ipv6Bytes } from '../util/ip.js';
import { TokenBuckets } from '../util/rate-limit.js';

/** The key the limits count a client under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function clientKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || remoteAddress === '') return 'unknown';
  const a = remoteAddress.toLowerCase();
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  const b = ipv6Bytes(a);
  if (b === null) return a;
  const groups = [0, 2, 4, 6].map((i) => ((b[i] << 8) | b[i + 1]).toString(16));
  return `${groups.join(':')}::/64`;
}

export interface RateOptions {
  /** Tokens (requests) added per second; 0 = no limit. */
  rate: number;
  /** Bucket size: the most requests that may come at once after a quiet spell. */
  burst: number;
  /** Most buckets kept (default 65,536). */
  maxClients?: number;
}

/** The per-client request rate: a token bucket per client key (util/rate-limit.ts); rate 0 = no limit. */
export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  readonly #buckets: TokenBuckets;

  constructor(o: RateOptions) {
    this.rate = o.rate;
    this.burst = Math.max(1, o.burst);
    this.#buckets = new TokenBuckets(this.rate, this.burst, o.maxClients);
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /**
   * Take `n` tokens for `key`: 0 when granted, else the ms until they would be there (nothing is
   * taken then). A request larger than the bucket needs a full one.
   */
  take(key: string, n: number, now = Date.now()): number {
    if (this.rate <= 0) return 0;
    return this.#buckets.wait(key, Math.min(Math.max(1, n), this.burst), now);
  }

  get size(): number {
    return this.#buckets.size;
  }
}

/** Open connections per client, against a cap. */
export class ConnectionCounter {
  readonly #open = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Count one more for `key`; false (nothing counted) when it already has `limit`. */
  acquire(key: string): boolean {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.limit) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.#open.get(key) ?? 0;
    if (n <= 1) this.#open.delete(key);
    else this.#open.set(key, n - 1);
  }

  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
