/**
 * The mempool's bounds: eviction (cheapest evictable tail first, never a tx that later ones of its
 * sender depend on), refusal when full, replacement inside the byte bound, per-sender caps, the
 * balance covering a sender's pending txs together, and the recheck after a block.
 */
import { describe, expect, it } from '@jest/globals';
import type { Mempool } from '../../../../chain/mempool/mempool.js';
import type { Tx } from '../../../../chain/tx/index.js';
import { accounts, contents, keys, mempool, mk, sumBytes } from './fixtures.js';

const [a, b, c, d, e] = keys;

async function refused(m: Mempool, tx: Tx, code: string): Promise<Error> {
  const before = { contents: contents(m), bytes: m.bytes };
  const err = await m.add(tx).then(
    () => {
      throw new Error('admitted');
    },
    (x: unknown) => x as Error & { code: string },
  );
  expect(err).toMatchObject({ code });
  expect({ contents: contents(m), bytes: m.bytes }).toEqual(before);
  return err;
}

describe('eviction when full', () => {
  it("evicts the cheapest tail, never a sender's lower nonce that its later txs wait on", async () => {
    const m = mempool({ maxTxs: 3, maxTxsPerSender: 3 });
    await m.add(mk(a, 0n, { gasPrice: 1n })); // the cheapest tx, but a1 depends on it
    await m.add(mk(a, 1n, { gasPrice: 10n }));
    await m.add(mk(b, 0n, { gasPrice: 5n }));
    await m.add(mk(d, 0n, { gasPrice: 6n }));
    expect(contents(m)).toEqual(['a0', 'a1', 'd0']);
    // a0 and a1 both still run: nothing of a's is left behind a gap
    expect(m.reap().length).toBe(3);
  });

  it('refuses a tx that does not pay more than the cheapest evictable tx, with a clear error', async () => {
    const m = mempool({ maxTxs: 2 });
    await m.add(mk(a, 0n, { gasPrice: 4n }));
    await m.add(mk(b, 0n, { gasPrice: 5n }));
    const err = await refused(m, mk(c, 0n, { gasPrice: 4n }), 'MEMPOOL_FULL');
    expect(err.message).toMatch(/mempool is full \(2 txs, \d+ bytes\); pay a gas price above 4/);
    await m.add(mk(c, 0n, { gasPrice: 5n }));
    expect(contents(m)).toEqual(['b0', 'c0']);
  });

  it("never evicts the new tx's own earlier nonce (it would strand the new tx)", async () => {
    const m = mempool({ maxTxs: 2, maxTxsPerSender: 2 });
    await m.add(mk(a, 0n, { gasPrice: 1n }));
    await m.add(mk(b, 0n, { gasPrice: 5n }));
    // a0 is the cheapest, but a1 needs it; b0 pays more than a1 offers
    await refused(m, mk(a, 1n, { gasPrice: 3n }), 'MEMPOOL_FULL');
    await m.add(mk(a, 1n, { gasPrice: 6n }));
    expect(contents(m)).toEqual(['a0', 'a1']);
    expect(m.reap().length).toBe(2);
  });

  it('a tx filling a gap may evict its own later tail', async () => {
    const m = mempool({ maxTxs: 3, maxTxsPerSender: 3 });
    await m.add(mk(a, 0n, { gasPrice: 9n }));
    await m.add(mk(a, 2n, { gasPrice: 1n }));
    await m.add(mk(b, 0n, { gasPrice: 9n }));
    await m.add(mk(a, 1n, { gasPrice: 5n }));
    expect(contents(m)).toEqual(['a0', 'a1', 'b0']);
  });

  it('is all or nothing: a refusal after evicting some victims puts them back', async () => {
    const small = mk(b, 0n, { gasPrice: 2n, size: 'small' });
    const other = mk(d, 0n, { gasPrice: 9n, size: 'small' });
    const big = mk(a, 0n, { gasPrice: 20n, size: 'big' });
    const m = mempool({ maxBytes: small.size + other.size + big.size, maxBytesPerSender: 10_000 });
    for (const t of [small, other, big]) await m.add(t);
    const incoming = mk(e, 0n, { gasPrice: 5n, size: 'big' });
    expect(incoming.size).toBeGreaterThan(small.size); // needs two victims; the second pays 9 > 5
    await refused(m, incoming, 'MEMPOOL_FULL');
    expect(m.has(small.hash())).toBe(true);
    expect(m.bytes).toBe(sumBytes(m));
    // paying more than both: both go
    await m.add(mk(e, 0n, { gasPrice: 10n, size: 'big' }));
    expect(contents(m)).toEqual(['a0', 'e0']);
    expect(m.bytes).toBe(sumBytes(m));
  });

  it('evicts several tails of one sender in turn (each eviction exposes the next)', async () => {
    const m = mempool({ maxTxs: 4, maxTxsPerSender: 4 });
    for (let n = 0n; n < 4n; n++) await m.add(mk(a, n, { gasPrice: 1n }));
    for (let n = 0n; n < 4n; n++) await m.add(mk(b, n, { gasPrice: 2n }));
    expect(contents(m)).toEqual(['b0', 'b1', 'b2', 'b3']);
    expect(m.reap().length).toBe(4);
  });
});

describe('replacement inside the byte bound', () => {
  it('a bigger replacement evicts a cheaper tx to stay within maxBytes, and counts bytes right', async () => {
    const a0 = mk(a, 0n, { gasPrice: 10n, size: 'small' });
    const b0 = mk(b, 0n, { gasPrice: 2n, size: 'small' });
    const m = mempool({ maxBytes: a0.size + b0.size, maxBytesPerSender: 10_000 });
    await m.add(a0);
    await m.add(b0);
    const a0big = mk(a, 0n, { gasPrice: 11n, size: 'big' });
    await m.add(a0big);
    expect(contents(m)).toEqual(['a0']);
    expect(m.get(a0big.hash())).toBeDefined();
    expect(m.bytes).toBe(a0big.size);
    expect(m.bytes).toBeLessThanOrEqual(m.limits.maxBytes);
  });

  it('a bigger replacement is refused when only pricier txs could make room', async () => {
    const a0 = mk(a, 0n, { gasPrice: 10n, size: 'small' });
    const b0 = mk(b, 0n, { gasPrice: 50n, size: 'small' });
    const m = mempool({ maxBytes: a0.size + b0.size, maxBytesPerSender: 10_000 });
    await m.add(a0);
    await m.add(b0);
    await refused(m, mk(a, 0n, { gasPrice: 11n, size: 'big' }), 'MEMPOOL_FULL');
    expect(m.has(a0.hash())).toBe(true);
    // a replacement of the same size needs no room
    await m.add(mk(a, 0n, { gasPrice: 11n, size: 'small', amount: 2n }));
    expect(m.bytes).toBe(sumBytes(m));
  });
});

describe('per-sender bounds', () => {
  it('one sender cannot fill the pool alone (default share: 1/8 of count and bytes)', async () => {
    const m = mempool({ maxTxs: 32 });
    expect(m.limits.maxTxsPerSender).toBe(4);
    expect(m.limits.maxBytesPerSender).toBe(Math.floor(m.limits.maxBytes / 8));
    for (let n = 0n; n < 4n; n++) await m.add(mk(a, n));
    const err = await refused(m, mk(a, 4n), 'MEMPOOL_SENDER_FULL');
    expect(err.message).toMatch(/sender has 4 pending txs .* per-sender limit is 4 txs/);
    await m.add(mk(b, 0n)); // others still get in
    expect(m.size).toBe(5);
  });

  it('the per-sender byte bound holds, and a lower nonce displaces its own later tail', async () => {
    const one = mk(a, 0n, { size: 'big' }).size;
    const m = mempool({ maxBytesPerSender: 2 * one });
    await m.add(mk(a, 0n, { size: 'big' }));
    await m.add(mk(a, 2n, { size: 'big' })); // stranded behind the missing nonce 1
    await refused(m, mk(a, 3n, { size: 'big' }), 'MEMPOOL_SENDER_FULL');
    await m.add(mk(a, 1n, { size: 'big' })); // fills the gap; a2 gives way
    expect(contents(m)).toEqual(['a0', 'a1']);
  });

  it('the nonce window bounds how far ahead a sender may queue', async () => {
    const m = mempool({ nonceWindow: 4 });
    await m.add(mk(a, 3n));
    await refused(m, mk(a, 4n), 'TX_NONCE_TOO_HIGH');
  });
});

describe('balance over all pending txs of a sender', () => {
  const fee = 60_000n; // gasLimit x gasPrice 1
  it('a gap-filling tx displaces later txs the balance no longer covers', async () => {
    const accts = accounts([[a, 3n * (fee + 100n)]]);
    const m = mempool({}, accts);
    await m.add(mk(a, 0n, { amount: 100n }));
    await m.add(mk(a, 2n, { amount: 100n }));
    await m.add(mk(a, 1n, { amount: 100n })); // exactly covered: all three stay
    expect(contents(m)).toEqual(['a0', 'a1', 'a2']);
    await m.add(mk(a, 1n, { amount: 200n, gasPrice: 2n })); // costs more: a2 no longer covered
    expect(contents(m)).toEqual(['a0', 'a1']);
    await refused(m, mk(a, 1n, { amount: 10n ** 9n, gasPrice: 3n }), 'TX_INSUFFICIENT_BALANCE');
  });

  it('the recheck after a block drops the first unaffordable tx and every later one', async () => {
    const accts = accounts([[a, 10n ** 12n]]);
    const m = mempool({}, accts);
    const txs = [mk(a, 0n), mk(a, 1n, { amount: 10n ** 6n }), mk(a, 2n)];
    for (const t of txs) await m.add(t);
    // a0 committed and the balance fell (another tx elsewhere spent it): a1 is unaffordable, a2 cannot
    // run before a1, so neither is kept (a2 would sit behind a gap)
    accts.set(a, { nonce: 1n, balance: 2n * fee + 10n });
    await m.update([txs[0]]);
    expect(contents(m)).toEqual([]);
  });

  it('the recheck keeps the affordable prefix', async () => {
    const accts = accounts([[a, 10n ** 12n]]);
    const m = mempool({}, accts);
    const txs = [mk(a, 0n), mk(a, 1n), mk(a, 2n), mk(a, 3n)];
    for (const t of txs) await m.add(t);
    accts.set(a, { nonce: 1n, balance: 2n * (fee + 1n) });
    await m.update([txs[0]]);
    expect(contents(m)).toEqual(['a1', 'a2']);
  });
});

describe('clear', () => {
  it('removes everything and resets the byte count', async () => {
    const m = mempool({ maxTxs: 2, maxTxsPerSender: 2 });
    await m.add(mk(a, 0n));
    await m.add(mk(a, 2n));
    m.clear();
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
    expect(m.reap()).toEqual([]);
    expect(m.expire()).toBe(0);
    await m.add(mk(b, 0n, { gasPrice: 1n }));
    await m.add(mk(c, 0n, { gasPrice: 1n })); // the heap was reset too: no stale victims
    await m.add(mk(d, 0n, { gasPrice: 2n }));
    expect(contents(m).length).toBe(2);
  });
});
