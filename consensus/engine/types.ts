/**
 * Types of the pure Tendermint engine (Buchman, Kwon, Milosevic 2018, arXiv 1807.04938, Algorithm 1).
 *
 * The engine sees light messages: validators are indices into the height's validator set (canonical
 * order), values are 32-byte block hashes (`ValueId`), nil is `null`. The caller converts signed chain
 * objects (chain/vote.ts, chain/proposal.ts) to and from these after checking signatures.
 */
import { VoteType } from '../../chain/vote.js';

export { VoteType };

/** A value is identified by its 32-byte block hash; nil is `null`. */
export type ValueId = Uint8Array;

/** Round steps. `NewHeight` = height set, no round started yet (round -1); `Unstarted` = between rounds. */
export enum Step {
  NewHeight = 'newHeight',
  Unstarted = 'unstarted',
  Propose = 'propose',
  Prevote = 'prevote',
  Precommit = 'precommit',
  Commit = 'commit',
}

export type TimeoutKind = 'propose' | 'prevote' | 'precommit';

/** A prevote or precommit as the engine sees it (signature already checked by the caller). */
export interface EngineVote {
  type: VoteType;
  height: number;
  round: number;
  /** Index of the signer in the height's validator set. */
  validator: number;
  /** Block hash voted for, or null for nil. */
  valueId: ValueId | null;
  /**
   * Opaque to the engine, carried through to `decide.commit` so the caller can build a chain Commit
   * (see commit.ts): the vote's timestamp (ms) and signature.
   */
  time?: number;
  signature?: Uint8Array;
}

/** A proposal as the engine sees it: ⟨PROPOSAL, h, r, v, vr⟩ of the paper. */
export interface EngineProposal {
  height: number;
  round: number;
  /** The paper's validRound (CometBFT's POLRound); -1 = none. */
  validRound: number;
  valueId: ValueId;
  /** Index of the proposer in the height's validator set. */
  proposer: number;
}

/** What the engine needs of a validator set: sizes and powers by index. */
export interface WeightedValidators {
  readonly size: number;
  readonly totalPower: bigint;
  powerOf(index: number): bigint;
}

// ---------------------------------------------------------------------------------------------------
// Events (inputs)
// ---------------------------------------------------------------------------------------------------

/** Start consensus for `height` (after the previous height was decided and applied). */
export interface StartHeightEvent {
  type: 'startHeight';
  height: number;
  validators: WeightedValidators;
  /** This node's index in `validators`, or null when it does not vote at this height. */
  self: number | null;
}

/**
 * A proposal whose signature the caller checked. `valid` is the caller's verdict on the block content,
 * the paper's valid(v). Proposals from a validator that is not proposer(h, r) are ignored.
 */
export interface ProposalEvent {
  type: 'proposal';
  proposal: EngineProposal;
  valid: boolean;
}

/** A vote whose signature the caller checked. Own votes are fed back this way too (see engine.ts). */
export interface VoteEvent {
  type: 'vote';
  vote: EngineVote;
}

/**
 * A certificate: votes (signatures checked by the caller) of one round and type for one value whose
 * signers hold > 2/3 of the power, e.g. the commit of a block received by block sync, or a polka a
 * peer forwards. Each signer counts for that value even if it voted differently before (the earlier
 * vote is evidence). Sets that are not a certificate (mixed, nil, not > 2/3) are ignored.
 */
export interface CertificateEvent {
  type: 'certificate';
  votes: EngineVote[];
}

/** A timeout the caller scheduled (after a `scheduleTimeout` action) has fired. */
export interface TimeoutEvent {
  type: 'timeout';
  kind: TimeoutKind;
  height: number;
  round: number;
}

/** The block the caller built after a `requestValue` action (the paper's getValue(), line 18). */
export interface ValueReadyEvent {
  type: 'valueReady';
  height: number;
  round: number;
  valueId: ValueId;
}

export type EngineEvent =
  | StartHeightEvent
  | ProposalEvent
  | VoteEvent
  | CertificateEvent
  | TimeoutEvent
  | ValueReadyEvent;

// ---------------------------------------------------------------------------------------------------
// Actions (outputs)
// ---------------------------------------------------------------------------------------------------

/** Sign (signer guard), write to the WAL, then send this proposal; feed it back as a `proposal` event. */
export interface BroadcastProposalAction {
  type: 'broadcastProposal';
  proposal: EngineProposal;
}

/** Sign (signer guard), write to the WAL, then send this vote; feed it back as a `vote` event. */
export interface BroadcastVoteAction {
  type: 'broadcastVote';
  vote: EngineVote;
}

/** Fire a `timeout` event with these fields after `durationMs` (unless the height is over by then). */
export interface ScheduleTimeoutAction {
  type: 'scheduleTimeout';
  kind: TimeoutKind;
  height: number;
  round: number;
  durationMs: number;
}

/** This node proposes at (height, round) and has no validValue: build a block, answer with `valueReady`. */
export interface RequestValueAction {
  type: 'requestValue';
  height: number;
  round: number;
}

/**
 * The height is decided (line 49): `valueId` at `round`, with the precommits for it at that round
 * (every one the engine holds, in validator-index order; their power is > 2/3 of the total).
 */
export interface DecideAction {
  type: 'decide';
  height: number;
  round: number;
  valueId: ValueId;
  commit: EngineVote[];
}

/** Two conflicting votes of one validator at the same height, round and type (duplicate-vote evidence). */
export interface EvidenceAction {
  type: 'evidence';
  kind: 'duplicateVote';
  first: EngineVote;
  second: EngineVote;
}

/** Informational: the engine entered `round` (StartRound, lines 11-21). */
export interface RoundStartedAction {
  type: 'roundStarted';
  height: number;
  round: number;
  proposer: number;
}

export type Action =
  | BroadcastProposalAction
  | BroadcastVoteAction
  | ScheduleTimeoutAction
  | RequestValueAction
  | DecideAction
  | EvidenceAction
  | RoundStartedAction;

// ---------------------------------------------------------------------------------------------------
// Round state, configuration
// ---------------------------------------------------------------------------------------------------

/** The variables of Algorithm 1 for the current height (exposed to tests and RPC). */
export interface RoundState {
  height: number;
  round: number;
  step: Step;
  lockedRound: number;
  lockedValue: ValueId | null;
  validRound: number;
  validValue: ValueId | null;
}

export interface TimeoutConfig {
  /** timeoutPropose(r) = propose + proposeDelta * r (ms). */
  propose: number;
  proposeDelta: number;
  prevote: number;
  prevoteDelta: number;
  precommit: number;
  precommitDelta: number;
}

/** CometBFT's defaults. */
export const DEFAULT_TIMEOUTS: Readonly<TimeoutConfig> = Object.freeze({
  propose: 3000,
  proposeDelta: 500,
  prevote: 1000,
  prevoteDelta: 500,
  precommit: 1000,
  precommitDelta: 500,
});

/**
 * TEST ONLY. Each flag breaks one rule of Algorithm 1 so that tests (the conformance negative control)
 * can check that they notice. Never set in production.
 */
export interface EngineFaultsForTesting {
  /** Lines 23 and 29: prevote the proposed value even when locked on another value. */
  ignoreLockOnPrevote?: true;
  /** Lines 42-43: do not update validValue/validRound on a polka for the proposal. */
  skipValidValueUpdate?: true;
}

/** Default of EngineConfig.maxFutureRounds (the driver filters with the same window). */
export const DEFAULT_MAX_FUTURE_ROUNDS = 64;
/** Distinct valid proposals kept per round (a correct proposer sends one). */
export const MAX_PROPOSALS_PER_ROUND = 4;

export interface EngineConfig {
  timeouts: TimeoutConfig;
  /** Whether the proposer waits for transactions before building a block (not used yet). */
  waitForTxs: boolean;
  /** Votes for rounds above round + this are dropped (bounds memory; default 64). */
  maxFutureRounds: number;
  /** Messages for the next height kept until it starts (bounds memory; default 4096). */
  maxBufferedMessages: number;
}

export function timeoutDuration(t: TimeoutConfig, kind: TimeoutKind, round: number): number {
  switch (kind) {
    case 'propose':
      return t.propose + t.proposeDelta * round;
    case 'prevote':
      return t.prevote + t.prevoteDelta * round;
    case 'precommit':
      return t.precommit + t.precommitDelta * round;
  }
}

/** > 2/3 of total, exactly: 3 * sum > 2 * total. */
export function isQuorum(power: bigint, total: bigint): boolean {
  return 3n * power > 2n * total;
}

/** > 1/3 of total (f + 1), exactly: 3 * sum > total. */
export function isOneThird(power: bigint, total: bigint): boolean {
  return 3n * power > total;
}

/** Map key of a value id (hex); nil is 'nil'. */
export function valueKey(v: ValueId | null): string {
  return v === null ? 'nil' : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

export function sameValue(a: ValueId | null, b: ValueId | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
