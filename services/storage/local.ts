/**
 * Local content-addressed storage: files in and out as streams, chunked and addressed by the IPFS
 * reference importer/exporter with the settings `ipfs add --cid-version 1` uses (UnixFS, 256 KiB fixed
 * chunks, raw leaves, sha2-256, balanced DAG of 174 links per node), so a VOS CID is the one any IPFS
 * tool computes for the same bytes. Objects are pinned; GC removes blocks no pin reaches.
 *
 * Memory stays bounded whatever the size: the importer pulls chunks from the source as it writes
 * blocks (backpressure), and the exporter yields chunks as they are read.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagPb from '@ipld/dag-pb';
import { ClassicLevel } from 'classic-level';
import { exporter } from 'ipfs-unixfs-exporter';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { CID } from 'multiformats/cid';
import { asList, asNumber, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { prefixRange } from '../../util/bytes.js';
import { LevelBlockstore, StorageError } from './blockstore.js';
import { KEY_FORMAT, PIN_PREFIX, pinKey, STORAGE_FORMAT } from './layout.js';

export const CHUNK_SIZE = 256 * 1024;

/** The importer settings of `ipfs add --cid-version 1` (kubo's defaults with CIDv1). */
export const IMPORT_OPTIONS = {
  profile: 'unixfs-v0-2015',
  cidVersion: 1,
  rawLeaves: true,
  chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
  // PERF: one file at a time; a few block writes in flight keep LevelDB busy without buffering much.
  blockWriteConcurrency: 8,
} as const;

/** Blocks the exporter reads in parallel, and the bytes asked of it at a time (see get). */
const READ_AHEAD_BLOCKS = 4;
const READ_WINDOW_BYTES = 16 * CHUNK_SIZE;

export interface PutResult {
  cid: CID;
  size: number;
}

export interface StatResult {
  cid: string;
  size: number;
  pinned: boolean;
  pinnedAt: number | null;
}

export function parseCid(s: string): CID {
  try {
    return CID.parse(s.trim());
  } catch (err) {
    throw new StorageError(
      { code: 'INVALID_CID' },
      `not a CID: ${s.slice(0, 100)} (${(err as Error).message})`,
    );
  }
}

export class LocalStore {
  readonly blocks: LevelBlockstore;
  #gcRunning: Promise<unknown> | null = null;

  private constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    dir: string,
  ) {
    this.blocks = new LevelBlockstore(db, join(dir, 'blocks'));
  }

  static async open(dir: string): Promise<LocalStore> {
    const path = join(dir, 'index');
    await mkdir(dir, { recursive: true });
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const format = await db.get(KEY_FORMAT);
    if (format === undefined) await db.put(KEY_FORMAT, Uint8Array.of(STORAGE_FORMAT));
    else if (format[0] !== STORAGE_FORMAT) {
      await db.close();
      throw new StorageError(
        { code: 'STORAGE_FORMAT' },
        `the storage DB at ${path} has format ${format[0]}, this node reads ${STORAGE_FORMAT}: move it away`,
      );
    }
    const store = new LocalStore(db, dir);
    await store.blocks.countUsed();
    return store;
  }

  /** Bytes of all blocks stored here. */
  get usedBytes(): number {
    return this.blocks.usedBytes;
  }

  /**
   * Import a stream and pin its root. `maxBytes` (the owner's quota left): more bytes than that stop the
   * import with QUOTA_EXCEEDED; on any failure the blocks this put wrote and no pin reaches are removed.
   */
  async put(source: AsyncIterable<Uint8Array>, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    const written: CID[] = [];
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    let seen = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        seen += chunk.length;
        if (seen > limit)
          throw new StorageError(
            { code: 'QUOTA_EXCEEDED' },
            `the object exceeds the ${limit} bytes left in the quota`,
          );
        yield chunk;
      }
    }
    const store = {
      put: async (cid: CID, v: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) => {
        written.push(cid);
        return this.blocks.putOwn(cid, v);
      },
    };
    try {
      let root: CID | undefined;
      // (entry.size is the DAG's size; the object's size is the bytes that came in.)
      for await (const entry of importer([{ content: counted() }], store, IMPORT_OPTIONS)) root = entry.cid;
      if (root === undefined) throw new Error('the importer produced no root');
      await this.db.put(pinKey(root), encodeRlp([BigInt(seen), BigInt(Date.now())]));
      return { cid: root, size: seen };
    } catch (err) {
      await this.#removeUnpinned(written);
      throw err;
    } finally {
      this.blocks.release(written);
    }
  }

  /** `put` of bytes already in memory. */
  putBytes(bytes: Uint8Array, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    return this.put(
      (async function* () {
        yield bytes;
      })(),
      opts,
    );
  }

  /** The object's bytes from `offset`, `length` of them (all by default), as chunks. */
  async *get(cid: CID, range: { offset?: number; length?: number } = {}): AsyncGenerator<Uint8Array> {
    if (!(await this.blocks.has(cid)))
      throw new StorageError({ code: 'NOT_FOUND', cid: cid.toString() }, `${cid} is not stored on this node`);
    const entry = await exporter(cid, this.blocks);
    if (entry.type !== 'file' && entry.type !== 'raw')
      throw new StorageError(
        { code: 'NOT_FOUND', cid: cid.toString() },
        `${cid} is a ${entry.type}, not a file`,
      );
    // The exporter walks the whole requested range into an unbounded queue whatever the consumer reads
    // (no backpressure): asked window by window, it holds at most one window in memory.
    const size = Number(entry.size);
    let pos = Math.min(range.offset ?? 0, size);
    const end = Math.min(size, range.length === undefined ? size : pos + range.length);
    while (pos < end) {
      const length = Math.min(READ_WINDOW_BYTES, end - pos);
      yield* entry.content({ offset: pos, length, blockReadConcurrency: READ_AHEAD_BLOCKS });
      pos += length;
    }
  }

  /** The object's size (from its root block) and pin. */
  async stat(cid: CID): Promise<StatResult> {
    if (!(await this.blocks.has(cid)))
      throw new StorageError({ code: 'NOT_FOUND', cid: cid.toString() }, `${cid} is not stored on this node`);
    const entry = await exporter(cid, this.blocks);
    const pin = await this.db.get(pinKey(cid));
    const fields = pin === undefined ? null : asList(decodeRlp(pin, 'pin'), 'pin', 2);
    return {
      cid: cid.toString(),
      size: Number(entry.size),
      pinned: pin !== undefined,
      pinnedAt: fields === null ? null : asNumber(fields[1], 'pin.pinnedAt'),
    };
  }

  async pin(cid: CID): Promise<StatResult> {
    const s = await this.stat(cid);
    if (!s.pinned) await this.db.put(pinKey(cid), encodeRlp([BigInt(s.size), BigInt(Date.now())]));
    return this.stat(cid);
  }

  async unpin(cid: CID): Promise<void> {
    await this.db.del(pinKey(cid));
  }

  async *pins(): AsyncGenerator<CID> {
    for await (const k of this.db.keys(prefixRange(PIN_PREFIX)))
      yield CID.decode(k.subarray(PIN_PREFIX.length));
  }

  /** Mark every block a pin reaches, then delete the others (not those of a put in progress). */
  async gc(): Promise<{ removedBlocks: number; removedBytes: number }> {
    while (this.#gcRunning !== null) await this.#gcRunning;
    const run = this.#sweep(await this.#reachable());
    this.#gcRunning = run;
    try {
      return await run;
    } finally {
      this.#gcRunning = null;
    }
  }

  async #reachable(): Promise<Set<string>> {
    const live = new Set<string>();
    const stack: CID[] = [];
    for await (const p of this.pins()) stack.push(p);
    while (stack.length > 0) {
      const cid = stack.pop() as CID;
      const id = cid.toString();
      if (live.has(id)) continue;
      live.add(id);
      if (cid.code !== dagPb.code) continue; // raw leaves have no links
      const bytes = await this.blocks.getBytes(cid);
      if (bytes === undefined) continue;
      for (const link of dagPb.decode(bytes).Links) stack.push(link.Hash);
    }
    return live;
  }

  async #sweep(live: Set<string>): Promise<{ removedBlocks: number; removedBytes: number }> {
    let removedBlocks = 0;
    let removedBytes = 0;
    for await (const { cid, size } of this.blocks.all()) {
      const id = cid.toString();
      if (live.has(id) || this.blocks.inflight.has(id)) continue;
      await this.blocks.delete(cid);
      removedBlocks++;
      removedBytes += size;
    }
    return { removedBlocks, removedBytes };
  }

  /** After a failed put: its blocks that no pin reaches (a block may be shared with a pinned object). */
  async #removeUnpinned(written: CID[]): Promise<void> {
    if (written.length === 0) return;
    const live = await this.#reachable();
    // Not those another put in progress also wrote (the same chunk in two objects).
    for (const c of written)
      if (!live.has(c.toString()) && (this.blocks.inflight.get(c.toString()) ?? 0) <= 1)
        await this.blocks.delete(c);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
