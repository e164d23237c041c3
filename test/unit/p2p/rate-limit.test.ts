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
