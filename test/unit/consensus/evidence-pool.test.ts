/** The evidence pool: dedupe per (validator, height), block selection, commit, expiry and bounds. */
import { describe, expect, it } from '@jest/globals';
import { Address } from '../../../chain/address.js';
import { DuplicateVoteEvidence } from '../../../chain/evidence.js';
import { Vote, VoteType } from '../../../chain/vote.js';
import { EvidencePool } from '../../../consensus/evidence-pool.js';

/** Two conflicting prevotes of validator `v` at `height` (the pool does not check signatures). */
function ev(v: number, height: number, round = 0): DuplicateVoteEvidence {
  const validator = new Address(
    new Uint8Array(20).fill(v & 0xff).map((b, i) => (i < 2 ? (v >> (8 * i)) & 0xff : b)),
  );
  const vote = (fill: number) =>
    new Vote(
      { type: VoteType.Prevote, height, round, blockHash: new Uint8Array(32).fill(fill), time: 0, validator },
      new Uint8Array(64),
    );
  return new DuplicateVoteEvidence(vote(1), vote(2));
}

const heights = (list: DuplicateVoteEvidence[]) => list.map((e) => e.height);

describe('evidence pool', () => {
  it('adds once per (validator, height) and knows what it holds', () => {
    const pool = new EvidencePool({ maxPending: 10, expiryHeights: 100 });
    const e = ev(1, 5);
    expect(pool.has(e)).toBe(false);
    expect(pool.add(e)).toBe(true);
    expect(pool.has(e)).toBe(true);
    expect(pool.add(ev(1, 5))).toBe(false); // the same equivocation again
    expect(pool.add(ev(1, 5, 3))).toBe(false); // another round: one punishment per height
    expect(pool.add(ev(2, 5))).toBe(true);
    expect(pool.add(ev(1, 6))).toBe(true);
    expect(pool.size).toBe(3);
  });

  it('forBlock takes only earlier, unexpired heights, at most max, oldest first', () => {
    const pool = new EvidencePool({ maxPending: 10, expiryHeights: 10 });
    for (const [v, h] of [
      [1, 19],
      [2, 12],
      [3, 20],
      [4, 9],
      [5, 15],
      [6, 12],
    ])
      pool.add(ev(v, h));
    // block 20: height 20 is not earlier; 9 + 10 < 20 is expired
    expect(heights(pool.forBlock(20, 10))).toEqual([12, 12, 15, 19]);
    expect(pool.forBlock(20, 2).map((e) => e.voteA.validator.bytes[0])).toEqual([2, 6]);
    expect(pool.forBlock(20, 0)).toEqual([]);
    // the window edge: evidence of h goes in blocks h + 1 .. h + expiryHeights
    expect(heights(pool.forBlock(19, 10))).toContain(9);
    expect(heights(pool.forBlock(10, 10))).toEqual([9]);
  });

  it('update removes committed evidence, and committed evidence is not pooled again', () => {
    const pool = new EvidencePool({ maxPending: 10, expiryHeights: 100 });
    const [a, b] = [ev(1, 5), ev(2, 5)];
    pool.add(a);
    pool.add(b);
    pool.update(7, [a]);
    expect(pool.size).toBe(1);
    expect(pool.forBlock(8, 10)).toEqual([b]);
    expect(pool.has(a)).toBe(true);
    expect(pool.add(ev(1, 5))).toBe(false); // gossiped again after its commit
  });

  it('drops evidence once no next block may carry it, and refuses expired evidence', () => {
    const pool = new EvidencePool({ maxPending: 10, expiryHeights: 10 });
    pool.add(ev(1, 5));
    pool.update(14, []); // block 15 may still carry it (5 + 10 >= 15)
    expect(pool.size).toBe(1);
    expect(pool.forBlock(15, 10).length).toBe(1);
    pool.update(15, []); // block 16 may not
    expect(pool.size).toBe(0);
    expect(pool.add(ev(2, 5))).toBe(false);
    expect(pool.add(ev(2, 6))).toBe(true);
  });

  it('holds at most maxPending; committing frees room', () => {
    const pool = new EvidencePool({ maxPending: 3, expiryHeights: 100 });
    const list = [1, 2, 3, 4].map((v) => ev(v, 5));
    expect(list.map((e) => pool.add(e))).toEqual([true, true, true, false]);
    expect(pool.size).toBe(3);
    pool.update(6, [list[0]]);
    expect(pool.add(list[3])).toBe(true);
  });

  it('past maxCommitted forgets only the oldest committed ids, not all of them', () => {
    const pool = new EvidencePool({ maxPending: 20_000, expiryHeights: 1_000_000 });
    const list = Array.from({ length: 10_001 }, (_, i) => ev(i, 5));
    for (const e of list) pool.add(e);
    pool.update(6, list);
    expect(pool.add(ev(10_000, 5))).toBe(false); // the newest committed is still known
    expect(pool.add(ev(0, 5))).toBe(true); // the oldest was forgotten (the ledger does not punish twice)
  });

  it('forgets committed ids once they are expired', () => {
    const pool = new EvidencePool({ maxPending: 10, expiryHeights: 10, maxCommitted: 1 });
    const e = ev(1, 5);
    pool.add(e);
    pool.update(6, [e]);
    pool.update(7, [ev(2, 6)]); // the bound: only the newest committed id is kept
    expect(pool.has(e)).toBe(false);
    expect(pool.has(ev(2, 6))).toBe(true);
    pool.update(15, []);
    expect(pool.has(ev(2, 6))).toBe(true); // 6 + 10 >= 16: block 16 could still carry it
    pool.update(16, []);
    expect(pool.has(ev(2, 6))).toBe(false);
  });
});
