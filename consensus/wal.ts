/**
 * Consensus write-ahead log. Every consensus input is appended before it is handled; own proposals and
 * votes are appended with `sync` (file fsync, and the directory when the file was created) before they
 * leave the process. Record: [u32 length][u32 crc32(payload)][payload]. A height's inputs end with an
 * END_HEIGHT marker (a record whose payload is 0xff || u64 height).
 *
 * Files: one segment per height range, `wal-<firstHeight>.log`; a new segment starts after each
 * END_HEIGHT marker once the current one exceeds SEGMENT_BYTES; segments older than `retainHeights` are
 * deleted. On open, a torn or corrupt tail of the last segment (partial record, CRC mismatch, oversize
 * length) is truncated at the last good record and logged, never fatal: those inputs were never acted
 * upon durably (own signatures are fsynced first, so a torn record is never one that left the node).
 * Corruption in the middle of a segment truncates from there: records after it are not trusted.
 */

import { type FileHandle, mkdir, open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { concatBytes, readU64be, u64be } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export const MAX_WAL_RECORD = 32 * 1024 * 1024;
const HEADER = 8;
const END_HEIGHT_TAG = 0xff;
const SEGMENT_BYTES = 64 * 1024 * 1024;

export interface WalOptions {
  logger?: Logger;
  /** Keep segments covering at least this many recent heights. */
  retainHeights?: number;
}

interface Segment {
  first: number;
  file: string;
}

function frame(payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(HEADER);
  const view = new DataView(head.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload));
  return concatBytes(head, payload);
}

/** Parse records; returns the records and the byte length of the valid prefix. */
export function scanRecords(buf: Uint8Array): { records: Uint8Array[]; validBytes: number } {
  const records: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = view.getUint32(off);
    const crc = view.getUint32(off + 4);
    if (len > MAX_WAL_RECORD || off + HEADER + len > buf.length) break;
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) break;
    records.push(payload);
    off += HEADER + len;
  }
  return { records, validBytes: off };
}

function isEndHeight(r: Uint8Array): number | null {
  return r.length === 9 && r[0] === END_HEIGHT_TAG ? Number(readU64be(r, 1)) : null;
}

export class Wal {
  readonly dir: string;
  readonly #logger: Logger | undefined;
  readonly #retain: number;
  #segments: Segment[] = [];
  #fh!: FileHandle;
  #size = 0;
  #dirty = false;
  #lastEndHeight = 0;
  #closed = false;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, opts: WalOptions) {
    this.dir = dir;
    this.#logger = opts.logger;
    this.#retain = opts.retainHeights ?? 100;
  }

  static async open(dir: string, opts: WalOptions = {}): Promise<Wal> {
    const wal = new Wal(dir, opts);
    await wal.#open();
    return wal;
  }

  get lastEndHeight(): number {
    return this.#lastEndHeight;
  }

  async #open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => /^wal-\d+\.log$/.test(n));
    this.#segments = names
      .map((n) => ({ first: Number(n.slice(4, -4)), file: join(this.dir, n) }))
      .sort((a, b) => a.first - b.first);
    if (this.#segments.length === 0) {
      await this.#newSegment(0);
      return;
    }
    // Repair the tail of every segment (only the last one can legitimately be torn).
    for (const seg of this.#segments) {
      const buf = new Uint8Array(await readFile(seg.file));
      const { records, validBytes } = scanRecords(buf);
      if (validBytes < buf.length) {
        this.#logger?.warn(
          { file: seg.file, droppedBytes: buf.length - validBytes },
          'WAL: truncating a torn or corrupt tail',
        );
        await truncate(seg.file, validBytes);
      }
      for (const r of records) {
        const h = isEndHeight(r);
        if (h !== null) this.#lastEndHeight = h;
      }
    }
    const last = this.#segments[this.#segments.length - 1];
    this.#fh = await open(last.file, 'a');
    this.#size = (await this.#fh.stat()).size;
  }

  async #newSegment(first: number): Promise<void> {
    const file = join(this.dir, `wal-${String(first).padStart(12, '0')}.log`);
    await this.#fh?.close();
    this.#fh = await open(file, 'a');
    this.#size = 0;
    this.#segments.push({ first, file });
    await this.#fh.sync();
    await syncDir(this.dir);
  }

  /** Append one record; with `sync`, resolves only after it is on disk. */
  append(payload: Uint8Array, opts: { sync: boolean }): Promise<void> {
    if (payload.length > MAX_WAL_RECORD) {
      return Promise.reject(
        new VosError({ code: 'WAL_RECORD_TOO_LARGE' }, `WAL record of ${payload.length} bytes`),
      );
    }
    return this.#serial(async () => {
      if (payload.length > 0 && payload[0] === END_HEIGHT_TAG && payload.length === 9) {
        throw new VosError({ code: 'WAL_RESERVED_RECORD' }, 'record collides with the end-height marker');
      }
      await this.#write(payload, opts.sync);
    });
  }

  /**
   * Mark `height` as committed: replay after a restart starts after this marker. Not fsynced (PERF: one
   * fsync less per block): the block is already durable in the chain DB, and if a crash loses the marker
   * the replay feeds that height's records again, which the driver ignores as stale.
   */
  endHeight(height: number): Promise<void> {
    return this.#serial(async () => {
      await this.#write(concatBytes(new Uint8Array([END_HEIGHT_TAG]), u64be(height)), false);
      this.#lastEndHeight = height;
      if (this.#size >= SEGMENT_BYTES) {
        await this.#newSegment(height + 1);
        await this.#prune(height);
      }
    });
  }

  /** fsync buffered (non-sync) appends. */
  flush(): Promise<void> {
    return this.#serial(async () => {
      if (this.#dirty) await this.#fh.sync();
      this.#dirty = false;
    });
  }

  /** Records after the last END_HEIGHT marker: the inputs of the height in progress. */
  async recordsOfCurrentHeight(): Promise<Uint8Array[]> {
    await this.flush();
    const out: Uint8Array[] = [];
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const { records } = scanRecords(new Uint8Array(await readFile(this.#segments[i].file)));
      let j = records.length - 1;
      for (; j >= 0; j--) if (isEndHeight(records[j]) !== null) break;
      out.unshift(...records.slice(j + 1));
      if (j >= 0) break;
    }
    return out;
  }

  /** Every record (markers excluded) with the height it belongs to; for tests and tools. */
  async readAll(): Promise<{ height: number; payload: Uint8Array }[]> {
    await this.flush();
    const out: { height: number; payload: Uint8Array }[] = [];
    let height = -1;
    for (const seg of this.#segments) {
      for (const r of scanRecords(new Uint8Array(await readFile(seg.file))).records) {
        const h = isEndHeight(r);
        if (h !== null) height = h;
        else out.push({ height: height + 1, payload: r });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#fh.close();
  }

  async #write(payload: Uint8Array, sync: boolean): Promise<void> {
    if (this.#closed) throw new VosError({ code: 'WAL_CLOSED' }, 'WAL is closed');
    const framed = frame(payload);
    await this.#fh.write(framed);
    this.#size += framed.length;
    // PERF: an fsync costs ~1-10 ms here; only own signed messages and height markers pay it.
    if (sync) {
      await this.#fh.sync();
      this.#dirty = false;
    } else this.#dirty = true;
  }

  async #prune(height: number): Promise<void> {
    while (this.#segments.length > 2 && this.#segments[1].first <= height - this.#retain) {
      const old = this.#segments.shift()!;
      await rm(old.file, { force: true });
    }
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
