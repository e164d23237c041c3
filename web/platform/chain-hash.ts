/**
 * chain/hash.ts for the web app's bundle (web/build.mjs swaps it in): the same sha256 on @noble/hashes
 * instead of node:crypto. Same exports and signatures (checked by the types below and by
 * test/unit/web/platform.test.ts).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type * as NodeHash from '../../chain/hash.js';

export const sha256: typeof NodeHash.sha256 = (...parts) => {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
};

export const sha256One: typeof NodeHash.sha256One = (data) => nobleSha256(data);

export const HASH_LENGTH: typeof NodeHash.HASH_LENGTH = 32;
export const ZERO_HASH: typeof NodeHash.ZERO_HASH = new Uint8Array(32);
