/**
 * The verify pool survives its workers: a worker that dies mid-batch is replaced and its batch retried
 * on another worker; a batch that kills every worker it meets fails with a clear error (no hang);
 * close() settles what is in flight.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../../chain/keys.js';
import { VerifyPool } from '../../../../chain/mempool/verify-pool.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(5));
const items = Array.from({ length: 300 }, (_, i) => {
  const message = new Uint8Array([i & 0xff, i >> 8, 7]);
  const signature = key.sign(message);
  if (i % 4 === 0) signature[3] ^= 1;
  return { publicKey: key.publicKey, message, signature };
});
const expected = items.map((_, i) => i % 4 !== 0);

/**
 * Each worker message first takes one unit of a shared crash budget; while it lasts, the worker dies
 * before answering: an uncaught exception ('error' then 'exit') or process.exit ('exit' only).
 */
function crashingPool(crashes: number, size = 2, maxAttempts?: number, how: 'throw' | 'exit' = 'throw') {
  const budget = new Int32Array(new SharedArrayBuffer(4));
  budget[0] = crashes;
  const prelude = `
    const wt = require('node:worker_threads');
    const budget = new Int32Array(wt.workerData.budget);
    const on = wt.parentPort.on.bind(wt.parentPort);
    wt.parentPort.on = (event, fn) => on(event, (msg) => {
      if (Atomics.sub(budget, 0, 1) > 0) {
        if (${JSON.stringify(how)} === 'exit') process.exit(7);
        throw new Error('test crash');
      }
      fn(msg);
    });
  `;
  return new VerifyPool(size, { maxAttempts, testHook: { prelude, workerData: { budget: budget.buffer } } });
}

let pools: VerifyPool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});
function track(p: VerifyPool): VerifyPool {
  pools.push(p);
  return p;
}

describe('verify pool worker crashes', () => {
  it.each(['throw', 'exit'] as const)(
    'replaces a worker that dies mid-batch (%s) and retries its batch: right results, later batches work',
    async (how) => {
      const pool = track(crashingPool(1, 2, undefined, how));
      expect(await pool.verifyBatch(items)).toEqual(expected);
      expect(pool.crashes).toBe(1);
      expect(pool.workers).toBe(2);
      expect(await pool.verifyBatch(items.slice(0, 100))).toEqual(expected.slice(0, 100));
    },
  );

  it('a batch whose worker dies on every try fails with VERIFY_WORKER_CRASHED, and the pool goes on', async () => {
    const pool = track(crashingPool(3, 1, 3));
    await expect(pool.verifyBatch(items.slice(0, 40))).rejects.toMatchObject({
      code: 'VERIFY_WORKER_CRASHED',
      message: expect.stringMatching(/worker died 3 times/),
    });
    expect(pool.crashes).toBe(3);
    expect(await pool.verifyBatch(items.slice(0, 40))).toEqual(expected.slice(0, 40));
  });

  it('a worker terminated while a batch is in flight is replaced; the batch still resolves', async () => {
    const pool = track(new VerifyPool(2));
    const pending = pool.verifyBatch(items);
    await new Promise((r) => setImmediate(r)); // the batch is flushed to the workers
    await pool.workersForTest()[0].terminate();
    expect(await pending).toEqual(expected);
    expect(pool.crashes).toBe(1);
    expect(pool.workers).toBe(2);
    expect(await pool.verifyBatch(items)).toEqual(expected);
  });

  it('stops respawning workers that keep dying and verifies on the main thread instead', async () => {
    const pool = track(crashingPool(1_000, 1, 2));
    for (let i = 0; i < 3; i++) await pool.verifyBatch(items.slice(0, 40)).catch(() => undefined);
    expect(pool.workers).toBe(0);
    expect(await pool.verifyBatch(items.slice(0, 40))).toEqual(expected.slice(0, 40));
  });

  it('close() rejects what is in flight instead of leaving it pending', async () => {
    const prelude = `
      require('node:worker_threads').parentPort.on('message', () => {
        const end = Date.now() + 10_000;
        while (Date.now() < end);
      });
    `;
    const pool = new VerifyPool(1, { testHook: { prelude, workerData: null } });
    const pending = pool.verifyBatch(items.slice(0, 40));
    await new Promise((r) => setImmediate(r));
    await pool.close();
    await expect(pending).rejects.toMatchObject({ code: 'VERIFY_POOL_CLOSED' });
  });
});
