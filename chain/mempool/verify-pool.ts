/**
 * Ed25519 verification on worker threads so every core verifies (OpenSSL through node:crypto in each).
 * Requests are micro-batched: collected for up to one tick, then split evenly over the workers, one
 * message per worker with the batch packed in one transferable buffer.
 * PERF: a verify costs ~90 us; message passing per batch ~50 us, so batches of >= 64 amortise it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
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

/** Requests of at most this many signatures are verified inline when nothing is queued. */
const INLINE_MAX = 8;

export class VerifyPool implements SignatureVerifier {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #inflight = new Map<number, { resolve: (ok: Uint8Array) => void; reject: (e: unknown) => void }>();
  #nextId = 1;
  #queue: Pending[] = [];
  #scheduled = false;
  #next = 0;
  #closed = false;

  constructor(size = availableParallelism()) {
    this.size = Math.max(0, size);
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
        const p = this.#inflight.get(id);
        this.#inflight.delete(id);
        p?.resolve(ok);
      });
      w.on('error', (err) => {
        for (const p of this.#inflight.values()) p.reject(err);
        this.#inflight.clear();
      });
      this.#workers.push(w);
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
      this.size === 0 ||
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
    const parts = Math.min(this.size, Math.max(1, Math.floor(all.length / 32)));
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
    let total = 0;
    for (const it of items) total += 100 + it.message.length;
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    // The rule's encoding checks run here (chain/ed25519-rule.ts); the workers compute the equation.
    const pass = items.map((it) => passesEd25519Rule(it.publicKey, it.signature));
    for (const [i, it] of items.entries()) {
      const ok = pass[i];
      buf.writeUInt32BE(it.message.length, off);
      buf.set(ok ? it.publicKey : new Uint8Array(32), off + 4);
      buf.set(ok ? it.signature : new Uint8Array(64), off + 36);
      buf.set(it.message, off + 100);
      off += 100 + it.message.length;
    }
    const id = this.#nextId++;
    const worker = this.#workers[this.#next++ % this.#workers.length];
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    return new Promise((resolve, reject) => {
      this.#inflight.set(id, {
        resolve: (res) => {
          // a key or signature the rule refuses was replaced by zeros above: force false
          pass.forEach((ok, i) => {
            if (!ok) res[i] = 0;
          });
          resolve(res);
        },
        reject,
      });
      worker.postMessage({ id, buf: ab, n: items.length }, [ab]);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
