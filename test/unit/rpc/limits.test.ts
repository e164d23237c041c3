import { describe, expect, it } from '@jest/globals';
import { ConnectionCounter, clientKey, RateLimiter } from '../../../rpc/limits.js';

describe('clientKey', () => {
  it('IPv4 as is, also IPv4-mapped; IPv6 by its /64; loopback is a client like any other', () => {
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe(clientKey('2001:0db8:0001:0002::9'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });
});

describe('RateLimiter (token bucket)', () => {
  it('grants a burst, then `rate` per second; a refusal names the wait and takes nothing', () => {
    const r = new RateLimiter({ rate: 10, burst: 20 });
    for (let i = 0; i < 20; i++) expect(r.take('a', 1, 0)).toBe(0);
    expect(r.take('a', 1, 0)).toBe(100);
    expect(r.take('a', 1, 50)).toBe(50);
    expect(r.take('a', 1, 100)).toBe(0);
    // Another client has its own bucket.
    expect(r.take('b', 20, 100)).toBe(0);
    // A quiet spell refills up to the burst, no further.
    expect(r.take('a', 20, 100_000)).toBe(0);
    expect(r.take('a', 1, 100_000)).toBe(100);
  });

  it('a batch costs its calls; one larger than the bucket needs a full one', () => {
    const r = new RateLimiter({ rate: 100, burst: 50 });
    expect(r.take('a', 30, 0)).toBe(0);
    expect(r.take('a', 30, 0)).toBe(100); // 20 left, 10 more take 100 ms
    expect(r.take('a', 500, 0)).toBe(300); // capped at the burst: 30 missing
    expect(r.take('a', 500, 300)).toBe(0);
  });

  it('rate 0 is no limit', () => {
    const r = new RateLimiter({ rate: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(r.take('a', 100, 0)).toBe(0);
    expect(r.enabled).toBe(false);
  });

  it('keeps at most maxClients buckets: full ones go first', () => {
    const r = new RateLimiter({ rate: 1, burst: 5, maxClients: 100 });
    for (let i = 0; i < 100; i++) r.take(`c${i}`, 5, 0);
    expect(r.size).toBe(100);
    r.take('late', 1, 1);
    expect(r.size).toBeLessThanOrEqual(100);
    // Buckets that refilled are dropped before any that is still spent.
    const s = new RateLimiter({ rate: 1, burst: 1, maxClients: 10 });
    for (let i = 0; i < 10; i++) s.take(`c${i}`, 1, 0);
    s.take('new', 1, 5000);
    expect(s.size).toBe(1);
  });
});

describe('ConnectionCounter', () => {
  it('counts per key against the cap', () => {
    const c = new ConnectionCounter(2);
    expect([c.acquire('a'), c.acquire('a'), c.acquire('a'), c.acquire('b')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    c.release('a');
    expect(c.acquire('a')).toBe(true);
    expect(c.count('a')).toBe(2);
    c.release('a');
    c.release('a');
    c.release('a');
    expect(c.count('a')).toBe(0);
  });
});
