/**
 * State tree at 1,000,000 keys: updates/s including root computation and persistence (LevelDB batch),
 * proof size and proof verification rate. Baseline in the same run: raw LevelDB batch writes of the
 * same number of records (what persisting alone costs on this disk).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { sha256 } from '../chain/hash.js';
import { encodeProof, verifyProof } from '../chain/state/proof.js';
import { StateTree } from '../chain/state/tree.js';
import { u64be } from '../util/bytes.js';

const key = (i: number) => u64be(i);
// PERF: values come from one random pool; generating them is not what is measured.
const POOL = randomBytes(1 << 20);
let poolOff = 0;
const value = () => {
  poolOff = (poolOff + 40) % (POOL.length - 40);
  return POOL.subarray(poolOff, poolOff + 40);
};

export async function run(opts: { keys?: number; batch?: number; measureBatches?: number } = {}) {
  const total = opts.keys ?? Number(process.env.VOS_BENCH_KEYS ?? 1_000_000);
  const batch = opts.batch ?? 10_000;
  const measureBatches = opts.measureBatches ?? 10;
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-tree-'));
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    const tree = await StateTree.open(db);
    let version = 0;
    const t0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      const changes: [Uint8Array, Uint8Array][] = [];
      for (let j = i; j < Math.min(total, i + batch); j++) changes.push([key(j), value()]);
      await tree.commit(changes, ++version);
    }
    const buildSeconds = (performance.now() - t0) / 1000;
    // Measured phase: random updates of existing keys at full size, root + persist per batch.
    let ops = 0;
    let nodesWritten = 0;
    const batches = Array.from({ length: measureBatches }, () =>
      Array.from({ length: batch }, (): [Uint8Array, Uint8Array] => [
        key(Math.floor(Math.random() * total)),
        value(),
      ]),
    );
    const t1 = performance.now();
    for (const changes of batches) {
      const staged = await tree.stage(changes, ++version);
      // biome-ignore lint/suspicious/noExplicitAny: op shape matches the batch API
      await db.batch(staged.ops as any);
      tree.commitStaged(staged);
      ops += batch;
      nodesWritten += staged.ops.length;
    }
    const updateSeconds = (performance.now() - t1) / 1000;
    // Baseline: raw LevelDB writes of the same number of records of the same mean size.
    const recs = Math.round(nodesWritten / measureBatches);
    const rawBatches = Array.from({ length: measureBatches }, (_, b) =>
      Array.from({ length: recs }, (_, j) => ({
        type: 'put' as const,
        key: sha256(u64be(b * recs + j + 1e12)),
        value: POOL.subarray(j % 1000, (j % 1000) + 65),
      })),
    );
    const t2 = performance.now();
    for (const raw of rawBatches) await db.batch(raw);
    const rawSeconds = (performance.now() - t2) / 1000;
    // Proofs at full size.
    const sizes: number[] = [];
    const proofs = [];
    for (let i = 0; i < 1000; i++) {
      const k = key(Math.floor(Math.random() * total * 1.1)); // ~10% absent keys
      const p = await tree.prove(k);
      proofs.push({ k, p });
      sizes.push(encodeProof(p).length);
    }
    const t3 = performance.now();
    for (const { k, p } of proofs)
      if (!verifyProof(tree.root, k, p, sha256).ok) throw new Error('proof failed');
    const verifySeconds = (performance.now() - t3) / 1000;
    const updatesPerSec = Math.round(ops / updateSeconds);
    const rawRecordsPerSec = Math.round((recs * measureBatches) / rawSeconds);
    return {
      keys: total,
      batchSize: batch,
      buildSeconds: Number(buildSeconds.toFixed(1)),
      updatesPerSec,
      nodesWrittenPerUpdate: Number((nodesWritten / ops).toFixed(2)),
      baselineRawLevelDbRecordsPerSec: rawRecordsPerSec,
      treeUpdatesVsRawRecordWrites: Number((updatesPerSec / rawRecordsPerSec).toFixed(3)),
      proofBytesMean: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      proofBytesMax: Math.max(...sizes),
      proofVerifyPerSec: Math.round(proofs.length / verifySeconds),
      goal: 'updatesPerSec >= 50000, proofBytesMax <= 1024',
    };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
