/**
 * Node hashing of the state tree (consensus rules). Domain separated so a leaf can never be read as an
 * internal node or vice versa:
 *   leaf     = H(0x00 || keyHash || H(value))
 *   internal = H(0x01 || left || right)      with an empty child = ZERO (32 zero bytes)
 *   empty tree root = ZERO
 * The path of a key is the bits of keyHash = H(key), most significant bit first.
 */
export type HashFn = (...parts: Uint8Array[]) => Uint8Array;

export const ZERO = new Uint8Array(32);
export const LEAF_TAG = new Uint8Array([0x00]);
export const INTERNAL_TAG = new Uint8Array([0x01]);
export const MAX_DEPTH = 256;

export function leafHash(h: HashFn, keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return h(LEAF_TAG, keyHash, valueHash);
}

export function internalHash(h: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  return h(INTERNAL_TAG, left, right);
}

/** Bit `depth` of a 32-byte hash, MSB first. */
export function bitAt(hash: Uint8Array, depth: number): 0 | 1 {
  return ((hash[depth >> 3] >> (7 - (depth & 7))) & 1) as 0 | 1;
}
