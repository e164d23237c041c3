/**
 * The local block store (`<home>/data/storage`), apart from the chain DB: content is not consensus
 * state, and a node can drop it (GC, a full disk) without touching the chain. `index/` is a LevelDB,
 * `blocks/<last 2 chars of the CID>/<CID>` the block files (raw leaves and dag-pb nodes).
 *
 *   m/format         -> u8 STORAGE_FORMAT of the code that created it (another = refuse to open)
 *   b/<cid bytes>    -> u32 size of the block file (written after the file, deleted before it)
 *   p/<cid bytes>    -> a pin: rlp([size, pinnedAtMs]) of the object whose root is the CID
 */
import type { CID } from 'multiformats/cid';

export const STORAGE_FORMAT = 1;
const enc = (s: string) => Buffer.from(s, 'latin1');

export const KEY_FORMAT = enc('m/format');
export const BLOCK_PREFIX = enc('b/');
export const PIN_PREFIX = enc('p/');

export const blockKey = (cid: CID): Buffer => Buffer.concat([BLOCK_PREFIX, cid.bytes]);
export const pinKey = (cid: CID): Buffer => Buffer.concat([PIN_PREFIX, cid.bytes]);
