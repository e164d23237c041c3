/** Txs stranded behind a nonce gap expire after strandedTtlMs (injected clock); executable txs never do. */
import { describe, expect, it } from '@jest/globals';
import { accounts, clock, contents, keys, mempool, mk } from './fixtures.js';

const [a, b] = keys;
const TTL = 10 * 60_000;

function setup() {
  const c = clock();
  const accts = accounts(keys.map((k) => [k, 1n << 210n]));
  const m = mempool({ strandedTtlMs: TTL }, accts, c.now);
  return { c, m, accts };
}

describe('stranded tx TTL', () => {
  it('defaults to 10 minutes', () => {
    expect(mempool().limits.strandedTtlMs).toBe(TTL);
  });

  it('drops a tx behind a nonce gap after the TTL, and keeps executable ones however old', async () => {
    const { c, m } = setup();
    await m.add(mk(a, 0n));
    await m.add(mk(a, 2n)); // nonce 1 missing
    c.advance(TTL - 1);
    expect(m.expire()).toBe(0);
    expect(contents(m)).toEqual(['a0', 'a2']);
    c.advance(1);
    expect(m.expire()).toBe(1);
    expect(contents(m)).toEqual(['a0']);
    c.advance(100 * TTL);
    expect(m.expire()).toBe(0);
    expect(contents(m)).toEqual(['a0']);
  });

  it('a filled gap makes the waiting txs executable: they no longer expire', async () => {
    const { c, m } = setup();
    await m.add(mk(b, 1n));
    await m.add(mk(b, 2n));
    c.advance(TTL / 2);
    await m.add(mk(b, 0n));
    c.advance(TTL);
    expect(m.expire()).toBe(0);
    expect(m.reap().length).toBe(3);
  });

  it('the TTL counts from when a tx became stranded (its predecessor removed)', async () => {
    const { c, m } = setup();
    const [t0, t1, t2] = [mk(a, 0n), mk(a, 1n), mk(a, 2n)];
    for (const t of [t0, t1, t2]) await m.add(t);
    c.advance(TTL); // all executable: nothing expires
    expect(m.expire()).toBe(0);
    m.remove([t1]); // found invalid while building a block: a2 now waits on a gap
    c.advance(TTL - 1);
    expect(m.expire()).toBe(0);
    c.advance(1);
    expect(m.expire()).toBe(1);
    expect(contents(m)).toEqual(['a0']);
  });

  it('runs after each block and on admission, without an explicit call', async () => {
    const { c, m, accts } = setup();
    const a0 = mk(a, 0n);
    await m.add(a0);
    await m.add(mk(a, 5n));
    await m.add(mk(b, 3n));
    c.advance(TTL);
    accts.set(a, { nonce: 1n, balance: 1n << 210n });
    await m.update([a0]);
    expect(contents(m)).toEqual([]);
    await m.add(mk(b, 7n));
    c.advance(TTL);
    await m.add(mk(a, 1n));
    expect(contents(m)).toEqual(['a1']);
  });

  it('a replacement keeps the stranded time of the tx it replaces', async () => {
    const { c, m } = setup();
    await m.add(mk(a, 1n, { gasPrice: 1n }));
    c.advance(TTL - 10);
    await m.add(mk(a, 1n, { gasPrice: 2n }));
    c.advance(10);
    expect(m.expire()).toBe(1);
    expect(m.size).toBe(0);
  });

  it('a block that moves the account past a gap makes the txs after it executable', async () => {
    const { c, m, accts } = setup();
    await m.add(mk(a, 2n));
    await m.add(mk(a, 3n));
    c.advance(TTL - 1);
    // nonces 0 and 1 were committed from elsewhere (another node's mempool)
    accts.set(a, { nonce: 2n, balance: 1n << 210n });
    await m.update([mk(a, 1n)]);
    c.advance(TTL);
    expect(m.expire()).toBe(0);
    expect(m.reap().map((t) => t.nonce)).toEqual([2n, 3n]);
  });
});
