/**
 * Key layout of the state tree inside its LevelDB sublevel (`s` of the chain DB, see chain/store/layout.ts).
 *
 *   n<nodeHash 32>        -> node record, content-addressed (so every version shares unchanged nodes):
 *                              leaf:     0x00 || keyHash 32 || value
 *                              internal: 0x01 || leftHash 32 || rightHash 32   (ZERO_HASH = empty child)
 *   r<version u64be>      -> root hash of that version (ZERO_HASH = empty tree)
 *   m                     -> latest committed version (u64be)
 *
 * Versions are retained (no pruning yet): historical reads and proofs work for every committed height.
 */
import { concatBytes, u64be } from '../../util/bytes.js';

export const NODE_PREFIX = 0x6e; // 'n'
export const ROOT_PREFIX = 0x72; // 'r'
export const KEY_LATEST = new Uint8Array([0x6d]); // 'm'

// PERF: pooled small buffer; one per node written.
export const nodeKey = (hash: Uint8Array): Uint8Array => {
  const k = Buffer.allocUnsafe(1 + hash.length);
  k[0] = NODE_PREFIX;
  k.set(hash, 1);
  return k;
};
export const rootKey = (version: number) => concatBytes(new Uint8Array([ROOT_PREFIX]), u64be(version));
