/**
 * The shard Merkle tree (services/storage/merkle.ts) under fast-check, printed seeds: the streamed
 * MerkleBuilder gives rootOf's root however the bytes are cut; every segment verifies with its path;
 * a flipped bit of the segment or of a path hash, a path with a hash added or removed, another index
 * and (for the last segment) another size all fail.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SEGMENT } from '../../services/storage/limits.js';
import {
  leafHash,
  leavesOf,
  MerkleBuilder,
  pathOf,
  rootOf,
  rootOfLeaves,
  segmentCount,
  verifySegment,
} from '../../services/storage/merkle.js';
import { propertyParams } from '../fc-params.js';

/** Deterministic pseudo-random bytes from a seed (AES-CTR keystream: fast, reproducible from VOS_SEED). */
function bytesOf(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeInt32BE(seed | 0, 0);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** The bytes cut at the given points (sorted, duplicates kept: empty pieces too). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = points.map((p) => p % (bytes.length + 1)).sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const segmentOf = (bytes: Buffer, i: number) => bytes.subarray(i * SEGMENT, (i + 1) * SEGMENT);
const flip = (b: Uint8Array, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[Math.floor(bit / 8) % c.length] ^= 1 << (bit % 8);
  return c;
};

// Sizes around segment and power-of-two boundaries are where an odd carried-up node goes wrong.
const sizes = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }),
  fc
    .tuple(fc.integer({ min: 0, max: 19 }), fc.integer({ min: -1, max: 1 }))
    .map(([n, d]) => Math.max(0, n * SEGMENT + d)),
);

describe('shard Merkle tree (property)', () => {
  it('MerkleBuilder over any chunking = rootOf = rootOfLeaves(leavesOf)', () => {
    fc.assert(
      fc.property(sizes, fc.integer(), fc.array(fc.nat(), { maxLength: 12 }), (size, seed, points) => {
        const bytes = bytesOf(size, seed);
        const b = new MerkleBuilder();
        for (const piece of cut(bytes, points)) b.update(piece);
        const root = rootOf(bytes);
        expect(b.digest().equals(root)).toBe(true);
        const leaves = leavesOf(bytes);
        expect(leaves.length).toBe(segmentCount(size));
        expect(rootOfLeaves(leaves).equals(root)).toBe(true);
        expect(root.length).toBe(32);
      }),
      propertyParams('merkle builder = rootOf', 150),
    );
  });

  it('every segment verifies with its path; tampering with the segment, path, index or size fails', () => {
    fc.assert(
      fc.property(
        sizes,
        fc.integer(),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 20 * SEGMENT }),
        (size, seed, bitA, bitB, delta) => {
          const bytes = bytesOf(size, seed);
          const leaves = leavesOf(bytes);
          const root = rootOf(bytes);
          const n = segmentCount(size);
          for (let i = 0; i < n; i++) {
            const seg = segmentOf(bytes, i);
            const path = pathOf(leaves, i);
            expect(verifySegment(root, size, i, seg, path)).toBe(true);
            // A flipped bit of the segment (an empty one has none: size 0 is a single empty leaf).
            if (seg.length > 0) expect(verifySegment(root, size, i, flip(seg, bitA), path)).toBe(false);
            // A flipped bit of any one path hash.
            if (path.length > 0) {
              const j = bitB % path.length;
              const bad = path.map((h, x) => (x === j ? flip(h, bitA) : h));
              expect(verifySegment(root, size, i, seg, bad)).toBe(false);
              expect(verifySegment(root, size, i, seg, path.slice(1))).toBe(false);
              expect(verifySegment(root, size, i, seg, path.slice(0, -1))).toBe(false);
            }
            expect(verifySegment(root, size, i, seg, [...path, leaves[0]])).toBe(false);
            expect(verifySegment(root, size, i, seg, [leaves[0], ...path])).toBe(false);
            // A segment grown or cut by a byte.
            expect(verifySegment(root, size, i, Buffer.concat([seg, Buffer.from([0])]), path)).toBe(false);
            if (seg.length > 0) expect(verifySegment(root, size, i, seg.subarray(1), path)).toBe(false);
            // Another index (in range or not); random data: no two segments are equal.
            for (const j of [i + 1, i - 1, i + 2 + (bitB % n), n, -1, i + 0.5])
              if (j !== i) expect(verifySegment(root, size, j, seg, path)).toBe(false);
            // The other segments' paths do not fit this one.
            if (n > 1) {
              const j = (i + 1 + (bitB % (n - 1))) % n;
              expect(verifySegment(root, size, i, seg, pathOf(leaves, j))).toBe(false);
            }
          }
          // Another size: the last segment's proof fails whatever the size (its length or the tree's
          // shape changes); any index past the size's segment count fails.
          const last = n - 1;
          const lastSeg = segmentOf(bytes, last);
          const lastPath = pathOf(leaves, last);
          for (const other of [
            size + 1,
            size - 1,
            size + delta,
            size - delta,
            size + SEGMENT,
            size - SEGMENT,
          ])
            if (other >= 0 && other !== size) {
              expect(verifySegment(root, other, last, lastSeg, lastPath)).toBe(false);
              for (let i = segmentCount(other); i < n; i++)
                expect(verifySegment(root, other, i, segmentOf(bytes, i), pathOf(leaves, i))).toBe(false);
            }
          // Another root.
          expect(verifySegment(flip(root, bitA), size, last, lastSeg, lastPath)).toBe(false);
        },
      ),
      propertyParams('merkle verifySegment', 100),
    );
  });

  it('fixed shapes: one segment is its leaf; an odd last node is carried up; nodes are not leaves', () => {
    expect(rootOf(Buffer.alloc(0)).equals(leafHash(Buffer.alloc(0)))).toBe(true);
    expect(segmentCount(0)).toBe(1);
    expect(segmentCount(SEGMENT)).toBe(1);
    expect(segmentCount(SEGMENT + 1)).toBe(2);
    const one = bytesOf(SEGMENT, 1);
    expect(rootOf(one).equals(leafHash(one))).toBe(true);
    expect(pathOf(leavesOf(one), 0)).toEqual([]);
    // Three segments: the third is carried up past level 0 (path [H(0,1)] only).
    const three = bytesOf(3 * SEGMENT - 10, 2);
    const l = leavesOf(three);
    expect(pathOf(l, 2)).toEqual([rootOfLeaves(l.slice(0, 2))]);
    expect(pathOf(l, 0)).toEqual([l[1], l[2]]);
    // An inner node's children (64 bytes) do not verify as a leaf of the tree above.
    const two = bytesOf(2 * SEGMENT, 3);
    const [a, b] = leavesOf(two);
    expect(verifySegment(rootOf(two), 64, 0, Buffer.concat([a, b]), [])).toBe(false);
    // digest() with nothing fed is the empty shard's root.
    expect(new MerkleBuilder().digest().equals(rootOf(Buffer.alloc(0)))).toBe(true);
  });
});
