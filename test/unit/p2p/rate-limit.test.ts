import { describe, expect, it } from '@jest/globals';
import { PeerRateLimiter } from '../../../p2p/rate-limit.js';

describe('PeerRateLimiter', () => {
  it('allows the burst, then the sustained rate, per peer', () => {
    let now = 0;
    const rl = new PeerRateLimiter(10, 5, () => now);
    const takes = (peer: string, n: number) =>
      Array.from({ length: n }, () => rl.take(peer)).filter(Boolean).length;
    expect(takes('a', 8)).toBe(5); // burst
    expect(takes('b', 5)).toBe(5); // another peer has its own bucket
    now += 300; // 3 tokens refilled at 10/s
    expect(takes('a', 5)).toBe(3);
    now += 10_000; // refills to the burst, not beyond
    expect(takes('a', 20)).toBe(5);
  });
});

describe('PeerRateLimiter costs', () => {
  it('take(cost) takes all or nothing; delay() goes into debt and says how long to wait', () => {
    let now = 0;
    const rl = new PeerRateLimiter(1000, 4000, () => now); // e.g. bytes: 1,000/s, burst 4,000
    expect(rl.take('a', 5000)).toBe(false);
    expect(rl.take('a', 3000)).toBe(true);
    expect(rl.delay('a', 1000)).toBe(0); // the burst is used up exactly
    expect(rl.delay('a', 2000)).toBe(2000); // 2,000 more at 1,000/s
    expect(rl.delay('a', 500)).toBe(2500); // queued behind the debt
    now += 2500;
    expect(rl.delay('a', 1000)).toBe(1000);
    expect(rl.delay('b', 4000)).toBe(0);
  });
});
