/**
 * Distributed objects, streamed end to end with bounded memory (a few stripes in flight):
 *
 *   put: plaintext -> sealed (AES-256-GCM chunks, seal.ts) -> stripes of k pieces -> RS parity (m pieces)
 *        -> piece i of every stripe to provider i (shard i). Meanwhile the plaintext goes through the IPFS
 *        importer (blocks discarded) for the CID `ipfs add --cid-version 1` gives.
 *   get: k shards streamed from their holders, stripe by stripe (data shards as they are; a missing one
 *        rebuilt from parity), then opened (a wrong or altered piece fails the AEAD tag).
 *   rebuild: one shard's bytes from k others (repair; no key needed: shards are ciphertext).
 *
 * Geometry (derived from the size and k, so every node computes it): sealedSize = sealedSizeOf(size);
 * piece = min(PIECE, sealedSize / k rounded up to 8); shardSize = ceil(sealedSize / (k x piece)) x piece.
 */
import { createHash } from 'node:crypto';
import type { PeerId } from '@libp2p/interface';
import { importer } from 'ipfs-unixfs-importer';
import type { CID } from 'multiformats/cid';
import { VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { ErasureError, encodeShards, reconstructShards } from './erasure.js';
import { geometry } from './geometry.js';
import { IMPORT_OPTIONS } from './local.js';
import { MerkleBuilder } from './merkle.js';
import type { StorageProtocol } from './protocol.js';
import { type Placement, ShardStatus } from './prov.js';
import { newObjectKey, openSealedStream, sealStream } from './seal.js';
import { shardCid } from './shards.js';

/** Stripes whose writes may be waiting for the sinks at once (memory: this x (k + m) x 256 KiB). */
const STRIPES_IN_FLIGHT = 4;

export class DistributedError extends VosError<{ code: string }> {}

export { geometry };

/** Exactly-n-bytes reads from a stream of chunks. */
class Reader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Buffer = Buffer.alloc(0);
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [this.#buf];
    let have = this.#buf.length;
    while (have < n) {
      const r = await this.#it.next();
      if (r.done)
        throw new DistributedError({ code: 'SHARD_TRUNCATED' }, `stream ended ${n - have} bytes short`);
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      parts.push(b);
      have += b.length;
    }
    const all: Buffer = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.#buf = all.subarray(n);
    return all.subarray(0, n);
  }
  /** Reads to the end of the source: nothing may be left (a generator behind it runs its tail). */
  async end(): Promise<void> {
    for (;;) {
      const r = await this.#it.next();
      if (r.done) break;
      if (r.value.length > 0 || this.#buf.length > 0)
        throw new DistributedError({ code: 'TOO_LONG' }, 'more bytes than the declared size');
    }
    if (this.#buf.length > 0)
      throw new DistributedError({ code: 'TOO_LONG' }, 'more bytes than the declared size');
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

/** A bounded hand-off from one producer to one consumer (backpressure both ways). */
class Channel<T> {
  readonly #items: T[] = [];
  #closed = false;
  #error: unknown;
  #wake: (() => void) | null = null;
  #space: (() => void) | null = null;
  constructor(readonly max = 4) {}
  async push(v: T): Promise<void> {
    while (this.#items.length >= this.max && this.#error === undefined)
      await new Promise<void>((r) => {
        this.#space = r;
      });
    if (this.#error !== undefined) throw this.#error;
    this.#items.push(v);
    this.#wake?.();
  }
  close(err?: unknown): void {
    this.#closed = true;
    if (err !== undefined) this.#error = err;
    this.#wake?.();
    this.#space?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const v = this.#items.shift();
      if (v !== undefined) {
        this.#space?.();
        yield v;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
  }
}

/** The CID the IPFS importer gives for a stream (blocks hashed and dropped). */
async function plainCid(source: AsyncIterable<Uint8Array>): Promise<CID> {
  const discard = { put: async (cid: CID) => cid };
  let root: CID | undefined;
  for await (const entry of importer([{ content: source }], discard as never, IMPORT_OPTIONS))
    root = entry.cid;
  if (root === undefined) throw new DistributedError({ code: 'EMPTY' }, 'the importer gave no root');
  return root;
}

export interface ShardSink {
  write(bytes: Uint8Array): Promise<void>;
  end(): Promise<{ cid: CID; root: Uint8Array } | undefined>;
  abort(err: Error): void;
}

export interface EncodedObject {
  cid: CID;
  objectKey: Buffer;
  shardSize: number;
  shards: { cid: CID; root: Buffer }[];
}

/**
 * Seals, codes and streams `size` bytes of `source` into n = k + m sinks (sink i gets shard i); each
 * sink's end must confirm the CID and root computed here. Throws (having aborted every sink) on any
 * failure; a source of another length than `size` is refused.
 */
export async function encodeToShards(
  source: AsyncIterable<Uint8Array>,
  size: number,
  k: number,
  m: number,
  sinks: ShardSink[],
): Promise<EncodedObject> {
  const n = k + m;
  const g = geometry(size, k);
  const objectKey = newObjectKey();
  const hashes = sinks.map(() => createHash('sha256'));
  const trees = sinks.map(() => new MerkleBuilder());
  const plain = new Channel<Uint8Array>(8);
  const cidP = plainCid(plain);
  cidP.catch(() => undefined);
  async function* tapped(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of source) {
        await plain.push(c);
        yield c;
      }
      plain.close();
    } catch (err) {
      plain.close(err);
      throw err;
    }
  }
  try {
    const sealed = new Reader(sealStream(tapped(), size, objectKey));
    const stripe = k * g.piece;
    const inflight: Promise<unknown>[] = [];
    let left = g.sealedSize;
    for (let s = 0; s < g.stripes; s++) {
      const take = Math.min(stripe, left);
      left -= take;
      const bytes = await sealed.read(take);
      const full = take === stripe ? bytes : Buffer.concat([bytes, Buffer.alloc(stripe - take)]);
      // PERF: one RS call per stripe (k x 256 KiB); the n writes go out in parallel, and up to
      // STRIPES_IN_FLIGHT stripes wait for the sinks' drain at once (one at a time was bound by the
      // round trip of each stripe's backpressure).
      const pieces = await encodeShards(full, k, m);
      const written = Promise.all(
        pieces.map((p, i) => {
          hashes[i].update(p);
          trees[i].update(p);
          return sinks[i].write(p);
        }),
      );
      written.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
      inflight.push(written);
      if (inflight.length >= STRIPES_IN_FLIGHT) await inflight.shift();
    }
    await Promise.all(inflight);
    // The sealer's tail checks the length and closes the importer's input.
    await sealed.end();
    const cid = await cidP;
    const shards = hashes.map((h, i) => ({ cid: shardCid(h.digest()), root: trees[i].digest() }));
    const confirmed = await Promise.all(sinks.map((s) => s.end()));
    for (let i = 0; i < n; i++) {
      const c = confirmed[i];
      if (c === undefined || !c.cid.equals(shards[i].cid) || !Buffer.from(c.root).equals(shards[i].root))
        throw new DistributedError(
          { code: 'SHARD_MISMATCH' },
          `provider of shard ${i} computed another digest`,
        );
    }
    return { cid, objectKey, shardSize: g.shardSize, shards };
  } catch (err) {
    plain.close(err);
    for (const s of sinks) s.abort(err as Error);
    throw err;
  }
}

export interface ShardSources {
  protocol: StorageProtocol;
  peerOf(address: string): PeerId;
  /** The bytes of a shard this node holds itself (no stream to itself), else undefined. */
  local?(address: string, cid: CID, offset: number, length: number): AsyncIterable<Uint8Array> | undefined;
  logger?: Logger;
}

/**
 * The sealed bytes of an object from any k healthy shards, stripe by stripe. A holder that fails midway
 * is replaced by the next healthy one at the same offset; fewer than k left is NOT_ENOUGH_SHARDS.
 */
async function* stripes(p: Placement, src: ShardSources, want?: number): AsyncGenerator<(Buffer | null)[]> {
  const g = geometry(p.size, p.k);
  const candidates = p.shards
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.status === ShardStatus.Ok)
    // Data shards first: when all k are up, no decoding at all.
    .sort((a, b) => a.i - b.i);
  let next = 0;
  const open = new Map<number, Reader>();
  const fill = (offset: number) => {
    while (open.size < p.k && next < candidates.length) {
      const { s, i } = candidates[next++];
      if (i === want) continue;
      const address = s.provider.toString();
      const length = p.shardSize - offset;
      const mine = src.local?.(address, s.cid, offset, length);
      open.set(i, new Reader(mine ?? src.protocol.getShard(src.peerOf(address), s.cid, offset, length)));
    }
    if (open.size < p.k)
      throw new ErasureError(
        { code: 'NOT_ENOUGH_SHARDS' },
        `${open.size} of the ${p.k} shards needed could be read (${candidates.length} healthy of ${p.k + p.m})`,
      );
  };
  try {
    for (let s = 0; s < g.stripes; s++) {
      const offset = s * g.piece;
      const slots: (Buffer | null)[] = new Array(p.k + p.m).fill(null);
      let have = 0;
      while (have < p.k) {
        // Readers that gave the last stripe go on; new ones (for failed holders) start at this one.
        fill(offset);
        const pending = [...open.entries()].filter(([i]) => slots[i] === null);
        const got = await Promise.allSettled(pending.map(([, r]) => r.read(g.piece)));
        got.forEach((r, j) => {
          const [i, reader] = pending[j];
          if (r.status === 'fulfilled') {
            slots[i] = r.value;
            have++;
            return;
          }
          src.logger?.warn(
            { shard: i, err: String((r.reason as Error)?.message ?? r.reason) },
            'shard holder failed; trying another',
          );
          open.delete(i);
          void reader.close().catch(() => undefined);
        });
      }
      yield slots;
    }
  } finally {
    for (const r of open.values()) void r.close().catch(() => undefined);
  }
}

/** The sealed object (ciphertext) from the network. */
export async function* sealedObject(p: Placement, src: ShardSources): AsyncGenerator<Buffer> {
  const g = geometry(p.size, p.k);
  let left = g.sealedSize;
  for await (const slots of stripes(p, src)) {
    const haveData = slots.slice(0, p.k).every((x) => x !== null);
    const data = haveData
      ? (slots.slice(0, p.k) as Buffer[])
      : (await reconstructShards(slots, p.k, p.m)).slice(0, p.k);
    for (const d of data) {
      if (left <= 0) break;
      const part = d.subarray(0, Math.min(d.length, left));
      left -= part.length;
      yield part;
    }
  }
}

/** The plaintext, with the object key (opened by the owner). */
export function plainObject(p: Placement, src: ShardSources, objectKey: Uint8Array): AsyncGenerator<Buffer> {
  return openSealedStream(sealedObject(p, src), p.size, objectKey);
}

/** The bytes of shard `index`, rebuilt from k others. */
export async function* rebuildShard(p: Placement, index: number, src: ShardSources): AsyncGenerator<Buffer> {
  for await (const slots of stripes(p, src, index)) {
    const all = await reconstructShards(slots, p.k, p.m);
    yield all[index];
  }
}
