/**
 * Storage building blocks, each beside a baseline of the same run:
 *  - Reed-Solomon RS(4,4) encode and rebuild (4 data shards lost) MB/s, @ronomon/reed-solomon;
 *  - AES-256-GCM sealing MB/s (encryptObject, 256 KiB chunks);
 *  - local put and get of a 200 MiB file (VOS_BENCH_STORAGE_MB) through LocalStore (importer, CIDs,
 *    block files + LevelDB index) beside a raw file copy (fs.copyFile) of the same bytes.
 * Distributed put/get (shards over providers) is not built yet.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decodeShards, encodeShards } from '../services/storage/erasure.js';
import { LocalStore } from '../services/storage/local.js';
import { encryptObject, newObjectKey } from '../services/storage/seal.js';

const MB = Number(process.env.VOS_BENCH_STORAGE_MB ?? 200);

async function mbPerSec(bytes: number, fn: () => Promise<unknown> | unknown, minMs = 1500): Promise<number> {
  await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    await fn();
    n++;
  }
  return (n * bytes) / 1e6 / ((performance.now() - t0) / 1000);
}

export async function run() {
  const object = randomBytes(16 * 1024 * 1024);
  const encode = await mbPerSec(object.length, () => encodeShards(object, 4, 4));
  // The binding alone on buffers allocated once (what the library's own benchmark measures).
  const RS = createRequire(import.meta.url)('@ronomon/reed-solomon');
  const ctx = RS.create(4, 4);
  const parityOnly = Buffer.allocUnsafe(object.length);
  const rawEncode = await mbPerSec(
    object.length,
    () =>
      new Promise<void>((resolve, reject) =>
        RS.encode(
          ctx,
          0x0f,
          0xf0,
          object,
          0,
          object.length,
          parityOnly,
          0,
          parityOnly.length,
          (e: Error | undefined) => (e ? reject(e) : resolve()),
        ),
      ),
  );
  const shards = await encodeShards(object, 4, 4);
  const lost = shards.map((s, i) => (i < 4 ? null : s));
  const rebuild = await mbPerSec(object.length, () => decodeShards(lost, 4, 4, object.length));
  const copyMem = await mbPerSec(object.length, () => Buffer.from(object));
  const key = newObjectKey();
  const seal = await mbPerSec(object.length, () => encryptObject(object, key));

  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-storage-'));
  try {
    const file = join(dir, 'in.bin');
    const w = createWriteStream(file);
    for (let i = 0; i < MB / 4; i++)
      if (!w.write(randomBytes(4 * 1024 * 1024))) await new Promise<void>((r) => w.once('drain', () => r()));
    await new Promise<void>((r) => w.end(() => r()));
    const bytes = MB * 1024 * 1024;
    let t = performance.now();
    await copyFile(file, join(dir, 'copy.bin'));
    const rawCopy = bytes / 1e6 / ((performance.now() - t) / 1000);
    const store = await LocalStore.open(join(dir, 'store'));
    t = performance.now();
    const { cid } = await store.put(createReadStream(file));
    const put = bytes / 1e6 / ((performance.now() - t) / 1000);
    t = performance.now();
    await pipeline(Readable.from(store.get(cid)), createWriteStream(join(dir, 'out.bin')));
    const get = bytes / 1e6 / ((performance.now() - t) / 1000);
    await store.close();
    await writeFile(join(dir, 'done'), '');
    return {
      rsEncode44MBps: Math.round(encode),
      rsBindingEncode44MBps: Math.round(rawEncode),
      rsRebuild44From4ParityMBps: Math.round(rebuild),
      sealAesGcmMBps: Math.round(seal),
      baselineMemoryCopyMBps: Math.round(copyMem),
      localObjectMB: MB,
      localPutMBps: Math.round(put),
      localGetMBps: Math.round(get),
      baselineRawFileCopyMBps: Math.round(rawCopy),
      ratioLocalPutToRawCopy: put / rawCopy,
      ratioLocalGetToRawCopy: get / rawCopy,
      note: 'RS and sealing in memory over 16 MiB; local put/get through the importer/exporter, block files and the LevelDB index',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
