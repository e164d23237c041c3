import { describe, expect, it } from '@jest/globals';
import type { Block } from '../../../chain/block.js';
import type { Receipt } from '../../../chain/receipt.js';
import { TooManyWaiters, TxWaiters } from '../../../node/tx-waiters.js';

const hash = (n: number) => new Uint8Array(32).fill(n);
const block = (height: number, txs: number[]) =>
  ({ height, txs: txs.map((n) => ({ hash: () => hash(n) })) }) as unknown as Block;
const receipts = (n: number) => Array.from({ length: n }, (_, i) => ({ i }) as unknown as Receipt);

describe('TxWaiters', () => {
  it('resolves every caller of a committed tx with height, index and receipt, and forgets them', async () => {
    const w = new TxWaiters();
    const a = w.wait(hash(1), 10_000, () => new Error('timeout'));
    const b = w.wait(hash(1), 10_000, () => new Error('timeout'));
    const c = w.wait(hash(2), 10_000, () => new Error('timeout'));
    expect(w.size).toBe(3);
    w.onBlock(block(7, [9, 1]), receipts(2));
    await expect(a.promise).resolves.toEqual({ height: 7, index: 1, receipt: { i: 1 } });
    await expect(b.promise).resolves.toEqual({ height: 7, index: 1, receipt: { i: 1 } });
    expect(w.size).toBe(1);
    c.cancel();
    expect(w.size).toBe(0);
  });

  it('times out, is bounded, and rejects everyone on close', async () => {
    const w = new TxWaiters({ maxWaiters: 2 });
    const t = w.wait(hash(3), 5, () => new Error('not committed'));
    await expect(t.promise).rejects.toThrow('not committed');
    expect(w.size).toBe(0);
    const x = w.wait(hash(4), 10_000, () => new Error('timeout'));
    w.wait(hash(5), 10_000, () => new Error('timeout')).promise.catch(() => undefined);
    expect(() => w.wait(hash(6), 10_000, () => new Error('timeout'))).toThrow(TooManyWaiters);
    w.close(new Error('shutting down'));
    await expect(x.promise).rejects.toThrow('shutting down');
    expect(w.size).toBe(0);
  });
});
