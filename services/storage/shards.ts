/**
 * The shards this node holds as a provider, as files `<dir>/<2 chars>/<shard CID>` (the bytes of a
 * shard are opaque ciphertext pieces; sha256 over them is the CID's digest). A shard is written to a
 * temporary file while its sha256 and Merkle root are computed, and kept only if both match what the
 * sender declared: a shard that does not match its CID is refused.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { PeerAction, VosError } from '../../util/errors.js';
import { SEGMENT } from './limits.js';
import { MerkleBuilder, pathOf, segmentCount } from './merkle.js';

export type ShardErrorCode = 'SHARD_MISMATCH' | 'SHARD_NOT_FOUND' | 'SHARD_SIZE' | 'SHARD_STORE_FULL';
export class ShardError extends VosError<{ code: ShardErrorCode }> {}

export const RAW = 0x55;
export const SHA256 = 0x12;

export function shardCid(digest: Uint8Array): CID {
  return CID.createV1(RAW, createDigest(SHA256, digest));
}

export interface StoredShard {
  cid: CID;
  size: number;
  mtimeMs: number;
}

export class ShardStore {
  usedBytes = 0;
  #tmp = 0;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  static async open(dir: string, maxBytes: number): Promise<ShardStore> {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await rm(join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const s = new ShardStore(dir, maxBytes);
    for (const x of await s.list()) s.usedBytes += x.size;
    return s;
  }

  #file(cid: CID): string {
    const id = cid.toString();
    return join(this.dir, id.slice(-2), id);
  }

  async list(): Promise<StoredShard[]> {
    const out: StoredShard[] = [];
    for (const sub of await readdir(this.dir)) {
      if (sub === 'tmp') continue;
      for (const name of await readdir(join(this.dir, sub)).catch(() => [] as string[])) {
        let cid: CID;
        try {
          cid = CID.parse(name);
        } catch {
          continue;
        }
        const st = await stat(join(this.dir, sub, name)).catch(() => undefined);
        if (st !== undefined) out.push({ cid, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  async has(cid: CID): Promise<boolean> {
    return (await stat(this.#file(cid)).catch(() => undefined)) !== undefined;
  }

  /**
   * A writer for a shard of `size` bytes that must hash to `cid` and have Merkle root `root`: feed it
   * the bytes (with backpressure), then `finish()`; `abort()` drops it. Refused at once if it does
   * not fit the store's budget.
   */
  async writer(size: number, expect?: { cid: CID; root: Uint8Array }): Promise<ShardWriter> {
    if (size < 1) throw new ShardError({ code: 'SHARD_SIZE' }, 'empty shard');
    if (this.usedBytes + size > this.maxBytes)
      throw new ShardError(
        { code: 'SHARD_STORE_FULL' },
        `no room for ${size} bytes (${this.usedBytes} of ${this.maxBytes} used)`,
      );
    const tmp = join(this.dir, 'tmp', `${process.pid}-${++this.#tmp}`);
    this.usedBytes += size;
    return new ShardWriter(this, size, expect, tmp);
  }

  /** Called by a writer that ended (kept or not): `size` was reserved. */
  release(size: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - size);
  }

  /** Streams bytes [offset, offset + length) of a shard. */
  read(cid: CID, offset = 0, length?: number): AsyncIterable<Buffer> {
    const end = length === undefined ? undefined : offset + length - 1;
    return createReadStream(this.#file(cid), { start: offset, end, highWaterMark: 1024 * 1024 });
  }

  async size(cid: CID): Promise<number | undefined> {
    return (await stat(this.#file(cid)).catch(() => undefined))?.size;
  }

  async remove(cid: CID): Promise<boolean> {
    const size = await this.size(cid);
    if (size === undefined) return false;
    await rm(this.#file(cid), { force: true });
    this.usedBytes = Math.max(0, this.usedBytes - size);
    return true;
  }

  /**
   * Segment `index` of a shard and its Merkle path (an audit answer). PERF: reads the whole shard to
   * compute the leaves (one sequential pass, ~1 s per GB); a leaf cache would make it one segment read.
   */
  async segmentProof(cid: CID, index: number): Promise<{ segment: Buffer; path: Buffer[] }> {
    const size = await this.size(cid);
    if (size === undefined) throw new ShardError({ code: 'SHARD_NOT_FOUND' }, `no shard ${cid}`);
    // One pass: the leaves (for the path) and the challenged segment's bytes as they go by.
    const tree = new MerkleBuilder({ keepLeaves: true });
    const start = index * SEGMENT;
    const segment = Buffer.alloc(Math.max(0, Math.min(SEGMENT, size - start)));
    let pos = 0;
    for await (const chunk of this.read(cid)) {
      tree.update(chunk);
      const from = Math.max(start, pos);
      const to = Math.min(start + segment.length, pos + chunk.length);
      if (to > from) chunk.copy(segment, from - start, from - pos, to - pos);
      pos += chunk.length;
    }
    tree.digest();
    const leaves = tree.leaves as Buffer[];
    if (pos !== size || leaves.length !== segmentCount(size))
      throw new ShardError({ code: 'SHARD_SIZE' }, 'shard changed while read');
    return { segment, path: pathOf(leaves, index) };
  }

  async finalize(tmp: string, cid: CID): Promise<void> {
    const file = this.#file(cid);
    await mkdir(join(file, '..'), { recursive: true });
    await rename(tmp, file);
  }
}

export class ShardWriter {
  readonly #hash = createHash('sha256');
  readonly #merkle = new MerkleBuilder();
  readonly #out: WriteStream;
  #written = 0;
  #done = false;

  constructor(
    private readonly store: ShardStore,
    readonly size: number,
    private readonly expect: { cid: CID; root: Uint8Array } | undefined,
    private readonly tmp: string,
  ) {
    this.#out = createWriteStream(tmp);
  }

  /** Appends bytes; resolves when the file can take more. Too many bytes is SHARD_SIZE (peer fault). */
  async write(bytes: Uint8Array): Promise<void> {
    this.#written += bytes.length;
    if (this.#written > this.size)
      throw new ShardError({ code: 'SHARD_SIZE' }, `more than the declared ${this.size} bytes`, {
        peerAction: PeerAction.Reject,
      });
    this.#hash.update(bytes);
    this.#merkle.update(bytes);
    if (!this.#out.write(bytes)) await new Promise<void>((r) => this.#out.once('drain', () => r()));
  }

  /**
   * Checks the size (and the expected CID and root, if given), then keeps the shard under its CID. A
   * mismatch removes it and is a peer fault.
   */
  async finish(): Promise<{ cid: CID; root: Buffer }> {
    await new Promise<void>((resolve, reject) =>
      this.#out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    try {
      if (this.#written !== this.size)
        throw new ShardError({ code: 'SHARD_SIZE' }, `${this.#written} bytes, ${this.size} declared`, {
          peerAction: PeerAction.Reject,
        });
      const cid = shardCid(this.#hash.digest());
      const root = this.#merkle.digest();
      if (
        this.expect !== undefined &&
        (!cid.equals(this.expect.cid) || !root.equals(Buffer.from(this.expect.root)))
      )
        throw new ShardError({ code: 'SHARD_MISMATCH' }, `the bytes do not match shard ${this.expect.cid}`, {
          peerAction: PeerAction.Reject,
        });
      if (await this.store.has(cid)) {
        // Already held (the same bytes): keep one copy.
        await rm(this.tmp, { force: true });
        this.store.release(this.size);
      } else {
        await this.store.finalize(this.tmp, cid);
      }
      this.#done = true;
      return { cid, root };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#out.destroy();
    await rm(this.tmp, { force: true });
    this.store.release(this.size);
  }
}
