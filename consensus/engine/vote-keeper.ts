/**
 * Vote keeper of one height: tallies prevotes and precommits per round by voting power (bigint, exact
 * thresholds), reports each threshold the first time a vote reaches it, detects equivocation.
 *
 * Counting rules (those of the Quint model's votekeeper.qnt, and of CometBFT's VoteSet):
 * - a single vote counts once per (round, type): a validator's first vote. An identical vote is a
 *   duplicate and is ignored; a different vote of the same validator at the same height, round and type
 *   is kept (it is evidence, and may appear in a commit) but does not count;
 * - a certificate (applyCertificate: a set of signed votes for one value with > 2/3 of the power, e.g.
 *   the commit of a block or a polka a peer forwards) counts each of its signers for its value even if
 *   the signer's first vote was different (CometBFT does the same for a block a peer claims +2/3 for).
 *   Safe: two value quorums would share f+1 signers, one of them correct;
 * - "any" thresholds (2f+1 of anything) and f+1 skip count distinct validators.
 *
 * The output per vote follows the model's applyVote, so its `votekeeper` traces replay against this
 * class (test/conformance/).
 *
 * PERF: a vote costs O(1) map updates plus one threshold check; memory is bounded by the caller's round
 * window (engine.ts maxFutureRounds) times validators times 2 types (plus equivocations, which are rare
 * and each produce evidence).
 */
import {
  type EngineVote,
  isOneThird,
  isQuorum,
  sameValue,
  type ValueId,
  VoteType,
  valueKey,
  type WeightedValidators,
} from './types.js';

export type VoteKeeperOutput =
  | { kind: 'polkaAny'; round: number }
  | { kind: 'polkaNil'; round: number }
  | { kind: 'polkaValue'; round: number; value: ValueId }
  | { kind: 'precommitAny'; round: number }
  | { kind: 'precommitValue'; round: number; value: ValueId }
  | { kind: 'skip'; round: number };

export function outputKey(o: VoteKeeperOutput): string {
  switch (o.kind) {
    case 'polkaValue':
    case 'precommitValue':
      return `${o.kind}:${o.round}:${valueKey(o.value)}`;
    default:
      return `${o.kind}:${o.round}`;
  }
}

export interface ApplyVoteResult {
  /** 'duplicate' = identical to a vote already held (nothing changed). */
  status: 'added' | 'duplicate' | 'conflict';
  /** The threshold this vote reached for the first time (or a skip), if any. */
  output: VoteKeeperOutput | null;
  /** For 'conflict': the validator's first vote at this (round, type). */
  conflictsWith?: EngineVote;
}

export interface ApplyCertificateResult {
  /** polkaValue / precommitValue for the certificate's round and value. */
  output: VoteKeeperOutput;
  /** Pairs (first vote, certificate vote) of signers that voted differently before. */
  conflicts: [EngineVote, EngineVote][];
}

interface ValidatorVotes {
  /** Every distinct vote of the validator, first one first. */
  votes: EngineVote[];
  /** Value keys this validator's power counts for. */
  counted: Set<string>;
}

class VoteCount {
  readonly byValidator = new Map<number, ValidatorVotes>();
  /** Power counted for each value ('nil' for nil). */
  readonly valuePower = new Map<string, bigint>();
  /** Power of distinct validators. */
  anyPower = 0n;

  /** A single vote: only a validator's first vote counts. */
  add(vote: EngineVote, power: bigint): Omit<ApplyVoteResult, 'output'> {
    const held = this.byValidator.get(vote.validator);
    if (held === undefined) {
      this.#first(vote, power);
      return { status: 'added' };
    }
    if (held.votes.some((v) => sameValue(v.valueId, vote.valueId))) return { status: 'duplicate' };
    held.votes.push(vote);
    return { status: 'conflict', conflictsWith: held.votes[0] };
  }

  /** A vote of a certificate: counts for its value whatever the validator voted before. */
  addCertified(vote: EngineVote, power: bigint): Omit<ApplyVoteResult, 'output'> {
    const held = this.byValidator.get(vote.validator);
    if (held === undefined) {
      this.#first(vote, power);
      return { status: 'added' };
    }
    const key = valueKey(vote.valueId);
    const known = held.votes.some((v) => sameValue(v.valueId, vote.valueId));
    if (!known) held.votes.push(vote);
    if (!held.counted.has(key)) {
      held.counted.add(key);
      this.valuePower.set(key, (this.valuePower.get(key) ?? 0n) + power);
    }
    return known ? { status: 'duplicate' } : { status: 'conflict', conflictsWith: held.votes[0] };
  }

  #first(vote: EngineVote, power: bigint): void {
    const key = valueKey(vote.valueId);
    this.byValidator.set(vote.validator, { votes: [vote], counted: new Set([key]) });
    this.anyPower += power;
    this.valuePower.set(key, (this.valuePower.get(key) ?? 0n) + power);
  }

  powerFor(value: ValueId | null): bigint {
    return this.valuePower.get(valueKey(value)) ?? 0n;
  }

  /** The votes for `value` (counted or not), one per validator, in validator-index order. */
  votesFor(value: ValueId | null): EngineVote[] {
    const out: EngineVote[] = [];
    for (const { votes } of this.byValidator.values()) {
      const v = votes.find((x) => sameValue(x.valueId, value));
      if (v !== undefined) out.push(v);
    }
    return out.sort((a, b) => a.validator - b.validator);
  }
}

export class RoundVotes {
  readonly prevotes = new VoteCount();
  readonly precommits = new VoteCount();
  /** Outputs already reported for this round (each threshold is reported once). */
  readonly emitted = new Set<string>();
  /** Power of distinct validators with any vote in this round (f+1 skip, line 55). */
  readonly voters = new Map<number, bigint>();
  votersPower = 0n;

  count(type: VoteType): VoteCount {
    return type === VoteType.Prevote ? this.prevotes : this.precommits;
  }

  addVoter(validator: number, power: bigint): void {
    if (this.voters.has(validator)) return;
    this.voters.set(validator, power);
    this.votersPower += power;
  }
}

export class VoteKeeper {
  readonly height: number;
  readonly validators: WeightedValidators;
  readonly #rounds = new Map<number, RoundVotes>();

  constructor(height: number, validators: WeightedValidators) {
    this.height = height;
    this.validators = validators;
  }

  get totalPower(): bigint {
    return this.validators.totalPower;
  }

  /** Rounds that hold votes, ascending. */
  rounds(): number[] {
    return [...this.#rounds.keys()].sort((a, b) => a - b);
  }

  round(r: number): RoundVotes | undefined {
    return this.#rounds.get(r);
  }

  /**
   * Count `vote` (its height must be this keeper's; its validator index valid) with `power`, given the
   * engine's current round (a vote of a higher round may trigger a skip instead of a threshold).
   */
  applyVote(vote: EngineVote, power: bigint, currentRound: number): ApplyVoteResult {
    let rv = this.#rounds.get(vote.round);
    if (rv === undefined) {
      rv = new RoundVotes();
      this.#rounds.set(vote.round, rv);
    }
    const count = rv.count(vote.type);
    const res = count.add(vote, power);
    if (res.status === 'duplicate') return { status: 'duplicate', output: null };
    rv.addVoter(vote.validator, power);
    const total = this.totalPower;
    let output: VoteKeeperOutput | null = null;
    if (vote.round > currentRound && isOneThird(rv.votersPower, total)) {
      output = { kind: 'skip', round: vote.round };
    } else {
      output = thresholdOutput(vote, count, total);
      if (output !== null && rv.emitted.has(outputKey(output))) output = null;
    }
    if (output !== null) rv.emitted.add(outputKey(output));
    return { ...res, output };
  }

  /**
   * Count a certificate: votes of one round and type for one non-nil value whose distinct signers hold
   * > 2/3 of the power (checked here; signatures were checked by the caller). Null if it is not one.
   */
  applyCertificate(votes: readonly EngineVote[]): ApplyCertificateResult | null {
    if (votes.length === 0) return null;
    const { type, round, valueId } = votes[0];
    if (valueId === null || !Number.isSafeInteger(round) || round < 0) return null;
    const seen = new Set<number>();
    let power = 0n;
    for (const v of votes) {
      if (
        v.height !== this.height ||
        v.round !== round ||
        v.type !== type ||
        !sameValue(v.valueId, valueId)
      ) {
        return null;
      }
      if (!Number.isInteger(v.validator) || v.validator < 0 || v.validator >= this.validators.size)
        return null;
      if (seen.has(v.validator)) continue;
      seen.add(v.validator);
      power += this.validators.powerOf(v.validator);
    }
    if (!isQuorum(power, this.totalPower)) return null;
    let rv = this.#rounds.get(round);
    if (rv === undefined) {
      rv = new RoundVotes();
      this.#rounds.set(round, rv);
    }
    const conflicts: [EngineVote, EngineVote][] = [];
    for (const v of votes) {
      const p = this.validators.powerOf(v.validator);
      const res = rv.count(type).addCertified(v, p);
      if (res.status === 'conflict') conflicts.push([res.conflictsWith!, v]);
      rv.addVoter(v.validator, p);
    }
    const output: VoteKeeperOutput =
      type === VoteType.Prevote
        ? { kind: 'polkaValue', round, value: valueId }
        : { kind: 'precommitValue', round, value: valueId };
    rv.emitted.add(outputKey(output));
    return { output, conflicts };
  }

  /** 2f+1 prevotes (or precommits) for `value` (null = nil) at round r. */
  hasQuorumFor(round: number, type: VoteType, value: ValueId | null): boolean {
    const rv = this.#rounds.get(round);
    return rv !== undefined && isQuorum(rv.count(type).powerFor(value), this.totalPower);
  }

  /** 2f+1 prevotes (or precommits) of any kind at round r. */
  hasQuorumAny(round: number, type: VoteType): boolean {
    const rv = this.#rounds.get(round);
    return rv !== undefined && isQuorum(rv.count(type).anyPower, this.totalPower);
  }

  /** f+1: distinct voters of round r hold > 1/3 of the power. */
  hasOneThirdAny(round: number): boolean {
    const rv = this.#rounds.get(round);
    return rv !== undefined && isOneThird(rv.votersPower, this.totalPower);
  }

  votesFor(round: number, type: VoteType, value: ValueId | null): EngineVote[] {
    return this.#rounds.get(round)?.count(type).votesFor(value) ?? [];
  }

  /** Each validator's first prevote and precommit of `round`: what gossip relays to a peer in that round. */
  heldVotes(round: number): EngineVote[] {
    const rv = this.#rounds.get(round);
    if (rv === undefined) return [];
    const out: EngineVote[] = [];
    for (const c of [rv.prevotes, rv.precommits])
      for (const held of c.byValidator.values()) out.push(held.votes[0]);
    return out;
  }
}

function thresholdOutput(vote: EngineVote, count: VoteCount, total: bigint): VoteKeeperOutput | null {
  const r = vote.round;
  if (isQuorum(count.powerFor(vote.valueId), total)) {
    if (vote.type === VoteType.Prevote) {
      return vote.valueId === null
        ? { kind: 'polkaNil', round: r }
        : { kind: 'polkaValue', round: r, value: vote.valueId };
    }
    return vote.valueId === null
      ? { kind: 'precommitAny', round: r }
      : { kind: 'precommitValue', round: r, value: vote.valueId };
  }
  if (isQuorum(count.anyPower, total)) {
    return vote.type === VoteType.Prevote
      ? { kind: 'polkaAny', round: r }
      : { kind: 'precommitAny', round: r };
  }
  return null;
}
