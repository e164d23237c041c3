/**
 * The Merkle tree over a shard's SEGMENT-byte segments, whose root the placement records on chain: an
 * audit answer is one segment and its path. Leaves are sha256(0x00 | segment), inner nodes
 * sha256(0x01 | left | right) (domain-separated, so a node cannot pass for a leaf); an odd node at the
 * end of a level is carried up unchanged. Consensus-critical: audit proofs are verified in txs.
 */
import { hash } from 'node:crypto';
import { SEGMENT } from './limits.js';

// PERF: crypto.hash (one shot) over a reused buffer: a Hash object per 1 KiB segment cost more than the
// hashing itself (bench/storage.bench.ts; the pipeline is bound by sha256 passes).
const leafBuf = Buffer.alloc(1 + SEGMENT);
const nodeBuf = Buffer.alloc(65);

export function leafHash(segment: Uint8Array): Buffer {
  leafBuf[0] = 0;
  leafBuf.set(segment, 1);
  return hash('sha256', leafBuf.subarray(0, 1 + segment.length), 'buffer') as Buffer;
}

function nodeHash(l: Uint8Array, r: Uint8Array): Buffer {
  nodeBuf[0] = 1;
  nodeBuf.set(l, 1);
  nodeBuf.set(r, 33);
  return hash('sha256', nodeBuf, 'buffer') as Buffer;
}

export function segmentCount(size: number): number {
  return Math.max(1, Math.ceil(size / SEGMENT));
}

/** Leaf hashes of a whole shard (in memory: what the provider computes for its proofs). */
export function leavesOf(shard: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  const n = segmentCount(shard.length);
  for (let i = 0; i < n; i++) out.push(leafHash(shard.subarray(i * SEGMENT, (i + 1) * SEGMENT)));
  return out;
}

/** Builds the root incrementally from leaves fed in order (streamed shards: O(log n) memory). */
export class MerkleBuilder {
  /** stack[i] = a pending subtree of 2^i leaves. */
  readonly #stack: (Buffer | null)[] = [];
  /** Every leaf hash in order, when asked for (a prover needs them for a path). */
  readonly leaves: Buffer[] | undefined;

  constructor(o: { keepLeaves?: boolean } = {}) {
    this.leaves = o.keepLeaves ? [] : undefined;
  }

  #count = 0;
  #pending = Buffer.alloc(0);

  /** Feed shard bytes in order, any sizes. */
  update(bytes: Uint8Array): void {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, bytes]) : Buffer.from(bytes);
    let off = 0;
    while (buf.length - off >= SEGMENT) {
      this.#push(leafHash(buf.subarray(off, off + SEGMENT)));
      off += SEGMENT;
    }
    buf = buf.subarray(off);
    this.#pending = Buffer.from(buf);
  }

  #push(leaf: Buffer): void {
    this.leaves?.push(leaf);
    let h = leaf;
    let i = 0;
    while (this.#stack[i] != null) {
      h = nodeHash(this.#stack[i] as Buffer, h);
      this.#stack[i] = null;
      i++;
    }
    this.#stack[i] = h;
    this.#count++;
  }

  /** The root (the tail segment included). Same as rootOf(all the bytes). */
  digest(): Buffer {
    if (this.#pending.length > 0 || this.#count === 0) {
      this.#push(leafHash(this.#pending));
      this.#pending = Buffer.alloc(0);
    }
    // Combine from the smallest subtree up: the odd tail is carried up as the levels above expect.
    let acc: Buffer | null = null;
    for (let i = 0; i < this.#stack.length; i++) {
      const s = this.#stack[i];
      if (s == null) continue;
      acc = acc === null ? s : nodeHash(s, acc);
    }
    return acc as Buffer;
  }
}

/** Root over leaves (level by level; an odd last node goes up unchanged). */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Buffer {
  let level: Buffer[] = leaves.map((l) => Buffer.from(l));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

export const rootOf = (shard: Uint8Array): Buffer => rootOfLeaves(leavesOf(shard));

/** The sibling hashes from leaf `index` up to the root (a carried-up odd node has no sibling). */
export function pathOf(leaves: readonly Uint8Array[], index: number): Buffer[] {
  const path: Buffer[] = [];
  let level: Buffer[] = leaves.map((l) => Buffer.from(l));
  let i = index;
  while (level.length > 1) {
    const sib = i ^ 1;
    if (sib < level.length) path.push(level[sib]);
    const next: Buffer[] = [];
    for (let j = 0; j < level.length; j += 2)
      next.push(j + 1 < level.length ? nodeHash(level[j], level[j + 1]) : level[j]);
    level = next;
    i >>= 1;
  }
  return path;
}

/**
 * Checks `segment` is segment `index` of a shard of `size` bytes with root `root`. The tree's shape comes
 * from the size, so a path of the wrong length or a short segment in the middle fails.
 */
export function verifySegment(
  root: Uint8Array,
  size: number,
  index: number,
  segment: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  const n = segmentCount(size);
  if (!Number.isInteger(index) || index < 0 || index >= n) return false;
  const expected = index === n - 1 ? size - index * SEGMENT : SEGMENT;
  if (segment.length !== expected) return false;
  let h: Buffer = leafHash(segment);
  let i = index;
  let width = n;
  let p = 0;
  while (width > 1) {
    const sib = i ^ 1;
    if (sib < width) {
      if (p >= path.length || path[p].length !== 32) return false;
      h = i & 1 ? nodeHash(path[p], h) : nodeHash(h, path[p]);
      p++;
    }
    i >>= 1;
    width = Math.ceil(width / 2);
  }
  return p === path.length && h.equals(root);
}
