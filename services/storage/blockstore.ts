/**
 * Blocks by CID, as the IPFS importer and exporter read and write them (interface-blockstore's
 * put/get). Every put checks the bytes against the CID's sha2-256 multihash first: a block that does
 * not match its CID is refused, whoever sent it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { prefixRange } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import { BLOCK_PREFIX, blockKey } from './layout.js';

export type StorageErrorCode =
  | 'BLOCK_MISMATCH'
  | 'BLOCK_NOT_FOUND'
  | 'UNSUPPORTED_HASH'
  | 'NOT_FOUND'
  | 'QUOTA_EXCEEDED'
  | 'INVALID_CID'
  | 'TOO_LARGE'
  | 'STORAGE_FORMAT';
export class StorageError extends VosError<{ code: StorageErrorCode; cid?: string }> {}

type Db = ClassicLevel<Uint8Array, Uint8Array>;

async function concat(v: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (v instanceof Uint8Array) return v;
  const parts: Uint8Array[] = [];
  for await (const p of v as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

/**
 * Blocks as files (`<dir>/<2 chars>/<cid>`), indexed in LevelDB (`b/<cid>` -> size). Not as LevelDB
 * values: LevelDB maps its table files into memory to read them (reading 1 GiB of content made the
 * node's RSS 1.2 GB of mapped file pages) and rewrites values on every compaction.
 */
export class LevelBlockstore {
  /** Blocks written by puts still in progress, with how many puts wrote each (GC leaves them alone). */
  readonly inflight = new Map<string, number>();

  /** Bytes of all stored blocks (counted at open, then kept up to date). */
  usedBytes = 0;

  constructor(
    private readonly db: Db,
    private readonly dir: string,
  ) {}

  async countUsed(): Promise<void> {
    let n = 0;
    for await (const { size } of this.all()) n += size;
    this.usedBytes = n;
  }

  private file(cid: CID): string {
    const id = cid.toString();
    return join(this.dir, id.slice(-2), id);
  }

  /** A block from anywhere: checked against its CID before it is written. */
  async put(cid: CID, value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    const bytes = await concat(value);
    await verifyBlock(cid, bytes);
    return this.write(cid, bytes);
  }

  /** A block this node's importer just hashed (PERF: not hashed a second time). */
  async putOwn(cid: CID, value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    return this.write(cid, await concat(value));
  }

  private async write(cid: CID, bytes: Uint8Array): Promise<CID> {
    const id = cid.toString();
    this.inflight.set(id, (this.inflight.get(id) ?? 0) + 1);
    // The same chunk in two objects is one block.
    if (await this.has(cid)) return cid;
    const file = this.file(cid);
    await mkdir(dirname(file), { recursive: true });
    // Whole or not at all: a crash leaves a .tmp file, never a short block under its CID.
    tmpCounter = (tmpCounter + 1) % 1e9;
    const tmp = `${file}.${process.pid}.${tmpCounter}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
    await this.db.put(blockKey(cid), sizeBytes(bytes.length));
    this.usedBytes += bytes.length;
    return cid;
  }

  /** A put that wrote these is over. */
  release(written: CID[]): void {
    for (const c of written) {
      const id = c.toString();
      const n = (this.inflight.get(id) ?? 1) - 1;
      if (n <= 0) this.inflight.delete(id);
      else this.inflight.set(id, n);
    }
  }

  async *get(cid: CID): AsyncGenerator<Uint8Array> {
    const v = await this.getBytes(cid);
    if (v === undefined)
      throw new StorageError(
        { code: 'BLOCK_NOT_FOUND', cid: cid.toString() },
        `block ${cid} is not stored here`,
      );
    yield v;
  }

  /** PERF: the file alone (a file is only ever renamed into place whole, after its bytes were checked). */
  async getBytes(cid: CID): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(cid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(cid: CID): Promise<boolean> {
    return (await this.db.get(blockKey(cid))) !== undefined;
  }

  async delete(cid: CID): Promise<void> {
    const v = await this.db.get(blockKey(cid));
    if (v === undefined) return;
    await this.db.del(blockKey(cid));
    await rm(this.file(cid), { force: true });
    this.usedBytes -= sizeOf(v);
  }

  /** Every stored block's CID and size. */
  async *all(): AsyncGenerator<{ cid: CID; size: number }> {
    for await (const [k, v] of this.db.iterator(prefixRange(BLOCK_PREFIX)))
      yield { cid: CID.decode(k.subarray(BLOCK_PREFIX.length)), size: sizeOf(v) };
  }
}

let tmpCounter = 0;
const sizeBytes = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const sizeOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);

/** The bytes hash to the CID (sha2-256 only: the one hash VOS content uses). */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== sha256.code)
    throw new StorageError(
      { code: 'UNSUPPORTED_HASH', cid: cid.toString() },
      `block ${cid} uses hash 0x${cid.multihash.code.toString(16)}; VOS stores sha2-256 blocks only`,
    );
  const digest = await sha256.digest(bytes);
  if (!Buffer.from(digest.digest).equals(Buffer.from(cid.multihash.digest)))
    throw new StorageError(
      { code: 'BLOCK_MISMATCH', cid: cid.toString() },
      `bytes do not match block ${cid}`,
    );
}
