/**
 * The naming module's keys in the authenticated state tree (hashed by the tree; the prefixes namespace
 * them), and the commit hash:
 *   name/rec/<name>        -> records.ts entry: owner, owner key, registered at, expires, records, transfer
 *   name/commit/<hash 32>  -> u64be height of the commit (deleted by its reveal)
 *   name/rev/<address 20>  -> the name this address registered or received last (reverse lookup;
 *                             forward-confirmed on read)
 * `name/rec/` is also mirrored, unauthenticated, in the chain DB (x/ prefix, chain/store/layout.ts) so a
 * node can enumerate the names (the DNS gateway's start, search).
 */
import type { Address } from '../../chain/address.js';
import { sha256 } from '../../chain/hash.js';
import { concatBytes, utf8 } from '../../util/bytes.js';

export const NAME_REC_PREFIX = utf8('name/rec/');
const NAME_COMMIT_PREFIX = utf8('name/commit/');
const NAME_REV_PREFIX = utf8('name/rev/');
const COMMIT_TAG = utf8('vos/name-commit/1');

export const nameKey = (name: string) => concatBytes(NAME_REC_PREFIX, utf8(name));
export const commitKey = (hash: Uint8Array) => concatBytes(NAME_COMMIT_PREFIX, hash);
export const reverseKey = (a: Address) => concatBytes(NAME_REV_PREFIX, a.bytes);

/** The name of a `name/rec/` key, or null for another key. */
export function nameOfKey(key: Uint8Array): string | null {
  if (key.length <= NAME_REC_PREFIX.length) return null;
  for (let i = 0; i < NAME_REC_PREFIX.length; i++) if (key[i] !== NAME_REC_PREFIX[i]) return null;
  return Buffer.from(key.subarray(NAME_REC_PREFIX.length)).toString('latin1');
}

/** What a commit binds: sha256(tag || name || 0x00 || owner || salt). The owner is the revealer. */
export function commitHash(name: string, owner: Address, salt: Uint8Array): Uint8Array {
  return sha256(concatBytes(COMMIT_TAG, utf8(name), new Uint8Array([0]), owner.bytes, salt));
}
