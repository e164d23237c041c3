/**
 * The Tendermint engine, rule by rule (Algorithm 1 of arXiv 1807.04938), with 4 validators of power 10
 * (total 40: 2f+1 = 3 validators = 30 > 26.6; f+1 = 2 validators = 20 > 13.3). proposer(h, r) =
 * (h + r) mod 4, so at height 1 round 0 validator 1 proposes.
 */
import { describe, expect, it } from '@jest/globals';
import { CommitFlag } from '../../../chain/commit.js';
import { sha256 } from '../../../chain/hash.js';
import {
  type Action,
  commitFromDecision,
  type EngineEvent,
  type EngineFaultsForTesting,
  type EngineVote,
  Step,
  TendermintEngine,
  type TimeoutKind,
  type ValueId,
  VoteType,
} from '../../../consensus/engine/index.js';
import { toHex, utf8 } from '../../../util/bytes.js';

const A = sha256(utf8('block A'));
const B = sha256(utf8('block B'));
const TIMEOUTS = {
  propose: 100,
  proposeDelta: 10,
  prevote: 50,
  prevoteDelta: 5,
  precommit: 60,
  precommitDelta: 6,
};
const proposer = (h: number, r: number) => (h + r) % 4;

function validators(powers: bigint[]) {
  return {
    size: powers.length,
    totalPower: powers.reduce((a, b) => a + b, 0n),
    powerOf: (i: number) => powers[i],
  };
}

class Node {
  readonly engine: TendermintEngine;
  height = 1;

  constructor(
    readonly self: number,
    opts: { faults?: EngineFaultsForTesting; powers?: bigint[]; maxFutureRounds?: number } = {},
    readonly powers: bigint[] = opts.powers ?? [10n, 10n, 10n, 10n],
  ) {
    this.engine = new TendermintEngine({
      proposer,
      faults: opts.faults,
      config: { timeouts: TIMEOUTS, maxFutureRounds: opts.maxFutureRounds },
    });
  }

  start(height = 1): Action[] {
    this.height = height;
    return this.feed({ type: 'startHeight', height, validators: validators(this.powers), self: this.self });
  }

  feed(e: EngineEvent): Action[] {
    return this.engine.handle(e);
  }

  vote(type: VoteType, from: number, round: number, value: ValueId | null, height = this.height): Action[] {
    return this.feed({ type: 'vote', vote: { type, height, round, validator: from, valueId: value } });
  }

  prevotes(froms: number[], round: number, value: ValueId | null): Action[] {
    return froms.flatMap((f) => this.vote(VoteType.Prevote, f, round, value));
  }

  precommits(froms: number[], round: number, value: ValueId | null): Action[] {
    return froms.flatMap((f) => this.vote(VoteType.Precommit, f, round, value));
  }

  proposal(round: number, value: ValueId, validRound = -1, valid = true, height = this.height): Action[] {
    return this.feed({
      type: 'proposal',
      proposal: { height, round, validRound, valueId: value, proposer: proposer(height, round) },
      valid,
    });
  }

  timeout(kind: TimeoutKind, round: number): Action[] {
    return this.feed({ type: 'timeout', kind, height: this.height, round });
  }

  get state() {
    return this.engine.roundState;
  }
}

/** Actions without the informational roundStarted, as short strings. */
function show(actions: Action[]): string[] {
  const v = (x: ValueId | null) =>
    x === null ? 'nil' : toHex(x) === toHex(A) ? 'A' : toHex(x) === toHex(B) ? 'B' : '?';
  return actions
    .filter((a) => a.type !== 'roundStarted')
    .map((a) => {
      switch (a.type) {
        case 'broadcastVote':
          return `${a.vote.type === VoteType.Prevote ? 'prevote' : 'precommit'} r${a.vote.round} ${v(a.vote.valueId)}`;
        case 'broadcastProposal':
          return `propose r${a.proposal.round} ${v(a.proposal.valueId)} vr${a.proposal.validRound}`;
        case 'scheduleTimeout':
          return `timeout ${a.kind} r${a.round} ${a.durationMs}ms`;
        case 'requestValue':
          return `requestValue h${a.height} r${a.round}`;
        case 'decide':
          return `decide r${a.round} ${v(a.valueId)} by ${a.commit.map((c) => c.validator).join(',')}`;
        case 'evidence':
          return `evidence v${a.first.validator} r${a.first.round} ${v(a.first.valueId)}/${v(a.second.valueId)}`;
        default:
          return 'other';
      }
    });
}

/** Run a node (validator 3, not proposer at h1 r0..r1) through round 0 to a lock on `value`. */
function lockedAtRound0(n: Node, value: ValueId): void {
  n.start();
  n.proposal(0, value);
  n.prevotes([0, 1, 2], 0, value);
}

describe('StartRound (lines 11-21)', () => {
  it('non-proposer: step propose, propose timeout of round 0 (line 21)', () => {
    const n = new Node(3);
    const out = n.start();
    expect(out[0]).toEqual({ type: 'roundStarted', height: 1, round: 0, proposer: 1 });
    expect(show(out)).toEqual(['timeout propose r0 100ms']);
    expect(n.state).toEqual({
      height: 1,
      round: 0,
      step: Step.Propose,
      lockedRound: -1,
      lockedValue: null,
      validRound: -1,
      validValue: null,
    });
  });

  it('proposer without validValue asks for a value (line 18), then proposes it (line 19)', () => {
    const n = new Node(1);
    expect(show(n.start())).toEqual(['requestValue h1 r0', 'timeout propose r0 100ms']);
    expect(show(n.feed({ type: 'valueReady', height: 1, round: 1, valueId: A }))).toEqual([]); // stale
    expect(show(n.feed({ type: 'valueReady', height: 1, round: 0, valueId: A }))).toEqual([
      'propose r0 A vr-1',
    ]);
    expect(show(n.feed({ type: 'valueReady', height: 1, round: 0, valueId: B }))).toEqual([]); // once
  });
});

describe('happy path: propose, prevote, precommit, decide', () => {
  it('counts own messages only when fed back, locks at the polka, decides with the commit', () => {
    const n = new Node(1);
    n.start();
    const [prop] = n.feed({ type: 'valueReady', height: 1, round: 0, valueId: A });
    if (prop.type !== 'broadcastProposal') throw new Error('expected a proposal');
    // Line 22: own proposal fed back -> prevote A (line 24).
    expect(show(n.feed({ type: 'proposal', proposal: prop.proposal, valid: true }))).toEqual([
      'prevote r0 A',
    ]);
    // Two other prevotes: own prevote not fed back yet, so no polka.
    expect(show(n.prevotes([0, 2], 0, A))).toEqual([]);
    // Own prevote fed back: 2f+1. Line 34 (timeout prevote), line 36 (lock, precommit A).
    expect(show(n.prevotes([1], 0, A))).toEqual(['timeout prevote r0 50ms', 'precommit r0 A']);
    expect(n.state).toMatchObject({ step: Step.Precommit, lockedRound: 0, validRound: 0 });
    expect(toHex(n.state.lockedValue!)).toBe(toHex(A));
    expect(toHex(n.state.validValue!)).toBe(toHex(A));
    // Line 49: 2f+1 precommits for the proposal -> decide.
    expect(show(n.precommits([0, 2], 0, A))).toEqual([]);
    const out = n.feed({
      type: 'vote',
      vote: {
        type: VoteType.Precommit,
        height: 1,
        round: 0,
        validator: 1,
        valueId: A,
        time: 1000,
        signature: new Uint8Array(64).fill(1),
      },
    });
    expect(show(out)).toEqual(['decide r0 A by 0,1,2']);
    expect(n.engine.decided).toBe(true);
    expect(n.state.step).toBe(Step.Commit);
    // After the decision the height is over: nothing more.
    expect(show(n.precommits([3], 0, A))).toEqual([]);
    expect(show(n.timeout('precommit', 0))).toEqual([]);
  });

  it('commitFromDecision builds a chain Commit from the decide action', () => {
    const n = new Node(3);
    n.start();
    n.proposal(0, A);
    n.prevotes([0, 1, 2], 0, A);
    const sig = (i: number) => new Uint8Array(64).fill(i + 1);
    let decide: Action | undefined;
    for (const i of [0, 2, 3]) {
      const vote: EngineVote = {
        type: VoteType.Precommit,
        height: 1,
        round: 0,
        validator: i,
        valueId: A,
        time: 500 + i,
        signature: sig(i),
      };
      decide = n.feed({ type: 'vote', vote }).find((a) => a.type === 'decide') ?? decide;
    }
    expect(decide?.type).toBe('decide');
    const commit = commitFromDecision(decide as Extract<Action, { type: 'decide' }>, 4);
    expect(commit.height).toBe(1);
    expect(commit.round).toBe(0);
    expect(toHex(commit.blockHash)).toBe(toHex(A));
    expect(commit.signatures.map((s) => s.flag)).toEqual([
      CommitFlag.Commit,
      CommitFlag.Absent,
      CommitFlag.Commit,
      CommitFlag.Commit,
    ]);
    expect(commit.signatures[2]).toEqual({ flag: CommitFlag.Commit, time: 502, signature: sig(2) });
    const unsigned = {
      ...(decide as Extract<Action, { type: 'decide' }>),
      commit: [{ ...(decide as Extract<Action, { type: 'decide' }>).commit[0], signature: undefined }],
    };
    expect(() => commitFromDecision(unsigned, 4)).toThrow('no signature');
  });
});

describe('timeouts (lines 57, 61, 65) and their growth per round', () => {
  it('propose timeout -> prevote nil; polka any -> prevote timeout; prevote timeout -> precommit nil; precommit timeout -> next round', () => {
    const n = new Node(3);
    n.start();
    expect(show(n.timeout('propose', 1))).toEqual([]); // not the current round
    expect(show(n.timeout('propose', 0))).toEqual(['prevote r0 nil']); // line 57
    expect(show(n.prevotes([0, 1], 0, A))).toEqual([]);
    expect(show(n.prevotes([2], 0, null))).toEqual(['timeout prevote r0 50ms']); // line 34: mixed 2f+1
    expect(show(n.timeout('prevote', 0))).toEqual(['precommit r0 nil']); // line 61
    expect(show(n.precommits([0, 1], 0, null))).toEqual([]);
    expect(show(n.precommits([2], 0, B))).toEqual(['timeout precommit r0 60ms']); // line 47
    const next = n.timeout('precommit', 0); // line 65
    expect(next[0]).toEqual({ type: 'roundStarted', height: 1, round: 1, proposer: 2 });
    expect(show(next)).toEqual(['timeout propose r1 110ms']); // linear growth: 100 + 10 * 1
    expect(n.state).toMatchObject({ round: 1, step: Step.Propose });
    expect(show(n.timeout('prevote', 0))).toEqual([]); // stale
  });

  it('polka for nil -> precommit nil (line 44)', () => {
    const n = new Node(3);
    n.start();
    n.timeout('propose', 0);
    expect(show(n.prevotes([0, 1, 2], 0, null))).toEqual(['precommit r0 nil']);
    expect(n.state.step).toBe(Step.Precommit);
  });

  it('2f+1 precommits of any kind schedule the precommit timeout once per round, in any step (line 47)', () => {
    const n = new Node(3);
    n.start();
    expect(show(n.precommits([0, 1], 0, A))).toEqual([]);
    expect(show(n.precommits([2], 0, null))).toEqual(['timeout precommit r0 60ms']);
    expect(show(n.timeout('propose', 0))).toEqual(['prevote r0 nil']); // not scheduled again on step change
  });
});

describe('locking and valid value across rounds', () => {
  it('a locked process prevotes nil for another value (line 26) and its locked value again (line 24)', () => {
    const n = new Node(3);
    lockedAtRound0(n, A);
    n.timeout('precommit', 0);
    expect(show(n.proposal(1, B))).toEqual(['prevote r1 nil']);
    const m = new Node(3);
    lockedAtRound0(m, A);
    m.timeout('precommit', 0);
    expect(show(m.proposal(1, A))).toEqual(['prevote r1 A']);
  });

  it('a proposal with validRound and a polka in that round: prevote it if lockedRound <= vr (line 30), else nil (line 32)', () => {
    // Locked on A in round 0; B has a polka in round 1; B is proposed in round 2 with vr = 1.
    const n = new Node(3);
    lockedAtRound0(n, A);
    n.timeout('precommit', 0);
    n.proposal(1, B); // prevote nil (locked on A)
    n.prevotes([0, 1, 2], 1, B); // polka for B in round 1: precommit B, lock B at round 1
    expect(n.state.lockedRound).toBe(1);
    // Round 2 (proposer 3 = self): proposes its validValue B with validRound 1 (lines 15-16, 19).
    expect(show(n.timeout('precommit', 1))).toEqual(['propose r2 B vr1', 'timeout propose r2 120ms']);

    // A second node locked on A at round 0 that missed the round-1 prevotes of B until now.
    const m = new Node(0);
    lockedAtRound0(m, A);
    m.timeout('precommit', 0);
    m.timeout('propose', 1);
    m.prevotes([1, 2, 3], 1, B);
    m.timeout('precommit', 1);
    expect(m.state).toMatchObject({ round: 2, lockedRound: 0 });
    expect(show(m.proposal(2, B, 1))).toEqual(['prevote r2 B']); // line 30: lockedRound 0 <= vr 1

    // A third node locked on A at round 1 sees B proposed with vr 0 and a polka for B at round 0.
    const k = new Node(3);
    k.start();
    k.timeout('propose', 0);
    k.prevotes([0, 1, 2], 0, B); // polka B at round 0, no proposal held
    k.timeout('prevote', 0);
    k.timeout('precommit', 0);
    k.proposal(1, A);
    k.prevotes([0, 1, 2], 1, A); // lock A at round 1
    k.timeout('precommit', 1);
    k.timeout('propose', 2); // round 2: k proposed its validValue A; nobody voted
    k.timeout('precommit', 2);
    expect(k.state).toMatchObject({ round: 3, lockedRound: 1 });
    expect(show(k.proposal(3, B, 0))).toEqual(['prevote r3 nil']); // line 32: lockedRound 1 > vr 0, B != A
  });

  it('the proposer re-proposes its validValue with validRound (lines 15-16, 19)', () => {
    const n = new Node(2); // proposer of round 1 at height 1
    n.start();
    n.proposal(0, A);
    n.prevotes([0, 1, 3], 0, A);
    expect(show(n.timeout('precommit', 0))).toEqual(['propose r1 A vr0', 'timeout propose r1 110ms']);
  });

  it('a polka seen in the precommit step updates only validValue/validRound (lines 42-43)', () => {
    const n = new Node(2); // proposer of round 1
    n.start();
    n.timeout('propose', 0);
    n.prevotes([2], 0, null); // own nil prevote fed back
    n.prevotes([0, 1], 0, A); // 2f+1 mixed: prevote timeout
    n.timeout('prevote', 0); // precommit nil: precommit step, not locked
    expect(show(n.proposal(0, A))).toEqual([]);
    expect(show(n.prevotes([3], 0, A))).toEqual([]); // polka for A, seen in the precommit step
    expect(n.state).toMatchObject({
      step: Step.Precommit,
      lockedRound: -1,
      lockedValue: null,
      validRound: 0,
    });
    expect(toHex(n.state.validValue!)).toBe(toHex(A));
    expect(show(n.timeout('precommit', 0))).toEqual(['propose r1 A vr0', 'timeout propose r1 110ms']);
  });
});

describe('round skip (line 55), past-round decision (line 49), invalid proposals', () => {
  it('f+1 of the power in a higher round starts that round', () => {
    const n = new Node(3);
    n.start();
    expect(show(n.prevotes([0], 3, A))).toEqual([]);
    const out = n.precommits([1], 3, null);
    expect(out[0]).toEqual({ type: 'roundStarted', height: 1, round: 3, proposer: 0 });
    expect(show(out)).toEqual(['timeout propose r3 130ms']);
    expect(n.state).toMatchObject({ round: 3, step: Step.Propose });
  });

  it('decides for a past round when the commit and the proposal of that round are both held', () => {
    const m = new Node(3);
    m.start();
    m.timeout('propose', 0);
    m.timeout('precommit', 0);
    expect(m.state.round).toBe(1);
    expect(show(m.precommits([0, 1, 2], 0, A))).toEqual([]); // no proposal of round 0 held
    expect(show(m.proposal(0, A))).toEqual(['decide r0 A by 0,1,2']);
    expect(m.state).toMatchObject({ round: 1, step: Step.Commit });
  });

  it('an invalid proposal gets a nil prevote (lines 22/26 with valid(v) = false) and is not kept', () => {
    const n = new Node(3);
    n.start();
    expect(show(n.proposal(0, A, -1, false))).toEqual(['prevote r0 nil']);
    n.prevotes([0, 1, 2], 0, A);
    expect(n.state.lockedRound).toBe(-1); // no lock on an invalid value
  });

  it('ignores proposals from a validator that is not proposer(h, r), and out-of-range votes', () => {
    const n = new Node(3, { maxFutureRounds: 5 });
    n.start();
    const wrong = n.feed({
      type: 'proposal',
      proposal: { height: 1, round: 0, validRound: -1, valueId: A, proposer: 2 },
      valid: true,
    });
    expect(show(wrong)).toEqual([]);
    expect(show(n.prevotes([0, 1], 6, A))).toEqual([]); // beyond maxFutureRounds: dropped, no skip
    expect(n.state.round).toBe(0);
    expect(show(n.vote(VoteType.Prevote, 7, 0, A))).toEqual([]); // no such validator
  });
});

describe('vote keeper: duplicates, equivocation, certificates, exact power thresholds', () => {
  it('a duplicate vote is ignored; a conflicting one is evidence and does not count', () => {
    const n = new Node(3);
    n.start();
    n.proposal(0, A);
    expect(show(n.prevotes([0, 0], 0, A))).toEqual([]);
    expect(show(n.prevotes([0], 0, B))).toEqual(['evidence v0 r0 A/B']);
    expect(show(n.prevotes([1], 0, B))).toEqual([]);
    // B has 0 and 1 only if 0's second vote counted; it does not: no polka for B, but 2f+1 any.
    expect(show(n.prevotes([2], 0, B))).toEqual(['timeout prevote r0 50ms']);
    expect(n.engine.votes?.hasQuorumFor(0, VoteType.Prevote, B)).toBe(false);
  });

  it('a certificate counts each signer for its value, even one that voted otherwise first', () => {
    const n = new Node(3);
    n.start();
    n.proposal(0, A);
    n.precommits([0], 0, null);
    n.precommits([1, 2], 0, A);
    expect(n.engine.decided).toBe(false);
    const cert = [0, 1, 2].map((i) => ({
      type: VoteType.Precommit,
      height: 1,
      round: 0,
      validator: i,
      valueId: A,
    }));
    expect(show(n.feed({ type: 'certificate', votes: cert }))).toEqual([
      'evidence v0 r0 nil/A',
      'decide r0 A by 0,1,2',
    ]);
    // not a certificate: only 2 signers
    const m = new Node(3);
    m.start();
    m.proposal(0, A);
    expect(show(m.feed({ type: 'certificate', votes: cert.slice(0, 2) }))).toEqual([]);
  });

  it('thresholds are exact in bigint: powers 3,1,1,1 (total 6)', () => {
    const n = new Node(3, { powers: [3n, 1n, 1n, 1n] });
    n.start();
    // f+1: 3 * 3 > 6 -> validator 0 alone makes a round skip.
    expect(n.precommits([0], 2, null).some((a) => a.type === 'roundStarted')).toBe(true);
    expect(n.state.round).toBe(2);
    // 2f+1: 3 * sum > 12 needs sum >= 5: validators 0 and 1 (4) are not enough, 0, 1, 2 (5) are.
    n.timeout('propose', 2);
    expect(show(n.prevotes([0, 1], 2, null))).toEqual([]);
    expect(show(n.prevotes([2], 2, null))).toEqual(['precommit r2 nil']);
  });
});

describe('heights: buffering the next height, deciding at its start', () => {
  it('buffers next-height votes and a proposal, and decides at once when they hold a commit', () => {
    const n = new Node(3);
    lockedAtRound0(n, A);
    n.precommits([0, 1, 2], 0, A);
    expect(n.engine.decided).toBe(true);
    // Height 2 messages arrive before height 2 starts.
    n.feed({
      type: 'proposal',
      proposal: { height: 2, round: 0, validRound: -1, valueId: B, proposer: 2 },
      valid: true,
    });
    for (const i of [0, 1, 2]) n.vote(VoteType.Precommit, i, 0, B, 2);
    n.vote(VoteType.Precommit, 0, 0, B, 5); // too far ahead: dropped
    const out = n.start(2);
    expect(show(out)).toEqual(['decide r0 B by 0,1,2']);
    expect(n.state).toMatchObject({ height: 2, round: -1, step: Step.Commit });
  });

  it('starts the highest round in which f+1 of the power already voted', () => {
    const n = new Node(3);
    lockedAtRound0(n, A);
    n.precommits([0, 1, 2], 0, A);
    for (const i of [0, 1]) n.vote(VoteType.Prevote, i, 4, null, 2);
    n.vote(VoteType.Prevote, 2, 6, null, 2);
    const out = n.start(2);
    expect(out[0]).toEqual({ type: 'roundStarted', height: 2, round: 4, proposer: 2 });
    expect(n.state).toMatchObject({ height: 2, round: 4, step: Step.Propose, lockedRound: -1 });
  });
});

describe('test-only faults break the rule they name', () => {
  it('ignoreLockOnPrevote prevotes another value while locked', () => {
    const n = new Node(3, { faults: { ignoreLockOnPrevote: true } });
    lockedAtRound0(n, A);
    n.timeout('precommit', 0);
    expect(show(n.proposal(1, B))).toEqual(['prevote r1 B']);
  });

  it('skipValidValueUpdate leaves validValue unset at the polka', () => {
    const n = new Node(3, { faults: { skipValidValueUpdate: true } });
    lockedAtRound0(n, A);
    expect(n.state).toMatchObject({ lockedRound: 0, validRound: -1, validValue: null });
  });
});
