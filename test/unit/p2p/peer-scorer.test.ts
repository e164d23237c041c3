/** Peer scoring: penalties, decay back toward 0, bans that expire and escalate, a bounded table. */
import { describe, expect, it } from '@jest/globals';
import type { PeerId } from '@libp2p/interface';
import { PeerScorer } from '../../../p2p/peer-scorer.js';
import { PeerAction, VosError } from '../../../util/errors.js';

const reject = new VosError({ code: 'BAD' }, 'bad', { peerAction: PeerAction.Reject });
const ignore = new VosError({ code: 'STALE' }, 'stale', { peerAction: PeerAction.Ignore });
const peer = (id: string) => ({ toString: () => id }) as unknown as PeerId;

function scorer(o: { maxPeers?: number } = {}) {
  const clock = { now: 0 };
  const hungUp: string[] = [];
  const penalties: string[] = [];
  const s = new PeerScorer({
    host: { hangUp: async (p) => void hungUp.push(p.toString()) },
    now: () => clock.now,
    onPenalty: (proto) => penalties.push(proto),
    ...o,
  });
  return { s, clock, hungUp, penalties };
}

describe('PeerScorer', () => {
  it('bans after three rejected messages in a burst; ignored errors cost nothing', () => {
    const { s, hungUp, penalties } = scorer();
    const a = peer('a');
    s.penalise(a, ignore, 'tx');
    expect(s.score(a)).toBe(0);
    s.penalise(a, reject, 'tx');
    s.penalise(a, new Error('not a VosError: rejected'), 'tx');
    expect(s.score(a)).toBe(-20);
    expect(s.isBanned(a)).toBe(false);
    s.penalise(a, reject, 'consensus');
    expect(s.isBanned(a)).toBe(true);
    expect(hungUp).toEqual(['a']);
    expect(penalties).toEqual(['tx', 'tx', 'consensus']);
    expect(s.disconnects).toBe(1);
    expect(s.isBanned(peer('b'))).toBe(false);
  });

  it('scores decay back to 0: one fault a minute never adds up to a ban, over days', () => {
    const { s, clock } = scorer();
    const a = peer('a');
    s.penalise(a, reject, 'tx');
    clock.now += 30_000;
    expect(s.score(a)).toBe(-5); // one point per 6 s
    clock.now += 60_000;
    expect(s.score(a)).toBe(0); // never above 0
    for (let i = 0; i < 3 * 24 * 60; i++) {
      s.penalise(a, reject, 'tx');
      clock.now += 60_000;
    }
    expect(s.isBanned(a)).toBe(false);
    expect(s.disconnects).toBe(0);
  });

  it('bans expire; a peer banned again soon is banned longer, up to the cap', () => {
    const { s, clock } = scorer();
    const a = peer('a');
    const ban = () => {
      for (let i = 0; i < 3; i++) s.penalise(a, reject, 'tx');
      expect(s.isBanned(a)).toBe(true);
    };
    const bannedFor = () => {
      const start = clock.now;
      while (s.isBanned(a)) clock.now += 1000;
      return clock.now - start;
    };
    ban();
    expect(bannedFor()).toBe(60_000);
    ban();
    expect(bannedFor()).toBe(120_000);
    ban();
    expect(bannedFor()).toBe(240_000);
    for (let i = 0; i < 10; i++) {
      ban();
      bannedFor();
    }
    ban();
    expect(bannedFor()).toBe(60 * 60_000);
    // A day without a ban: back to the shortest.
    clock.now += 25 * 60 * 60_000;
    ban();
    expect(bannedFor()).toBe(60_000);
  });

  it('keeps a bounded table, forgetting forgiven peers before banned ones', () => {
    const { s, clock } = scorer({ maxPeers: 100 });
    for (let i = 0; i < 3; i++) s.penalise(peer('banned'), reject, 'tx');
    for (let i = 0; i < 1000; i++) {
      s.penalise(peer(`p${i}`), reject, 'tx');
      clock.now += 10;
    }
    expect(s.size).toBeLessThanOrEqual(100);
    expect(s.isBanned('banned')).toBe(true);
    expect(s.score('p999')).toBeLessThan(0);
  });
});
