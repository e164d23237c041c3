/**
 * The publish index in the state tree (module `pub/`; provable), mirrored in the chain DB's index for
 * lookups by CID and for the search index:
 *
 *   pub/rec/<id 32>                 -> the record (record.ts); id = sha256("vos/publish/1" | owner | cid)
 *   pub/cid/<cid bytes>/<id 32>     -> empty: who published this CID (one entry per record)
 */
import { createHash } from 'node:crypto';
import type { Address } from '../../chain/address.js';

const enc = (s: string) => Buffer.from(s, 'latin1');
export const PUB_PREFIX = enc('pub/');
export const PUB_REC_PREFIX = enc('pub/rec/');
export const PUB_CID_PREFIX = enc('pub/cid/');

export const recordKey = (id: Uint8Array): Uint8Array => Buffer.concat([PUB_REC_PREFIX, id]);
export const cidIndexPrefix = (cid: Uint8Array): Uint8Array => Buffer.concat([PUB_CID_PREFIX, cid, enc('/')]);
export const cidIndexKey = (cid: Uint8Array, id: Uint8Array): Uint8Array =>
  Buffer.concat([cidIndexPrefix(cid), id]);

export function publishId(owner: Address, cid: Uint8Array): Uint8Array {
  return createHash('sha256').update('vos/publish/1').update(owner.bytes).update(cid).digest();
}

/** The id of a `pub/rec/` key, or null for another key. */
export function idOfKey(key: Uint8Array): Uint8Array | null {
  if (
    key.length !== PUB_REC_PREFIX.length + 32 ||
    !Buffer.from(key.subarray(0, PUB_REC_PREFIX.length)).equals(PUB_REC_PREFIX)
  )
    return null;
  return key.subarray(PUB_REC_PREFIX.length);
}
