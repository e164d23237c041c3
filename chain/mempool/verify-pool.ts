/**
 * Ed25519 verification on worker threads so every core verifies (OpenSSL through node:crypto in each).
 * Requests are micro-batched: collected for up to one tick, then split evenly over the workers, one
 * message per worker with the batch packed in one transferable buffer.
 * PERF: a verify costs ~90 us; message passing per batch ~50 us, so batches of >= 64 amortise it.
 * A worker that dies (an uncaught error, an exit) is replaced and its in-flight jobs go to another
 * worker, up to maxAttempts tries per job; then the job fails with VERIFY_WORKER_CRASHED (never hangs).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { passesEd25519Rule } from '../ed25519-rule.js';
import { verifySignature } from '../keys.js';
import type { SignatureVerifier, VerifyItem, VerifyOptions } from '../ledger/verifier.js';

// Worker: receives {id, buf, n} where buf packs n items as [u32 msgLen][32 pub][64 sig][msg], answers
// {id, ok: Uint8Array(n)}. Plain CommonJS so it runs from dist/ and under jest alike.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const cache = new Map();
function keyOf(pub) {
  const id = pub.toString('latin1');
  let k = cache.get(id);
  if (k === undefined) {
    k = crypto.createPublicKey({ key: Buffer.concat([PREFIX, pub]), format: 'der', type: 'spki' });
    if (cache.size > 10000) cache.delete(cache.keys().next().value);
    cache.set(id, k);
  }
  return k;
}
parentPort.on('message', ({ id, buf, n }) => {
  const b = Buffer.from(buf);
  const ok = new Uint8Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const len = b.readUInt32BE(off);
    const pub = b.subarray(off + 4, off + 36);
    const sig = b.subarray(off + 36, off + 100);
    const msg = b.subarray(off + 100, off + 100 + len);
    off += 100 + len;
    try { ok[i] = crypto.verify(null, msg, keyOf(pub), sig) ? 1 : 0; } catch { ok[i] = 0; }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

interface Pending {
  items: VerifyItem[];
  resolve: (ok: boolean[]) => void;
  reject: (err: unknown) => void;
}

/** One worker message: a chunk of a flushed batch, retried on another worker if its worker dies. */
interface Job {
  id: number;
  items: VerifyItem[];
  /** Per item: passes the Ed25519 rule's encoding checks (else its result is forced to false). */
  pass: boolean[];
  attempts: number;
  resolve: (ok: Uint8Array) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  dead: boolean;
}

export type VerifyPoolErrorCode = 'VERIFY_WORKER_CRASHED' | 'VERIFY_POOL_CLOSED';
export class VerifyPoolError extends VosError<{ code: VerifyPoolErrorCode }> {}

export interface VerifyPoolOptions {
  /** Tries per job: a job whose worker died this many times fails with VERIFY_WORKER_CRASHED. */
  maxAttempts?: number;
  logger?: Logger;
  /** Tests only: code run in each worker before the verifier, and its workerData. */
  testHook?: { prelude: string; workerData: unknown };
}

/** Requests of at most this many signatures are verified inline when nothing is queued. */
const INLINE_MAX = 8;

export class VerifyPool implements SignatureVerifier {
  readonly size: number;
  /** Workers that died unexpectedly (an uncaught error or an exit); each is replaced unless they keep dying. */
  crashes = 0;
  readonly #slots: Slot[] = [];
  readonly #maxAttempts: number;
  readonly #logger: Logger | undefined;
  readonly #source: string;
  readonly #workerData: unknown;
  #nextId = 1;
  #queue: Pending[] = [];
  #scheduled = false;
  #next = 0;
  #closed = false;
  /** Deaths since a worker last answered: past a bound the pool stops respawning (no crash loop). */
  #crashStreak = 0;

  constructor(size = availableParallelism(), opts: VerifyPoolOptions = {}) {
    this.size = Math.max(0, size);
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.#logger = opts.logger;
    this.#source = (opts.testHook?.prelude ?? '') + WORKER_SOURCE;
    this.#workerData = opts.testHook?.workerData;
    for (let i = 0; i < this.size; i++) this.#slots.push(this.#spawn());
  }

  /** Live workers (fewer than size only after repeated crashes stopped the respawning). */
  get workers(): number {
    return this.#slots.length;
  }

  #spawn(): Slot {
    const worker = new Worker(this.#source, { eval: true, workerData: this.#workerData });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), dead: false };
    worker.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
      const job = slot.jobs.get(id);
      if (job === undefined) return;
      slot.jobs.delete(id);
      this.#crashStreak = 0;
      job.resolve(ok);
    });
    worker.on('error', (err) => this.#died(slot, err));
    worker.on('exit', (code) => this.#died(slot, new Error(`exited with code ${code}`)));
    return slot;
  }

  /** A worker died: replace it and send its in-flight jobs again (to any worker). */
  #died(slot: Slot, cause: Error): void {
    if (slot.dead) return; // 'error' is followed by 'exit'
    slot.dead = true;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    if (this.#closed) {
      for (const job of jobs)
        job.reject(new VerifyPoolError({ code: 'VERIFY_POOL_CLOSED' }, 'signature verify pool closed'));
      return;
    }
    this.#crashStreak++;
    this.crashes++;
    const respawn = this.#crashStreak <= 2 * this.size + 2;
    this.#logger?.error(
      { err: cause.message, inflight: jobs.length, respawn },
      respawn
        ? 'signature verify worker died; replacing it'
        : 'signature verify workers keep dying; verifying on the main thread',
    );
    if (respawn) {
      try {
        this.#slots.push(this.#spawn());
      } catch (err) {
        this.#logger?.error({ err: (err as Error).message }, 'cannot start a signature verify worker');
      }
    }
    for (const job of jobs) {
      if (job.attempts >= this.#maxAttempts) {
        job.reject(
          new VerifyPoolError(
            { code: 'VERIFY_WORKER_CRASHED' },
            `signature verification failed: its worker died ${job.attempts} times (last: ${cause.message})`,
            { cause },
          ),
        );
      } else this.#dispatch(job);
    }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.verifyBatch([{ publicKey, message, signature }]).then((r) => r[0]);
  }

  verifyBatch(items: readonly VerifyItem[], opts?: VerifyOptions): Promise<boolean[]> {
    if (items.length === 0) return Promise.resolve([]);
    // PERF: a few latency-sensitive signatures (a commit) cost less on this thread (~0.1 ms each) than a
    // worker round trip (a tick plus two postMessages). Txs always go to the workers: checked one by
    // one here they took a third of the main thread under load.
    if (
      this.#slots.length === 0 ||
      this.#closed ||
      (opts?.inline === true && items.length <= INLINE_MAX && this.#queue.length === 0)
    ) {
      return Promise.resolve(items.map((i) => verifySignature(i.publicKey, i.message, i.signature)));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ items: [...items], resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const all: VerifyItem[] = [];
    for (const p of batch) all.push(...p.items);
    // Split evenly over the workers (small batches go to one worker).
    const parts = Math.min(Math.max(1, this.#slots.length), Math.max(1, Math.floor(all.length / 32)));
    const per = Math.ceil(all.length / parts);
    const results = new Uint8Array(all.length);
    const jobs: Promise<void>[] = [];
    for (let p = 0; p < parts; p++) {
      const start = p * per;
      const chunk = all.slice(start, start + per);
      if (chunk.length === 0) continue;
      jobs.push(this.#send(chunk).then((ok) => results.set(ok, start)));
    }
    Promise.all(jobs).then(
      () => {
        let off = 0;
        for (const p of batch) {
          const out: boolean[] = [];
          for (let i = 0; i < p.items.length; i++) out.push(results[off + i] === 1);
          off += p.items.length;
          p.resolve(out);
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  #send(items: VerifyItem[]): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        items,
        attempts: 0,
        // The rule's encoding checks run here (chain/ed25519-rule.ts); the workers compute the equation.
        pass: items.map((it) => passesEd25519Rule(it.publicKey, it.signature)),
        resolve: (res) => {
          // a key or signature the rule refuses was replaced by zeros when packed: force false
          job.pass.forEach((ok, i) => {
            if (!ok) res[i] = 0;
          });
          resolve(res);
        },
        reject,
      };
      this.#dispatch(job);
    });
  }

  /** Pack a job into one transferable buffer and post it to the next live worker (or verify here). */
  #dispatch(job: Job): void {
    job.attempts++;
    if (this.#closed) {
      job.reject(new VerifyPoolError({ code: 'VERIFY_POOL_CLOSED' }, 'signature verify pool closed'));
      return;
    }
    if (this.#slots.length === 0) {
      job.resolve(
        Uint8Array.from(job.items, (i) => (verifySignature(i.publicKey, i.message, i.signature) ? 1 : 0)),
      );
      return;
    }
    let total = 0;
    for (const it of job.items) total += 100 + it.message.length;
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (const [i, it] of job.items.entries()) {
      const ok = job.pass[i];
      buf.writeUInt32BE(it.message.length, off);
      buf.set(ok ? it.publicKey : new Uint8Array(32), off + 4);
      buf.set(ok ? it.signature : new Uint8Array(64), off + 36);
      buf.set(it.message, off + 100);
      off += 100 + it.message.length;
    }
    const slot = this.#slots[this.#next++ % this.#slots.length];
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    slot.jobs.set(job.id, job);
    slot.worker.postMessage({ id: job.id, buf: ab, n: job.items.length }, [ab]);
  }

  /** Tests only: the live workers, so a test can kill one mid-batch. */
  workersForTest(): readonly Worker[] {
    return this.#slots.map((s) => s.worker);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
