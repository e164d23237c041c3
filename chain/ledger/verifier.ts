import { toHex } from '../../util/bytes.js';
import { sha256 } from '../hash.js';
import { verifySignature } from '../keys.js';

export interface VerifyItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

export interface VerifyOptions {
  /**
   * Latency-sensitive and small (a commit, a vote): a pool may check a few signatures on the calling
   * thread instead of a worker round trip. Bulk callers (mempool admission) leave it unset so that
   * many small calls are gathered into worker batches.
   */
  inline?: boolean;
}

/** Batch signature verification (the worker pool implements it; this is the in-thread fallback). */
export interface SignatureVerifier {
  verifyBatch(items: readonly VerifyItem[], opts?: VerifyOptions): Promise<boolean[]>;
}

export const inlineVerifier: SignatureVerifier = {
  async verifyBatch(items) {
    return items.map((i) => verifySignature(i.publicKey, i.message, i.signature));
  },
};

/**
 * Remembers signatures that verified (a bounded set keyed by sha256(publicKey | signature | message)),
 * so the same bytes are checked once: a vote seen in consensus and again in the next block's last
 * commit, a commit pre-verified by block sync in the worker pool and again when the block is applied.
 * Only successes are cached; a hit means exactly these bytes verified before.
 * Portable (chain/hash.js): the web app wraps its @noble verifier in one too, so the light client
 * checks a commit once however many of its checks see it.
 * PERF: a hash costs ~1 us beside ~100 us for an Ed25519 verify.
 */
export class CachingVerifier implements SignatureVerifier {
  readonly #inner: SignatureVerifier;
  readonly #ok = new Set<string>();
  readonly #max: number;
  hits = 0;

  constructor(inner: SignatureVerifier, max = 50_000) {
    this.#inner = inner;
    this.#max = max;
  }

  async verifyBatch(items: readonly VerifyItem[], opts?: VerifyOptions): Promise<boolean[]> {
    const keys = items.map(cacheKey);
    const out: boolean[] = new Array(items.length).fill(true);
    const missIdx: number[] = [];
    for (let i = 0; i < items.length; i++) if (!this.#ok.has(keys[i])) missIdx.push(i);
    this.hits += items.length - missIdx.length;
    if (missIdx.length === 0) return out;
    const res = await this.#inner.verifyBatch(
      missIdx.map((i) => items[i]),
      opts,
    );
    missIdx.forEach((i, j) => {
      out[i] = res[j];
      if (res[j]) this.#remember(keys[i]);
    });
    return out;
  }

  #remember(key: string): void {
    if (this.#ok.size >= this.#max) {
      // Evict the oldest (a Set iterates in insertion order).
      const oldest = this.#ok.values().next().value;
      if (oldest !== undefined) this.#ok.delete(oldest);
    }
    this.#ok.add(key);
  }
}

function cacheKey(i: VerifyItem): string {
  // Lengths first, so no two different items concatenate to the same bytes.
  const lengths = new Uint8Array(8);
  const view = new DataView(lengths.buffer);
  view.setUint16(0, i.publicKey.length);
  view.setUint16(2, i.signature.length);
  view.setUint32(4, i.message.length);
  return toHex(sha256(lengths, i.publicKey, i.signature, i.message));
}
