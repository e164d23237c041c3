/**
 * The shape of a distributed object, derived from its size and k so that every node (and the placement
 * tx's check) computes the same: sealedSize = sealedSizeOf(size); piece = min(PIECE, sealedSize / k
 * rounded up to 8); shardSize = ceil(sealedSize / (k x piece)) x piece.
 */
import { PIECE } from './limits.js';
import { sealedSizeOf } from './seal.js';

export function geometry(size: number, k: number) {
  const sealedSize = sealedSizeOf(size);
  const piece = Math.min(PIECE, Math.max(8, Math.ceil(Math.ceil(sealedSize / k) / 8) * 8));
  const stripes = Math.ceil(sealedSize / (k * piece));
  return { sealedSize, piece, stripes, shardSize: stripes * piece };
}
