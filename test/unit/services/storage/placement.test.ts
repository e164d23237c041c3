/**
 * Shard placement (services/storage/placement.ts): capacity-weighted rendezvous hashing. n distinct
 * providers in a fixed order per object id, whatever order the candidates come in; providers without
 * room left out (NOT_ENOUGH_PROVIDERS when too few are left); a provider with twice the free bytes
 * comes first about twice as often; removing a provider only moves what it won.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Address } from '../../../../chain/address.js';
import { type Candidate, chooseProviders, rendezvousOrder } from '../../../../services/storage/placement.js';
import { propertyParams } from '../../../fc-params.js';

const addr = (i: number) =>
  new Address(createHash('sha256').update(`provider ${i}`).digest().subarray(0, 20));
const idOf = (i: number) => createHash('sha256').update(`object ${i}`).digest();
const names = (xs: Address[]) => xs.map((a) => a.toString());

function candidates(frees: number[]): Candidate[] {
  return frees.map((free, i) => ({ address: addr(i), free }));
}

describe('chooseProviders', () => {
  it('n distinct providers, the same order for the same id whatever the candidate order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(),
        fc.nat(),
        (frees, id, nSeed, rot) => {
          const cs = candidates(frees);
          const n = 1 + (nSeed % cs.length);
          const chosen = chooseProviders(id, cs, n, 1);
          expect(chosen.length).toBe(n);
          expect(new Set(names(chosen)).size).toBe(n);
          const r = rot % cs.length;
          const rotated = [...cs.slice(r), ...cs.slice(0, r)].reverse();
          expect(names(chooseProviders(id, rotated, n, 1))).toEqual(names(chosen));
          // A prefix of the full order, which lists every candidate once.
          const order = rendezvousOrder(id, cs, 1);
          expect(names(order).sort()).toEqual(names(cs.map((c) => c.address)).sort());
          expect(names(order.slice(0, n))).toEqual(names(chosen));
        },
      ),
      propertyParams('chooseProviders distinct and stable', 200),
    );
  });

  it('leaves out providers without room; too few with room is NOT_ENOUGH_PROVIDERS', () => {
    const cs = candidates([100, 5000, 0, 4999, 5000, 10_000]);
    const order = rendezvousOrder(idOf(1), cs, 5000);
    expect(names(order).sort()).toEqual(names([addr(1), addr(4), addr(5)]).sort());
    expect(chooseProviders(idOf(1), cs, 3, 5000).length).toBe(3);
    expect(() => chooseProviders(idOf(1), cs, 4, 5000)).toThrow(
      expect.objectContaining({ type: { code: 'NOT_ENOUGH_PROVIDERS', have: 3, need: 4 } }),
    );
    // No free bytes at all is never chosen, even for an empty shard.
    expect(names(rendezvousOrder(idOf(1), cs, 0))).not.toContain(addr(2).toString());
    expect(() => chooseProviders(idOf(1), [], 1, 1)).toThrow(
      expect.objectContaining({ type: { code: 'NOT_ENOUGH_PROVIDERS', have: 0, need: 1 } }),
    );
  });

  it('different ids spread over the providers', () => {
    const cs = candidates(Array(8).fill(1000));
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) firsts.add(chooseProviders(idOf(i), cs, 1, 1)[0].toString());
    expect(firsts.size).toBe(8);
  });

  it('a provider with twice the free capacity comes first about twice as often', () => {
    // One at 2x among four at 1x: P(first) = 2/6 for it, 1/6 for each other.
    const cs = candidates([2_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000]);
    const wins = new Map<string, number>();
    const N = 6000;
    for (let i = 0; i < N; i++) {
      const first = chooseProviders(idOf(i), cs, 2, 1)[0].toString();
      wins.set(first, (wins.get(first) ?? 0) + 1);
    }
    const big = wins.get(addr(0).toString()) ?? 0;
    const small = [1, 2, 3, 4].map((i) => wins.get(addr(i).toString()) ?? 0);
    const meanSmall = small.reduce((a, b) => a + b, 0) / small.length;
    // Expected 2000 vs 1000 each; the standard deviation is about 37: bounds of 1.6x-2.5x are loose.
    expect(big / meanSmall).toBeGreaterThan(1.6);
    expect(big / meanSmall).toBeLessThan(2.5);
    for (const s of small) expect(s).toBeGreaterThan(N / 6 / 1.4);
    // Two providers, 2:1: about two thirds.
    const two = candidates([2000, 1000]);
    let firstWins = 0;
    for (let i = 0; i < N; i++) if (chooseProviders(idOf(i), two, 1, 1)[0].equals(addr(0))) firstWins++;
    expect(firstWins / N).toBeGreaterThan(0.6);
    expect(firstWins / N).toBeLessThan(0.73);
  });

  it('removing a provider moves only the objects it was first for', () => {
    const cs = candidates([1000, 2000, 3000, 4000, 5000, 6000]);
    const without = cs.filter((_, i) => i !== 2);
    for (let i = 0; i < 300; i++) {
      const before = chooseProviders(idOf(i), cs, 1, 1)[0];
      const after = chooseProviders(idOf(i), without, 1, 1)[0];
      if (!before.equals(addr(2))) expect(after.equals(before)).toBe(true);
    }
  });
});
