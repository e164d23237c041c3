/**
 * Baseline for every throughput figure: this machine's Ed25519 verify rate through node:crypto on one
 * core, through the worker pool (all cores), and pure-JS @noble/curves for comparison.
 */
import { availableParallelism } from 'node:os';
import { ed25519 } from '@noble/curves/ed25519.js';
import { PrivateKey, verifySignature } from '../chain/keys.js';
import { VerifyPool } from '../chain/mempool/verify-pool.js';

function sample(n: number) {
  const keys = Array.from({ length: 64 }, () => PrivateKey.generate());
  return Array.from({ length: n }, (_, i) => {
    const k = keys[i % keys.length];
    const message = new Uint8Array(160).map((_, j) => (i * 31 + j) & 0xff);
    return { publicKey: k.publicKey, message, signature: k.sign(message) };
  });
}

export async function measureVerifyRates(n = 20_000) {
  const items = sample(n);
  let t = performance.now();
  let ok = 0;
  for (const it of items) if (verifySignature(it.publicKey, it.message, it.signature)) ok++;
  const single = n / ((performance.now() - t) / 1000);
  const pool = new VerifyPool();
  await pool.verifyBatch(items.slice(0, 1000)); // warm up workers and key caches
  t = performance.now();
  const batches = [];
  for (let i = 0; i < n; i += 1000) batches.push(pool.verifyBatch(items.slice(i, i + 1000)));
  const results = (await Promise.all(batches)).flat();
  const poolRate = n / ((performance.now() - t) / 1000);
  await pool.close();
  const m = 300;
  t = performance.now();
  for (const it of items.slice(0, m)) ed25519.verify(it.signature, it.message, it.publicKey);
  const noble = m / ((performance.now() - t) / 1000);
  if (ok !== n || results.some((r) => !r)) throw new Error('verification failed in the benchmark');
  return {
    singleCoreVerifyPerSec: Math.round(single),
    poolVerifyPerSec: Math.round(poolRate),
    poolWorkers: availableParallelism(),
    nobleVerifyPerSec: Math.round(noble),
  };
}

export async function run() {
  return measureVerifyRates();
}
