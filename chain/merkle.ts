/**
 * Simple binary Merkle root over an ordered list (RFC 6962 shape: leaf = H(0x00 || item),
 * inner = H(0x01 || left || right), split at the largest power of two below n). Used for txRoot,
 * receiptsRoot, evidenceRoot. The empty list has root sha256("").
 */
import { sha256 } from './hash.js';

const LEAF = new Uint8Array([0]);
const INNER = new Uint8Array([1]);

export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256();
  // PERF: iterative bottom-up over leaf hashes; O(n) hashes.
  return subtreeRoot(
    items.map((it) => sha256(LEAF, it)),
    0,
    items.length,
  );
}

function subtreeRoot(leaves: Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leaves[start];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha256(INNER, subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}
