/**
 * Callers waiting for txs to commit (`tx_sendCommit`): one index by tx hash, fed once per committed
 * block, instead of a block listener per caller that scans every tx of every block.
 */
import type { Block } from '../chain/block.js';
import type { Receipt } from '../chain/receipt.js';
import { asBuffer } from '../util/bytes.js';
import { VosError } from '../util/errors.js';

export interface Committed {
  height: number;
  index: number;
  receipt: Receipt;
}

interface Waiter {
  resolve(c: Committed): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class TxWaiters {
  readonly #byHash = new Map<string, Set<Waiter>>();
  #count = 0;

  constructor(private readonly limits: { maxWaiters: number } = { maxWaiters: 10_000 }) {}

  /** Callers waiting now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Wait for the tx with this hash to commit; rejects with `onTimeout()` after `ms`. Register before
   * submitting the tx, so a commit right after admission is not missed; `cancel` if submission fails.
   */
  wait(
    hash: Uint8Array,
    ms: number,
    onTimeout: () => Error,
  ): { promise: Promise<Committed>; cancel(): void } {
    if (this.#count >= this.limits.maxWaiters) throw new TooManyWaiters(this.limits.maxWaiters);
    const key = keyOf(hash);
    let waiter!: Waiter;
    const promise = new Promise<Committed>((resolve, reject) => {
      waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#remove(key, waiter);
          reject(onTimeout());
        }, ms),
      };
    });
    let set = this.#byHash.get(key);
    if (set === undefined) {
      set = new Set();
      this.#byHash.set(key, set);
    }
    set.add(waiter);
    this.#count++;
    return { promise, cancel: () => this.#remove(key, waiter) };
  }

  /** A block was committed: resolve everyone waiting for one of its txs. */
  onBlock(block: Block, receipts: readonly Receipt[]): void {
    if (this.#count === 0) return;
    // PERF: one map lookup per tx of the block (its hash is cached), only while someone waits.
    block.txs.forEach((tx, index) => {
      const key = keyOf(tx.hash());
      const set = this.#byHash.get(key);
      if (set === undefined) return;
      this.#byHash.delete(key);
      for (const w of set) {
        clearTimeout(w.timer);
        this.#count--;
        w.resolve({ height: block.height, index, receipt: receipts[index] });
      }
    });
  }

  /** Reject every waiter (node shutting down). */
  close(reason: Error): void {
    for (const set of this.#byHash.values())
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(reason);
      }
    this.#byHash.clear();
    this.#count = 0;
  }

  #remove(key: string, w: Waiter): void {
    const set = this.#byHash.get(key);
    if (set === undefined || !set.delete(w)) return;
    clearTimeout(w.timer);
    this.#count--;
    if (set.size === 0) this.#byHash.delete(key);
  }
}

export class TooManyWaiters extends VosError<{ code: 'TOO_MANY_WAITERS'; limit: number }> {
  constructor(limit: number) {
    super(
      { code: 'TOO_MANY_WAITERS', limit },
      `${limit} callers already wait for commits: retry later or use tx_send`,
    );
  }
}

function keyOf(hash: Uint8Array): string {
  return asBuffer(hash).toString('latin1');
}
