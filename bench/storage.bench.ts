/**
 * Storage building blocks, each beside a baseline of the same run:
 *  - Reed-Solomon RS(4,4) encode and rebuild (4 data shards lost) MB/s, @ronomon/reed-solomon;
 *  - AES-256-GCM sealing MB/s (encryptObject, 256 KiB chunks);
 *  - local put and get of a 200 MiB file (VOS_BENCH_STORAGE_MB) through LocalStore (importer, CIDs,
 *    block files + LevelDB index) beside a raw file copy (fs.copyFile) of the same bytes.
 *  - distributed put and get of the same file over a 4-node devnet of real processes on loopback (the
 *    CLI's `vos store put --distributed` into node0, RS 2+2 over the four providers, placement tx
 *    committed; `vos store get` back), beside the same raw copy.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { decodeShards, encodeShards } from '../services/storage/erasure.js';
import { LocalStore } from '../services/storage/local.js';
import { encryptObject, newObjectKey } from '../services/storage/seal.js';
import { BIN } from './throughput.bench.js';

const MB = Number(process.env.VOS_BENCH_STORAGE_MB ?? 200);
const exec = promisify(execFile);

async function rpcCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return ((await r.json()) as { result: T }).result;
}

/** `vos store put --distributed` then `vos store get` of `file` on a fresh 4-node devnet: MB/s each way. */
async function distributed(dir: string, file: string, bytes: number) {
  const base = 20_000 + Math.floor(Math.random() * 1200) * 10;
  const devnet: ChildProcess = spawn(
    process.execPath,
    [BIN, 'devnet', '--validators', '4', '--dir', join(dir, 'devnet'), '--base-port', String(base)],
    { stdio: 'ignore', env: { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '500' } },
  );
  try {
    const end = Date.now() + 120_000;
    let rpc = '';
    while (Date.now() < end) {
      const f = join(dir, 'devnet', 'devnet.json');
      if (existsSync(f)) {
        rpc = (JSON.parse(await readFile(f, 'utf8')) as { nodes: { rpc: string }[] }).nodes[0].rpc;
        const providers = await rpcCall<unknown[]>(rpc, 'storage_providers', []).catch(() => []);
        if (providers.length === 4) break;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const vos = async (args: string[]) =>
      JSON.parse((await exec(process.execPath, [BIN, ...args, '--json'], { timeout: 600_000 })).stdout) as {
        id: string;
        k: number;
        m: number;
      };
    let t = performance.now();
    const put = await vos(['store', 'put', file, '--distributed', '--rpc', rpc]);
    const putMBps = bytes / 1e6 / ((performance.now() - t) / 1000);
    t = performance.now();
    await vos(['store', 'get', put.id, '-o', join(dir, 'dist-out.bin'), '--rpc', rpc]);
    const getMBps = bytes / 1e6 / ((performance.now() - t) / 1000);
    return { putMBps, getMBps, code: `${put.k}+${put.m}` };
  } finally {
    devnet.kill('SIGTERM');
    await new Promise((r) => devnet.once('exit', r));
  }
}

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
    const d = await distributed(dir, file, bytes);
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
      distributedCode: d.code,
      distributedPutMBps: Math.round(d.putMBps * 10) / 10,
      distributedGetMBps: Math.round(d.getMBps * 10) / 10,
      ratioDistributedPutToRawCopy: d.putMBps / rawCopy,
      ratioDistributedGetToRawCopy: d.getMBps / rawCopy,
      note: 'RS and sealing in memory over 16 MiB; local put/get through the importer/exporter, block files and the LevelDB index; distributed: 4-node devnet on loopback, CLI to node0, shards over libp2p (TCP+noise+yamux), the placement tx committed',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
