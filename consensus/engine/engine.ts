/**
 * The Tendermint engine: a pure state machine `handle(event) -> Action[]` for one node, one height at a
 * time. No I/O, no timers, no clock, no crypto: the caller (consensus state / node) checks signatures,
 * signs, writes the WAL, runs timers and feeds the results back in as events.
 *
 * Structure (the same as the Quint model's driver, informalsystems/malachite specs/consensus/quint
 * driver.qnt, and Malachite's Rust driver):
 * - round-state.ts applies one rule of Algorithm 1 per input (lines 11-67);
 * - vote-keeper.ts counts votes and reports the threshold a vote reaches;
 * - this file turns events into those inputs: it keeps the proposals, asks the vote keeper, and after
 *   every step change re-checks what the new step enables (a stored proposal, 2f+1 prevotes or
 *   precommits already held). Work the model does in later "pending input" / "step change" driver
 *   steps is done here before `handle` returns, so one event yields all the actions it causes.
 *
 * Own messages: the engine does NOT count its own proposal and votes when it emits them. The caller
 * signs them (signer guard), writes them to the WAL, sends them, and feeds them back in as `proposal`
 * and `vote` events like a peer's. One path for all votes; WAL replay re-feeds them the same way.
 *
 * Messages for the next height (height + 1; any height before the first start) are buffered (bounded)
 * and loaded when that height starts; then the engine decides at once if a buffered proposal has a
 * commit, else starts the highest round in which f+1 of the power has voted (line 55), else round 0.
 *
 * Other choices: the proposer also schedules its propose timeout (as CometBFT); after `decide` the
 * height is over for the engine (no more actions until the next `startHeight`); each rule fires at most
 * once per (round, step), each timeout is scheduled at most once per (kind, round). Conformance with
 * the Quint model's traces, and the few deliberate differences: test/conformance/DIFFERENCES.md.
 */
import { applyRoundInput, initialRoundState, type RoundInput, type RoundOutput } from './round-state.js';
import {
  type Action,
  type CertificateEvent,
  DEFAULT_MAX_FUTURE_ROUNDS,
  DEFAULT_TIMEOUTS,
  type EngineConfig,
  type EngineEvent,
  type EngineFaultsForTesting,
  type EngineProposal,
  type EngineVote,
  MAX_PROPOSALS_PER_ROUND,
  type ProposalEvent,
  type RoundState,
  type StartHeightEvent,
  Step,
  sameValue,
  type TimeoutConfig,
  type TimeoutEvent,
  type TimeoutKind,
  timeoutDuration,
  type ValueId,
  type ValueReadyEvent,
  VoteType,
  valueKey,
  type WeightedValidators,
} from './types.js';
import { VoteKeeper, type VoteKeeperOutput, type VoteKeeper as VoteKeeperType } from './vote-keeper.js';

/** proposer(h, r): index of the proposer of (height, round) in that height's validator set. */
export type ProposerFn = (height: number, round: number) => number;

export interface EngineOptions {
  proposer: ProposerFn;
  config?: Partial<Omit<EngineConfig, 'timeouts'>> & { timeouts?: Partial<TimeoutConfig> };
  /** TEST ONLY: break one rule on purpose (conformance negative control). */
  faults?: EngineFaultsForTesting;
}

interface StoredProposal {
  proposal: EngineProposal;
}

type BufferedMessage = { type: 'vote'; vote: EngineVote } | ProposalEvent | CertificateEvent;

function messageHeight(m: BufferedMessage): number {
  if (m.type === 'vote') return m.vote.height;
  if (m.type === 'proposal') return m.proposal.height;
  return m.votes[0]?.height ?? -1;
}

interface PendingInput {
  input: RoundInput;
  height: number;
  round: number;
}

export class TendermintEngine {
  readonly config: Readonly<EngineConfig>;
  readonly #proposerFn: ProposerFn;
  readonly #faults: EngineFaultsForTesting;

  #started = false;
  #state: RoundState = initialRoundState(0);
  #validators: WeightedValidators | null = null;
  #self: number | null = null;
  #votes: VoteKeeper | null = null;
  /** Valid proposals from the right proposer, by round. */
  #proposals = new Map<number, StoredProposal[]>();
  /** Round-state inputs already applied, keyed with (round, step): each rule fires once per step. */
  #executed = new Set<string>();
  /** Timeouts scheduled at this height (`kind:round`): each is scheduled once. */
  #scheduled = new Set<string>();
  #valueRequested = new Set<number>();
  #proposed = new Set<number>();
  #pending: PendingInput[] = [];
  #stepChanged = false;
  #buffer: BufferedMessage[] = [];
  #out: Action[] = [];

  constructor(opts: EngineOptions) {
    this.#proposerFn = opts.proposer;
    this.#faults = opts.faults ?? {};
    const c = opts.config ?? {};
    this.config = Object.freeze({
      timeouts: Object.freeze({ ...DEFAULT_TIMEOUTS, ...c.timeouts }),
      waitForTxs: c.waitForTxs ?? false,
      maxFutureRounds: c.maxFutureRounds ?? DEFAULT_MAX_FUTURE_ROUNDS,
      maxBufferedMessages: c.maxBufferedMessages ?? 4096,
    });
  }

  /** The variables of Algorithm 1 for the current height (a fresh copy on each read). */
  get roundState(): RoundState {
    return { ...this.#state };
  }

  get started(): boolean {
    return this.#started;
  }

  get decided(): boolean {
    return this.#started && this.#state.step === Step.Commit;
  }

  /** The vote keeper of the current height (read-only use: RPC, tests). */
  get votes(): VoteKeeperType | null {
    return this.#votes;
  }

  handle(event: EngineEvent): Action[] {
    this.#out = [];
    switch (event.type) {
      case 'startHeight':
        this.#onStartHeight(event);
        break;
      case 'proposal':
        this.#onProposal(event);
        break;
      case 'vote':
        this.#onVote(event.vote);
        break;
      case 'certificate':
        this.#onCertificate(event);
        break;
      case 'timeout':
        this.#onTimeout(event);
        break;
      case 'valueReady':
        this.#onValueReady(event);
        break;
    }
    this.#drain();
    const out = this.#out;
    this.#out = [];
    return out;
  }

  // -------------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------------

  #onStartHeight(e: StartHeightEvent): void {
    if (this.#started && e.height <= this.#state.height) return;
    this.#started = true;
    this.#state = initialRoundState(e.height);
    this.#validators = e.validators;
    this.#self = e.self;
    this.#votes = new VoteKeeper(e.height, e.validators);
    this.#proposals = new Map();
    this.#executed = new Set();
    this.#scheduled = new Set();
    this.#valueRequested = new Set();
    this.#proposed = new Set();
    this.#pending = [];
    this.#stepChanged = false;

    const buffered = this.#buffer.filter((m) => messageHeight(m) === e.height);
    this.#buffer = [];
    // Load the buffered votes, then certificates, without acting on each (as of the highest round among
    // them, so that no vote reports a skip); then decide or pick the round to start from the whole picture.
    let maxRound = 0;
    for (const m of buffered) if (m.type === 'vote') maxRound = Math.max(maxRound, m.vote.round);
    for (const m of buffered) if (m.type === 'vote') this.#countVote(m.vote, maxRound);
    for (const m of buffered) if (m.type === 'certificate') this.#countCertificate(m.votes);
    for (const m of buffered) if (m.type === 'proposal' && m.valid) this.#storeProposal(m.proposal);

    // Line 49 with what was buffered: a proposal and 2f+1 precommits for it in its round.
    for (const r of [...this.#proposals.keys()].sort((a, b) => a - b)) {
      for (const { proposal } of this.#proposals.get(r)!) {
        if (this.#votes.hasQuorumFor(r, VoteType.Precommit, proposal.valueId)) {
          this.#apply({ kind: 'proposalAndCommit', round: r, value: proposal.valueId });
          return;
        }
      }
    }
    // Line 10: StartRound(0), then at once line 55: f+1 of the power already in a higher round.
    let start = 0;
    for (const r of this.#votes.rounds()) if (r > start && this.#votes.hasOneThirdAny(r)) start = r;
    this.#startRound(start);
  }

  #onProposal(e: ProposalEvent): void {
    const p = e.proposal;
    if (!this.#started || p.height !== this.#state.height) {
      this.#bufferMessage(e, p.height, p.round);
      return;
    }
    if (!Number.isSafeInteger(p.round) || p.round < 0 || p.validRound < -1 || p.validRound >= p.round) return;
    if (p.round > Math.max(this.#state.round, 0) + this.config.maxFutureRounds) return;
    if (p.proposer !== this.#proposerFn(p.height, p.round)) return; // not from proposer(h, r)
    if (this.decided) return;
    if (e.valid) {
      if (!this.#storeProposal(p)) return; // duplicate (or too many from an equivocating proposer)
    }
    this.#processProposal(p, e.valid);
  }

  #onVote(v: EngineVote): void {
    if (!this.#started || v.height !== this.#state.height) {
      this.#bufferMessage({ type: 'vote', vote: v }, v.height, v.round);
      return;
    }
    if (v.round > Math.max(this.#state.round, 0) + this.config.maxFutureRounds) return;
    const res = this.#countVote(v, this.#state.round);
    if (res === null || this.decided) return;
    if (v.type === VoteType.Prevote) this.#onPrevoteThreshold(res);
    else this.#onPrecommitThreshold(res, v);
  }

  #onCertificate(e: CertificateEvent): void {
    const h = e.votes[0]?.height;
    if (h === undefined) return;
    if (!this.#started || h !== this.#state.height) {
      this.#bufferMessage(e, h, e.votes[0].round);
      return;
    }
    const out = this.#countCertificate(e.votes);
    if (out === null || this.decided) return;
    if (out.round > this.#state.round) {
      this.#apply({ kind: 'skipRound', round: out.round }); // line 55: 2f+1 > f+1 in a higher round
    } else if (out.kind === 'polkaValue') {
      this.#onPrevoteThreshold(out);
    } else {
      this.#onPrecommitThreshold(out, e.votes[0]);
    }
  }

  #onTimeout(e: TimeoutEvent): void {
    const s = this.#state;
    if (!this.#started || this.decided || e.height !== s.height || e.round !== s.round) return;
    const kind =
      e.kind === 'propose' ? 'timeoutPropose' : e.kind === 'prevote' ? 'timeoutPrevote' : 'timeoutPrecommit';
    this.#apply({ kind, height: e.height, round: e.round });
  }

  #onValueReady(e: ValueReadyEvent): void {
    const s = this.#state;
    if (!this.#started || this.decided || e.height !== s.height || e.round !== s.round) return;
    if (s.step !== Step.Propose || !this.#valueRequested.has(s.round) || this.#proposed.has(s.round)) return;
    this.#apply({ kind: 'proposeValue', value: e.valueId });
  }

  // -------------------------------------------------------------------------------------------------
  // Votes and proposals -> round-state inputs
  // -------------------------------------------------------------------------------------------------

  /**
   * Count a vote of the current height (emits evidence on equivocation). Returns the threshold it
   * reached, or null (nothing reached, a duplicate, or not a valid vote of this height).
   */
  #countVote(v: EngineVote, currentRound: number): VoteKeeperOutput | null {
    const vals = this.#validators!;
    if (!Number.isSafeInteger(v.round) || v.round < 0) return null;
    if (!Number.isInteger(v.validator) || v.validator < 0 || v.validator >= vals.size) return null;
    if (v.type !== VoteType.Prevote && v.type !== VoteType.Precommit) return null;
    const power = vals.powerOf(v.validator);
    if (power <= 0n) return null;
    const res = this.#votes!.applyVote(v, power, currentRound);
    if (res.status === 'duplicate') return null;
    if (res.status === 'conflict') {
      this.#out.push({ type: 'evidence', kind: 'duplicateVote', first: res.conflictsWith!, second: v });
    }
    return res.output;
  }

  #countCertificate(votes: readonly EngineVote[]): VoteKeeperOutput | null {
    const res = this.#votes!.applyCertificate(votes);
    if (res === null) return null;
    for (const [first, second] of res.conflicts) {
      this.#out.push({ type: 'evidence', kind: 'duplicateVote', first, second });
    }
    return res.output;
  }

  #onPrevoteThreshold(out: VoteKeeperOutput): void {
    const round = this.#state.round;
    switch (out.kind) {
      case 'polkaValue':
        if (out.round < round && this.#hasProposal(round, out.value, out.round)) {
          // Line 28: the proposal of this round carries validRound = out.round.
          this.#apply({ kind: 'proposalAndPolkaPrevious', value: out.value, validRound: out.round });
        } else if (out.round === round) {
          if (this.#hasProposal(round, out.value)) {
            // Line 36 right after line 34 (the model's order: timeout first, then lock and precommit).
            this.#pending.push({
              input: { kind: 'proposalAndPolkaCurrent', value: out.value },
              height: this.#state.height,
              round,
            });
          }
          this.#apply({ kind: 'polkaAny' }); // line 34
        }
        break;
      case 'polkaAny':
        if (out.round === round) this.#apply({ kind: 'polkaAny' }); // line 34
        break;
      case 'polkaNil':
        if (out.round === round) this.#apply({ kind: 'polkaNil' }); // line 44
        break;
      case 'skip':
        if (out.round > round) this.#apply({ kind: 'skipRound', round: out.round }); // line 55
        break;
    }
  }

  #onPrecommitThreshold(out: VoteKeeperOutput, v: EngineVote): void {
    const round = this.#state.round;
    switch (out.kind) {
      case 'precommitValue':
        if (this.#hasProposal(out.round, out.value)) {
          this.#apply({ kind: 'proposalAndCommit', round: out.round, value: out.value }); // line 49
        } else if (out.round === round) {
          this.#apply({ kind: 'precommitAny' }); // line 47
        } else if (out.round > round) {
          this.#apply({ kind: 'skipRound', round: v.round }); // line 55
        }
        break;
      case 'precommitAny':
        if (out.round === round) this.#apply({ kind: 'precommitAny' }); // line 47
        break;
      case 'skip':
        if (out.round > round) this.#apply({ kind: 'skipRound', round: v.round }); // line 55
        break;
    }
  }

  /** A valid proposal from proposer(h, p.round), or an invalid one (valid(v) = false). */
  #processProposal(p: EngineProposal, valid: boolean): void {
    const s = this.#state;
    const votes = this.#votes!;
    const v = p.valueId;
    if (!valid) {
      // Lines 22/28 with valid(v) = false: prevote nil (lines 26, 32). Invalid proposals are not kept.
      if (s.step !== Step.Propose || s.round !== p.round) return;
      if (p.validRound >= 0 && votes.hasQuorumFor(p.validRound, VoteType.Prevote, v)) {
        this.#apply({ kind: 'proposalAndPolkaPreviousInvalid', value: v, validRound: p.validRound });
      } else {
        this.#apply({ kind: 'proposalInvalid' });
      }
      return;
    }
    // Line 49, any round.
    if (votes.hasQuorumFor(p.round, VoteType.Precommit, v)) {
      this.#apply({ kind: 'proposalAndCommit', round: p.round, value: v });
      return;
    }
    if (p.round !== s.round) return; // kept for later (lines 28, 49)
    if (s.step === Step.Propose) {
      if (p.validRound === -1) {
        this.#apply({ kind: 'proposal', round: p.round, value: v }); // line 22
      } else if (votes.hasQuorumFor(p.validRound, VoteType.Prevote, v)) {
        this.#apply({ kind: 'proposalAndPolkaPrevious', value: v, validRound: p.validRound }); // line 28
      }
    } else if (s.step === Step.Prevote || s.step === Step.Precommit) {
      if (votes.hasQuorumFor(s.round, VoteType.Prevote, v)) {
        this.#apply({ kind: 'proposalAndPolkaCurrent', value: v }); // line 36
      }
    }
  }

  /**
   * After a step change (or a new round): what the new step enables with what is already held.
   * Line 47 first (queued), then the stored proposal of this round (lines 22, 28, 36, 49), then,
   * still in prevote, line 44 or line 34.
   */
  #onStepChange(): void {
    const s = this.#state;
    if (s.step === Step.Commit || s.round < 0) return;
    const votes = this.#votes!;
    if (votes.hasQuorumAny(s.round, VoteType.Precommit)) {
      this.#pending.push({ input: { kind: 'precommitAny' }, height: s.height, round: s.round });
    }
    const stored = this.#proposals.get(s.round);
    if (stored !== undefined) {
      for (const { proposal } of stored) {
        this.#processProposal(proposal, true);
        if (this.#state !== s) break; // acted on one of them
      }
    }
    const now = this.#state;
    if (now.round === s.round && now.step === Step.Prevote) {
      if (votes.hasQuorumFor(now.round, VoteType.Prevote, null)) this.#apply({ kind: 'polkaNil' });
      else if (votes.hasQuorumAny(now.round, VoteType.Prevote)) this.#apply({ kind: 'polkaAny' });
    }
  }

  #drain(): void {
    for (;;) {
      if (this.#stepChanged) {
        this.#stepChanged = false;
        this.#onStepChange();
        continue;
      }
      const next = this.#pending.shift();
      if (next === undefined) return;
      if (next.height === this.#state.height && next.round === this.#state.round && !this.decided) {
        this.#apply(next.input);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Applying inputs, dispatching outputs
  // -------------------------------------------------------------------------------------------------

  #apply(input: RoundInput): void {
    const before = this.#state;
    const key = `${inputKey(input)}|${before.round}|${before.step}`;
    if (this.#executed.has(key)) return; // each rule fires once per (round, step): "for the first time"
    this.#executed.add(key);
    const { state, output } = applyRoundInput(before, input, this.#faults);
    this.#state = state;
    if (state.step !== before.step || state.round !== before.round) this.#stepChanged = true;
    this.#dispatch(output);
  }

  #dispatch(o: RoundOutput): void {
    const s = this.#state;
    const self = this.#self;
    switch (o.kind) {
      case 'none':
      case 'error':
        return;
      case 'proposal':
        this.#proposed.add(o.round);
        if (self !== null) {
          this.#out.push({
            type: 'broadcastProposal',
            proposal: {
              height: o.height,
              round: o.round,
              validRound: o.validRound,
              valueId: o.value,
              proposer: self,
            },
          });
        }
        this.#schedule('propose', o.round);
        return;
      case 'getValue':
        this.#valueRequested.add(o.round);
        this.#out.push({ type: 'requestValue', height: o.height, round: o.round });
        this.#schedule('propose', o.round);
        return;
      case 'vote':
        if (self !== null) {
          this.#out.push({
            type: 'broadcastVote',
            vote: { type: o.type, height: o.height, round: o.round, validator: self, valueId: o.value },
          });
        }
        return;
      case 'timeout':
        this.#schedule(o.timeout, o.round);
        return;
      case 'decided':
        this.#out.push({
          type: 'decide',
          height: s.height,
          round: o.round,
          valueId: o.value,
          commit: this.#votes!.votesFor(o.round, VoteType.Precommit, o.value),
        });
        this.#pending = [];
        return;
      case 'skipRound':
        this.#startRound(o.round);
        return;
    }
  }

  /** StartRound(round), lines 11-21. */
  #startRound(round: number): void {
    const h = this.#state.height;
    const proposer = this.#proposerFn(h, round);
    this.#out.push({ type: 'roundStarted', height: h, round, proposer });
    const isProposer = this.#self !== null && proposer === this.#self;
    this.#apply(
      isProposer ? { kind: 'newRound', round, proposer: true } : { kind: 'newRound', round, proposer: false },
    );
  }

  #schedule(kind: TimeoutKind, round: number): void {
    const key = `${kind}:${round}`;
    if (this.#scheduled.has(key)) return;
    this.#scheduled.add(key);
    const height = this.#state.height;
    this.#out.push({
      type: 'scheduleTimeout',
      kind,
      height,
      round,
      durationMs: timeoutDuration(this.config.timeouts, kind, round),
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Storage helpers
  // -------------------------------------------------------------------------------------------------

  /** Keep a valid proposal; false if it was already held (or the round holds too many). */
  #storeProposal(p: EngineProposal): boolean {
    if (p.proposer !== this.#proposerFn(p.height, p.round)) return false;
    let list = this.#proposals.get(p.round);
    if (list === undefined) {
      list = [];
      this.#proposals.set(p.round, list);
    }
    if (
      list.some((x) => sameValue(x.proposal.valueId, p.valueId) && x.proposal.validRound === p.validRound)
    ) {
      return false;
    }
    if (list.length >= MAX_PROPOSALS_PER_ROUND) return false;
    list.push({ proposal: p });
    return true;
  }

  /** A valid proposal of `round` for `value` (with this validRound, if given) is held. */
  #hasProposal(round: number, value: ValueId, validRound?: number): boolean {
    const list = this.#proposals.get(round);
    if (list === undefined) return false;
    return list.some(
      (x) =>
        sameValue(x.proposal.valueId, value) &&
        (validRound === undefined || x.proposal.validRound === validRound),
    );
  }

  #bufferMessage(m: BufferedMessage, height: number, round: number): void {
    const next = this.#started ? this.#state.height + 1 : height;
    if (height !== next || !Number.isSafeInteger(round) || round < 0 || round > this.config.maxFutureRounds)
      return;
    if (this.#buffer.length >= this.config.maxBufferedMessages) return;
    this.#buffer.push(m);
  }
}

function inputKey(i: RoundInput): string {
  switch (i.kind) {
    case 'proposeValue':
    case 'proposalAndPolkaCurrent':
      return `${i.kind}:${valueKey(i.value)}`;
    case 'proposal':
    case 'proposalAndCommit':
      return `${i.kind}:${i.round}:${valueKey(i.value)}`;
    case 'proposalAndPolkaPrevious':
    case 'proposalAndPolkaPreviousInvalid':
      return `${i.kind}:${i.validRound}:${valueKey(i.value)}`;
    case 'newRound':
    case 'skipRound':
      return `${i.kind}:${i.round}`;
    case 'timeoutPropose':
    case 'timeoutPrevote':
    case 'timeoutPrecommit':
      return `${i.kind}:${i.height}:${i.round}`;
    default:
      return i.kind;
  }
}
