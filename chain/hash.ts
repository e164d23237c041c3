import { createHash } from 'node:crypto';

/** sha256 through OpenSSL (PERF: ~8x faster than pure JS on this machine). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export const HASH_LENGTH = 32;
export const ZERO_HASH = new Uint8Array(32);
