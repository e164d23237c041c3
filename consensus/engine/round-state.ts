/**
 * The round state machine: the rules of Algorithm 1 (arXiv 1807.04938) as a pure function
 * (state, input) -> (state, output), one rule per input. The inputs are the rules' preconditions
 * already evaluated by the engine (engine.ts: proposal store + vote keeper): "a proposal from the
 * proposer and 2f+1 prevotes for it" arrives here as one `proposalAndPolkaCurrent` input.
 *
 * This layer has the same inputs and outputs as the round state machine of the Quint model
 * (informalsystems/malachite specs/consensus/quint/consensus.qnt), so the model's `consensus` traces
 * replay against it directly (test/conformance/).
 */
import {
  type EngineFaultsForTesting,
  type RoundState,
  Step,
  sameValue,
  type TimeoutKind,
  type ValueId,
  VoteType,
} from './types.js';

export type RoundInput =
  /** StartRound(round) (lines 11-21) for a process that is not proposer(h, round). */
  | { kind: 'newRound'; round: number; proposer: false }
  /** StartRound(round) for the proposer. */
  | { kind: 'newRound'; round: number; proposer: true }
  /** getValue() returned (line 18). */
  | { kind: 'proposeValue'; value: ValueId }
  /** Line 22: ⟨PROPOSAL, h, round, v, -1⟩ from the proposer, valid(v). */
  | { kind: 'proposal'; round: number; value: ValueId }
  /** Lines 22/28 with valid(v) = false: prevote nil (lines 26, 32). */
  | { kind: 'proposalInvalid' }
  /** Line 28: ⟨PROPOSAL, h, round, v, vr⟩ and 2f+1 ⟨PREVOTE, h, vr, id(v)⟩, valid(v), 0 <= vr < round. */
  | { kind: 'proposalAndPolkaPrevious'; value: ValueId; validRound: number }
  /** Line 28 with valid(v) = false (line 32). */
  | { kind: 'proposalAndPolkaPreviousInvalid'; value: ValueId; validRound: number }
  /** Line 34: 2f+1 ⟨PREVOTE, h, round, *⟩. */
  | { kind: 'polkaAny' }
  /** Line 36: ⟨PROPOSAL, h, round, v, *⟩ and 2f+1 ⟨PREVOTE, h, round, id(v)⟩, valid(v). */
  | { kind: 'proposalAndPolkaCurrent'; value: ValueId }
  /** Line 44: 2f+1 ⟨PREVOTE, h, round, nil⟩. */
  | { kind: 'polkaNil' }
  /** Line 47: 2f+1 ⟨PRECOMMIT, h, round, *⟩. */
  | { kind: 'precommitAny' }
  /** Line 49: ⟨PROPOSAL, h, r, v, *⟩ and 2f+1 ⟨PRECOMMIT, h, r, id(v)⟩, valid(v), any round r. */
  | { kind: 'proposalAndCommit'; round: number; value: ValueId }
  /** Line 55: f+1 messages ⟨*, h, round, *, *⟩ with round > round_p. */
  | { kind: 'skipRound'; round: number }
  /** Lines 57, 61, 65. */
  | { kind: 'timeoutPropose'; height: number; round: number }
  | { kind: 'timeoutPrevote'; height: number; round: number }
  | { kind: 'timeoutPrecommit'; height: number; round: number };

export type RoundOutput =
  | { kind: 'none' }
  | { kind: 'proposal'; height: number; round: number; value: ValueId; validRound: number }
  /** Ask for a value (line 18) and schedule the propose timeout. */
  | { kind: 'getValue'; height: number; round: number }
  | { kind: 'vote'; type: VoteType; height: number; round: number; value: ValueId | null }
  | { kind: 'timeout'; round: number; timeout: TimeoutKind }
  | { kind: 'decided'; round: number; value: ValueId }
  /** Leave the round; the engine then starts `round` (StartRound). */
  | { kind: 'skipRound'; round: number }
  /** The input does not apply in this state (a bug in the caller of this layer, or a no-op). */
  | { kind: 'error'; message: string };

export interface RoundTransition {
  state: RoundState;
  output: RoundOutput;
}

export function initialRoundState(height: number): RoundState {
  return {
    height,
    round: -1,
    step: Step.NewHeight,
    lockedRound: -1,
    lockedValue: null,
    validRound: -1,
    validValue: null,
  };
}

function err(state: RoundState, message: string): RoundTransition {
  return { state, output: { kind: 'error', message } };
}

function vote(s: RoundState, type: VoteType, value: ValueId | null): RoundOutput {
  return { kind: 'vote', type, height: s.height, round: s.round, value };
}

/** Apply one input. Pure: `state` is not modified. */
export function applyRoundInput(
  state: RoundState,
  input: RoundInput,
  faults: EngineFaultsForTesting = {},
): RoundTransition {
  const s = state;
  switch (input.kind) {
    // Lines 11-21: StartRound(round).
    case 'newRound': {
      if (s.step !== Step.NewHeight && s.step !== Step.Unstarted) {
        return err(s, 'newRound when a round is in progress');
      }
      if (input.round <= s.round) return err(s, 'newRound for a round that is not higher');
      // Line 12: round_p <- round; line 13: step_p <- propose.
      const next = { ...s, round: input.round, step: Step.Propose };
      if (input.proposer) {
        // Line 14: proposer(h_p, round_p) = p.
        if (s.validValue === null) {
          // Line 18: proposal <- getValue() (the engine asks its caller; answer = proposeValue).
          return { state: next, output: { kind: 'getValue', height: s.height, round: input.round } };
        }
        // Lines 15-16, 19: proposal <- validValue; broadcast ⟨PROPOSAL, h, round, proposal, validRound⟩.
        return {
          state: next,
          output: {
            kind: 'proposal',
            height: s.height,
            round: input.round,
            value: s.validValue,
            validRound: s.validRound,
          },
        };
      }
      // Line 21: schedule OnTimeoutPropose(h_p, round_p) after timeoutPropose(round_p).
      return { state: next, output: { kind: 'timeout', round: input.round, timeout: 'propose' } };
    }

    // Line 19 after getValue() returned.
    case 'proposeValue':
      return {
        state: s,
        output: {
          kind: 'proposal',
          height: s.height,
          round: s.round,
          value: input.value,
          validRound: s.validRound,
        },
      };

    // Line 22: upon ⟨PROPOSAL, h_p, round_p, v, -1⟩ from proposer(h_p, round_p) while step_p = propose.
    case 'proposal': {
      if (s.step !== Step.Propose) return err(s, 'proposal when not in propose step');
      const next = { ...s, step: Step.Prevote }; // line 27
      // Line 23: if valid(v) ∧ (lockedRound_p = -1 ∨ lockedValue_p = v).
      if (faults.ignoreLockOnPrevote || s.lockedRound === -1 || sameValue(s.lockedValue, input.value)) {
        return { state: next, output: vote(next, VoteType.Prevote, input.value) }; // line 24
      }
      return { state: next, output: vote(next, VoteType.Prevote, null) }; // line 26
    }

    // Lines 22/28 with valid(v) = false.
    case 'proposalInvalid': {
      if (s.step !== Step.Propose) return err(s, 'proposalInvalid when not in propose step');
      const next = { ...s, step: Step.Prevote }; // lines 27, 33
      return { state: next, output: vote(next, VoteType.Prevote, null) }; // lines 26, 32
    }

    // Line 28: upon ⟨PROPOSAL, h_p, round_p, v, vr⟩ from proposer(h_p, round_p) AND 2f+1
    // ⟨PREVOTE, h_p, vr, id(v)⟩ while step_p = propose ∧ (vr >= 0 ∧ vr < round_p).
    case 'proposalAndPolkaPrevious': {
      const vr = input.validRound;
      if (s.step !== Step.Propose || vr < 0 || vr >= s.round) {
        return err(s, 'proposalAndPolkaPrevious not applicable');
      }
      const next = { ...s, step: Step.Prevote }; // line 33
      // Line 29: if valid(v) ∧ (lockedRound_p <= vr ∨ lockedValue_p = v).
      if (faults.ignoreLockOnPrevote || s.lockedRound <= vr || sameValue(s.lockedValue, input.value)) {
        return { state: next, output: vote(next, VoteType.Prevote, input.value) }; // line 30
      }
      return { state: next, output: vote(next, VoteType.Prevote, null) }; // line 32
    }

    // Line 28 with valid(v) = false: line 32.
    case 'proposalAndPolkaPreviousInvalid': {
      if (s.step !== Step.Propose) return err(s, 'proposalAndPolkaPreviousInvalid when not in propose step');
      const next = { ...s, step: Step.Prevote }; // line 33
      return { state: next, output: vote(next, VoteType.Prevote, null) }; // line 32
    }

    // Line 34: upon 2f+1 ⟨PREVOTE, h_p, round_p, *⟩ while step_p = prevote for the first time.
    case 'polkaAny':
      if (s.step !== Step.Prevote) return err(s, 'polkaAny when not in prevote step');
      // Line 35: schedule OnTimeoutPrevote(h_p, round_p) after timeoutPrevote(round_p).
      return { state: s, output: { kind: 'timeout', round: s.round, timeout: 'prevote' } };

    // Line 36: upon ⟨PROPOSAL, h_p, round_p, v, *⟩ from proposer(h_p, round_p) AND 2f+1
    // ⟨PREVOTE, h_p, round_p, id(v)⟩ while valid(v) ∧ step_p >= prevote for the first time.
    case 'proposalAndPolkaCurrent': {
      const v = input.value;
      if (s.step === Step.Prevote) {
        // Lines 37-41: lock on v, precommit id(v), step <- precommit; lines 42-43: valid value.
        const next: RoundState = {
          ...s,
          step: Step.Precommit, // line 41
          lockedValue: v, // line 38
          lockedRound: s.round, // line 39
          ...(faults.skipValidValueUpdate ? {} : { validValue: v, validRound: s.round }), // lines 42-43
        };
        return { state: next, output: vote(next, VoteType.Precommit, v) }; // line 40
      }
      if (s.step === Step.Precommit) {
        // Lines 42-43 only: validValue_p <- v; validRound_p <- round_p.
        if (faults.skipValidValueUpdate) return { state: s, output: { kind: 'none' } };
        return { state: { ...s, validValue: v, validRound: s.round }, output: { kind: 'none' } };
      }
      return err(s, 'proposalAndPolkaCurrent when not in prevote or precommit step');
    }

    // Line 44: upon 2f+1 ⟨PREVOTE, h_p, round_p, nil⟩ while step_p = prevote.
    case 'polkaNil': {
      if (s.step !== Step.Prevote) return err(s, 'polkaNil when not in prevote step');
      const next = { ...s, step: Step.Precommit }; // line 46
      return { state: next, output: vote(next, VoteType.Precommit, null) }; // line 45
    }

    // Line 47: upon 2f+1 ⟨PRECOMMIT, h_p, round_p, *⟩ for the first time.
    // Line 48: schedule OnTimeoutPrecommit(h_p, round_p) after timeoutPrecommit(round_p).
    case 'precommitAny':
      return { state: s, output: { kind: 'timeout', round: s.round, timeout: 'precommit' } };

    // Line 49: upon ⟨PROPOSAL, h_p, r, v, *⟩ from proposer(h_p, r) AND 2f+1 ⟨PRECOMMIT, h_p, r, id(v)⟩
    // while decision_p[h_p] = nil. Lines 50-54: decide; the engine's caller starts the next height.
    case 'proposalAndCommit':
      if (s.step === Step.Commit) return err(s, 'already decided');
      return {
        state: { ...s, step: Step.Commit },
        output: { kind: 'decided', round: input.round, value: input.value },
      };

    // Line 55: upon f+1 ⟨*, h_p, round, *, *⟩ with round > round_p: StartRound(round) (line 56).
    case 'skipRound':
      if (input.round <= s.round) return err(s, 'skipRound to a round that is not higher');
      return { state: { ...s, step: Step.Unstarted }, output: { kind: 'skipRound', round: input.round } };

    // Line 57: OnTimeoutPropose(h, r): if h = h_p ∧ r = round_p ∧ step_p = propose.
    case 'timeoutPropose': {
      if (input.height !== s.height || input.round !== s.round || s.step !== Step.Propose) {
        return err(s, 'stale timeoutPropose');
      }
      const next = { ...s, step: Step.Prevote }; // line 60
      return { state: next, output: vote(next, VoteType.Prevote, null) }; // line 59
    }

    // Line 61: OnTimeoutPrevote(h, r): if h = h_p ∧ r = round_p ∧ step_p = prevote.
    case 'timeoutPrevote': {
      if (input.height !== s.height || input.round !== s.round || s.step !== Step.Prevote) {
        return err(s, 'stale timeoutPrevote');
      }
      const next = { ...s, step: Step.Precommit }; // line 64
      return { state: next, output: vote(next, VoteType.Precommit, null) }; // line 63
    }

    // Line 65: OnTimeoutPrecommit(h, r): if h = h_p ∧ r = round_p: StartRound(round_p + 1) (line 67).
    case 'timeoutPrecommit':
      if (input.height !== s.height || input.round !== s.round) return err(s, 'stale timeoutPrecommit');
      return { state: { ...s, step: Step.Unstarted }, output: { kind: 'skipRound', round: s.round + 1 } };
  }
}
