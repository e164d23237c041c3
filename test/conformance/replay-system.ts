/**
 * Replay of the multi-process traces (Quint model statemachineAsync / statemachineTest harnesses) against
 * one TendermintEngine per correct process.
 *
 * Each state of a trace is one action. Environment actions (message delivery, next value to propose, new
 * height) only move data; a driver step is visible in `_hist` = {validator, input, output}: the adapter
 * feeds `_hist.input` to that process's engine (mapped to engine events) and compares:
 * - `_hist.output` against the engine's actions (a vote, a proposal, a timeout, a value request, a
 *   decision). The engine does in one `handle` call what the model spreads over the following
 *   StepChangeDInput / PendingDInput driver steps, so engine actions wait in a per-process pool until
 *   the model emits the matching output; those bookkeeping inputs are never injected;
 * - whenever the model is quiescent for that process (no pending step change, no pending input for its
 *   current height and round): the pool must be empty, and the round state (height, round, step,
 *   locked/valid round and value), the decisions (`es.chain`, with their commit votes) and the pending
 *   timeouts must be equal.
 * Differences the engine makes on purpose are counted by kind (see DIFFERENCES.md); everything else is
 * a divergence reported with scenario, state index and process.
 */
import {
  type Action,
  type EngineFaultsForTesting,
  type EngineProposal,
  type EngineVote,
  Step,
  sameValue,
  TendermintEngine,
  type TimeoutKind,
  VoteType,
} from '../../consensus/engine/index.js';
import {
  fmtEngineVote,
  fmtVote,
  type Itf,
  type LoadedTrace,
  ModelMap,
  type MProposal,
  type MValue,
  type MVote,
  STEP_OF_MODEL,
  type Tagged,
} from './itf.js';
import { type Divergence, modelRoundStateText, roundStateText, sameRoundState } from './replay-units.js';

/** Kinds of deliberate differences (DIFFERENCES.md explains each). */
export type DifferenceKind =
  | 'certificate-broadcast'
  | 'post-decision-precommit-timeout'
  | 'deferred-start-decision'
  | 'new-round-recheck';

export interface Difference {
  kind: DifferenceKind;
  step: number;
  process: string;
  detail: string;
}

export interface DecisionEntry {
  height: number;
  round: number;
  value: string;
  /** Commit votes as model text, sorted. */
  commit: string[];
}

export interface SystemReplayResult {
  scenario: string;
  driverSteps: number;
  /** Model outputs matched with engine actions. */
  matchedOutputs: number;
  /** Full state comparisons made (model quiescent for the stepping process). */
  stateChecks: number;
  divergences: Divergence[];
  differences: Difference[];
  /** Decisions of each correct process's engine, in height order. */
  decisions: Map<string, DecisionEntry[]>;
  /** The model's own decision logs (es.chain) at the last state. */
  modelDecisions: Map<string, DecisionEntry[]>;
  /** deferred-start-decision entries the model never caught up with (must be empty). */
  unresolvedDeferred: string[];
}

interface MCS {
  p: string;
  height: bigint;
  round: bigint;
  step: Tagged;
  lockedRound: bigint;
  lockedValue: MValue;
  validRound: bigint;
  validValue: MValue;
}
interface MDriver {
  cs: MCS;
  bk: { evidence: MVote[][] };
  valset: Map<unknown, Itf>;
  pendingInputs: [Tagged, bigint, bigint][];
  pendingStepChange: Tagged;
  started: boolean;
  chain: { decision: MProposal; commit: MVote[] }[];
}
interface MNode {
  es: MDriver;
  timeouts: [Tagged, bigint, bigint][];
  incomingVotes: MVote[];
  incomingProposals: MProposal[];
  incomingCertificates: MVote[][];
}
interface Hist {
  validator: string;
  input: Tagged;
  output: Tagged;
}

const TIMEOUT_OF_MODEL: Record<string, TimeoutKind> = {
  ProposeTimeout: 'propose',
  PrevoteTimeout: 'prevote',
  PrecommitTimeout: 'precommit',
};

function hist(state: Record<string, Itf>): Hist {
  const h = state._hist;
  if (Array.isArray(h)) {
    const [validator, input, output] = h as [string, Tagged, Tagged];
    return { validator, input, output };
  }
  return h as unknown as Hist;
}

function system(state: Record<string, Itf>): Map<string, MNode> {
  return state.system as unknown as Map<string, MNode>;
}

function timeoutKey(kind: TimeoutKind, height: number, round: number): string {
  return `${kind}:h${height}:r${round}`;
}

/** Per correct process: its engine and what has been matched so far. */
class Process {
  readonly engine: TendermintEngine;
  /** Engine actions not yet matched to a model output. */
  pool: Action[] = [];
  /** Timeouts the engine scheduled and that have not fired (as the model's `timeouts` set). */
  readonly timeouts = new Set<string>();
  /** Every timeout the engine ever scheduled (re-scheduling one is a no-op in the model's set). */
  readonly everScheduled = new Set<string>();
  readonly decisions: DecisionEntry[] = [];
  /** Equivocations the engine reported, as `h:r:type:validator`. */
  readonly evidence: string[] = [];
  /** Timeouts the model holds because of a deliberate difference (not expected from the engine). */
  readonly extraModelTimeouts = new Set<string>();
  /** A decision the engine made at a height start that the model makes later (deferred-start-decision). */
  deferredDecision: { height: number; round: number; value: string } | null = null;
  /**
   * new-round-recheck: the engine acted at once on what it held for a round the model entered without
   * a step change; tolerated while the model stays in that (height, round, step).
   */
  recheck: { height: number; round: number; step: string; timeouts: Set<string> } | null = null;

  constructor(
    readonly name: string,
    readonly index: number,
    m: ModelMap,
    faults: EngineFaultsForTesting,
  ) {
    const n = m.names.length;
    this.engine = new TendermintEngine({
      proposer: (_h, r) => (r + 1) % n, // the model's proposer: sorted(valset keys)[(r + 1) mod n]
      faults,
    });
  }
}

export function replaySystemTrace(
  scenario: string,
  trace: LoadedTrace,
  faults: EngineFaultsForTesting = {},
): SystemReplayResult {
  const states = trace.states;
  const async = trace.vars.includes('propBuffer');
  const sys0 = system(states[0]);
  const m = new ModelMap([...sys0.values()][0].es.valset);
  const validators = {
    size: m.names.length,
    totalPower: m.powers.reduce((a, b) => a + b, 0n),
    powerOf: (i: number) => m.powers[i],
  };
  const procs = new Map<string, Process>();
  for (const name of sys0.keys()) procs.set(name, new Process(name, m.index(name), m, faults));

  const divergences: Divergence[] = [];
  const differences: Difference[] = [];
  let driverSteps = 0;
  let matchedOutputs = 0;
  let stateChecks = 0;

  const prop = (p: MProposal): EngineProposal => ({
    height: Number(p.height),
    round: Number(p.round),
    validRound: Number(p.validRound),
    valueId: m.valueId(p.proposal),
    proposer: m.index(p.srcAddress),
  });
  const isValid = (p: MProposal) => p.proposal !== 'invalid'; // the model's isValid(v)

  const feed = (pr: Process, events: Parameters<TendermintEngine['handle']>[0][]) => {
    for (const e of events) {
      for (const a of pr.engine.handle(e)) {
        if (a.type === 'evidence') pr.evidence.push(evidenceKey(a.second));
        if (a.type === 'roundStarted' || a.type === 'evidence') continue; // informational / compared apart
        if (a.type === 'scheduleTimeout') {
          const k = timeoutKey(a.kind, a.height, a.round);
          pr.timeouts.add(k);
          pr.everScheduled.add(k);
        }
        if (a.type === 'decide') {
          pr.decisions.push({
            height: a.height,
            round: a.round,
            value: m.name(a.valueId),
            commit: a.commit.map((v) => fmtEngineVote(m, v)).sort(),
          });
        }
        pr.pool.push(a);
      }
    }
  };

  const takeFromPool = (pr: Process, pred: (a: Action) => boolean): Action | undefined => {
    const i = pr.pool.findIndex(pred);
    if (i < 0) return undefined;
    return pr.pool.splice(i, 1)[0];
  };

  for (let i = 1; i < states.length; i++) {
    if (trace.raw[i] === trace.raw[i - 1]) continue; // identical consecutive states are no-ops
    const prevH = hist(states[i - 1]);
    const h = hist(states[i]);
    const prevSys = system(states[i - 1]);
    const curSys = system(states[i]);
    const isDriverStep = JSON.stringify(h, jsonBig) !== JSON.stringify(prevH, jsonBig);
    if (!isDriverStep) {
      // Environment step: only inboxes, buffers, next value, or a new height may change.
      for (const [name, node] of curSys) {
        const before = prevSys.get(name)!;
        if (node.es.cs.height !== before.es.cs.height) continue; // newHeightAction
        if (JSON.stringify(node.es, jsonBig) !== JSON.stringify(before.es, jsonBig)) {
          divergences.push({
            scenario,
            step: i,
            process: name,
            message: 'driver state changed without _hist change',
          });
        }
      }
      continue;
    }
    driverSteps++;
    const name = h.validator;
    const pr = procs.get(name);
    if (pr === undefined) {
      divergences.push({ scenario, step: i, process: name, message: 'driver step of an unknown process' });
      break;
    }
    const before = prevSys.get(name)!;
    const after = curSys.get(name)!;
    const fail = (message: string) => divergences.push({ scenario, step: i, process: name, message });
    const height = Number(before.es.cs.height);
    const input = h.input;

    // ---- feed the input ------------------------------------------------------------------------
    if (!before.es.started) {
      // getNewHeightAction: the model loads every vote and certificate of this height from the inbox
      // (and looks at the inbox proposals for a decision), then starts.
      const events: Parameters<TendermintEngine['handle']>[0][] = [];
      for (const v of before.incomingVotes)
        if (Number(v.height) === height) events.push({ type: 'vote', vote: m.vote(v) });
      for (const c of before.incomingCertificates) {
        if (c.every((v) => Number(v.height) === height))
          events.push({ type: 'certificate', votes: c.map((v) => m.vote(v)) });
      }
      if (
        input.tag === 'PendingDInput' &&
        (input.value as Tagged).tag === 'ProposalAndCommitAndValidCInput'
      ) {
        const [r, value] = (input.value as Tagged).value as [bigint, string];
        for (const p of before.incomingProposals) {
          if (Number(p.height) === height && p.round === r && p.proposal === value) {
            events.push({ type: 'proposal', proposal: prop(p), valid: isValid(p) });
          }
        }
      }
      events.push({ type: 'startHeight', height, validators, self: pr.index });
      feed(pr, events);
    } else {
      switch (input.tag) {
        case 'ProposalDInput': {
          const p = input.value as unknown as MProposal;
          feed(pr, [{ type: 'proposal', proposal: prop(p), valid: isValid(p) }]);
          break;
        }
        case 'VoteDInput':
          feed(pr, [{ type: 'vote', vote: m.vote(input.value as unknown as MVote) }]);
          break;
        case 'CertificateDInput':
          feed(pr, [
            { type: 'certificate', votes: (input.value as unknown as MVote[]).map((v) => m.vote(v)) },
          ]);
          break;
        case 'TimeoutDInput': {
          const kind = TIMEOUT_OF_MODEL[(input.value as Tagged).tag];
          const round = Number(before.es.cs.round);
          const k = timeoutKey(kind, height, round);
          pr.timeouts.delete(k);
          pr.extraModelTimeouts.delete(k);
          feed(pr, [{ type: 'timeout', kind, height, round }]);
          break;
        }
        case 'ProposeValueDInput':
          feed(pr, [
            {
              type: 'valueReady',
              height,
              round: Number(before.es.cs.round),
              valueId: m.valueId(input.value as string),
            },
          ]);
          break;
        case 'StartDInput':
          fail('StartDInput on a started height');
          break;
        // PendingDInput, StepChangeDInput, NoDInput: the model's own bookkeeping, never injected.
      }
    }

    // ---- match the model's output ----------------------------------------------------------------
    const out = h.output;
    const divergencesBefore = divergences.length;
    const curHeight = Number(after.es.cs.height);
    switch (out.tag) {
      case 'VoteOutput': {
        const mv = out.value as unknown as MVote;
        const want = m.vote(mv);
        const got = takeFromPool(
          pr,
          (a) =>
            a.type === 'broadcastVote' &&
            a.vote.type === want.type &&
            a.vote.height === want.height &&
            a.vote.round === want.round &&
            a.vote.validator === want.validator &&
            sameValue(a.vote.valueId, want.valueId),
        );
        if (got === undefined) fail(`model sends ${fmtVote(mv)}; engine did not (${poolText(m, pr.pool)})`);
        break;
      }
      case 'ProposalOutput': {
        const mp = out.value as unknown as MProposal;
        const want = prop(mp);
        const got = takeFromPool(pr, (a) => a.type === 'broadcastProposal' && sameProposal(a.proposal, want));
        if (got === undefined) {
          fail(
            `model proposes ${mp.proposal} at r${mp.round} vr${mp.validRound}; engine did not (${poolText(m, pr.pool)})`,
          );
        }
        // The async harness also starts the propose timeout for a proposal (statemachineAsync.qnt).
        if (async) expectTimeout(pr, 'propose', height, Number(mp.round), fail, takeFromPool);
        break;
      }
      case 'GetValueAndScheduleTimeoutOutput': {
        const [vh, vr] = out.value as [bigint, bigint, Tagged];
        const got = takeFromPool(
          pr,
          (a) => a.type === 'requestValue' && a.height === Number(vh) && a.round === Number(vr),
        );
        if (got === undefined)
          fail(`model asks for a value at r${vr}; engine did not (${poolText(m, pr.pool)})`);
        expectTimeout(pr, 'propose', Number(vh), Number(vr), fail, takeFromPool);
        break;
      }
      case 'TimeoutOutput': {
        const [r, t] = out.value as [bigint, Tagged];
        const kind = TIMEOUT_OF_MODEL[t.tag];
        const k = timeoutKey(kind, curHeight, Number(r));
        if (kind === 'precommit' && after.es.cs.step.tag === 'CommitStep' && pr.engine.decided) {
          // After deciding, the model re-runs line 47 on the step change into CommitStep.
          const inPool = takeFromPool(
            pr,
            (a) => a.type === 'scheduleTimeout' && timeoutKey(a.kind, a.height, a.round) === k,
          );
          if (inPool === undefined && !pr.everScheduled.has(k)) {
            pr.extraModelTimeouts.add(k);
            differences.push({ kind: 'post-decision-precommit-timeout', step: i, process: name, detail: k });
          }
          break;
        }
        expectTimeout(pr, kind, curHeight, Number(r), fail, takeFromPool);
        break;
      }
      case 'DecidedOutput': {
        const [r, value] = out.value as [bigint, string];
        const got = takeFromPool(
          pr,
          (a) =>
            a.type === 'decide' &&
            a.height === curHeight &&
            a.round === Number(r) &&
            sameValue(a.valueId, m.valueId(value)),
        );
        const deferred = pr.deferredDecision;
        if (
          got === undefined &&
          deferred !== null &&
          deferred.height === curHeight &&
          deferred.round === Number(r) &&
          deferred.value === value
        ) {
          pr.deferredDecision = null; // the model caught up with the engine's start-of-height decision
          break;
        }
        if (got === undefined)
          fail(`model decides ${value} at r${r}; engine did not (${poolText(m, pr.pool)})`);
        break;
      }
      case 'NoConsensusOutput':
      case 'ErrorOutput':
      case 'SkipRoundOutput':
        break;
      default:
        fail(`unknown model output ${out.tag}`);
    }

    if (
      divergences.length === divergencesBefore &&
      !['NoConsensusOutput', 'ErrorOutput', 'SkipRoundOutput'].includes(out.tag)
    ) {
      matchedOutputs++;
    }

    // A start-of-height decision the model's driver drops (driver.qnt handlePendingInput compares the
    // decision round with round -1) and makes one step later when it re-reads the proposal.
    if (
      !before.es.started &&
      input.tag === 'PendingDInput' &&
      (input.value as Tagged).tag === 'ProposalAndCommitAndValidCInput' &&
      out.tag === 'NoConsensusOutput'
    ) {
      const [r, value] = (input.value as Tagged).value as [bigint, string];
      const got = takeFromPool(
        pr,
        (a) => a.type === 'decide' && a.round === Number(r) && sameValue(a.valueId, m.valueId(value)),
      );
      if (got !== undefined) {
        pr.deferredDecision = { height, round: Number(r), value };
        differences.push({
          kind: 'deferred-start-decision',
          step: i,
          process: name,
          detail: `r${r} ${value}`,
        });
      }
    }

    // Certificates: the model broadcasts the polka/commit certificate a vote completed; the engine leaves
    // vote gossip to the reactor.
    if (async) {
      const cb0 = states[i - 1].certBuffer as unknown as Map<string, MVote[][]>;
      const cb1 = states[i].certBuffer as unknown as Map<string, MVote[][]>;
      let added = 0;
      for (const [k, v] of cb1) added += Math.max(0, v.length - (cb0.get(k)?.length ?? 0));
      if (added > 0) {
        differences.push({
          kind: 'certificate-broadcast',
          step: i,
          process: name,
          detail: `${added} recipients`,
        });
      }
    }

    // A round switch that keeps the step (propose -> skip -> propose) is no step change for the model
    // (driver.qnt recordStepChange compares steps only), so it does not re-check what it holds for the
    // new round; the engine does (e.g. a proposal of that round received earlier: line 22).
    if (
      after.es.started &&
      before.es.started &&
      after.es.cs.height === before.es.cs.height &&
      after.es.cs.round > before.es.cs.round &&
      after.es.cs.step.tag === before.es.cs.step.tag &&
      after.es.pendingStepChange.tag === 'NoStep'
    ) {
      const round = Number(after.es.cs.round);
      const extra = pr.pool.filter((a) => actionRound(a) === round);
      if (extra.length > 0) {
        pr.pool = pr.pool.filter((a) => !extra.includes(a));
        const timeouts = new Set<string>();
        for (const a of extra)
          if (a.type === 'scheduleTimeout') timeouts.add(timeoutKey(a.kind, a.height, a.round));
        pr.recheck = { height: curHeight, round, step: after.es.cs.step.tag, timeouts };
        differences.push({ kind: 'new-round-recheck', step: i, process: name, detail: poolText(m, extra) });
      }
    }
    if (
      pr.recheck !== null &&
      (pr.recheck.height !== curHeight ||
        pr.recheck.round !== Number(after.es.cs.round) ||
        pr.recheck.step !== after.es.cs.step.tag)
    ) {
      pr.recheck = null;
    }

    // ---- compare at quiescence ---------------------------------------------------------------------
    if (after.es.started && quiescent(after)) {
      stateChecks++;
      if (pr.pool.length > 0) {
        fail(`engine acted beyond the model: ${poolText(m, pr.pool)}`);
      }
      const name2 = (x: Uint8Array | null) => m.name(x);
      const deferred = pr.deferredDecision !== null && pr.deferredDecision.height === curHeight;
      const rs = pr.engine.roundState;
      if (deferred) {
        // Engine decided at the start; the model still sits in round -1 without a step.
        if (!(rs.step === Step.Commit && after.es.cs.step.tag === 'NoStep')) {
          fail(
            `deferred decision: engine ${roundStateText(rs, name2)}, model ${modelRoundStateText(after.es.cs)}`,
          );
        }
      } else if (pr.recheck !== null) {
        // Same state except that the engine is already past the model's step in that round.
        const engineAsModel = { ...rs, step: STEP_OF_MODEL[after.es.cs.step.tag] };
        if (
          !sameRoundState(engineAsModel, after.es.cs, name2) ||
          stepOrder(rs.step) <= stepOrder(engineAsModel.step)
        ) {
          fail(
            `new-round-recheck: engine ${roundStateText(rs, name2)}, model ${modelRoundStateText(after.es.cs)}`,
          );
        }
      } else if (!sameRoundState(rs, after.es.cs, name2)) {
        fail(`round state: engine ${roundStateText(rs, name2)}, model ${modelRoundStateText(after.es.cs)}`);
      }
      const modelT = new Set(
        after.timeouts.map(([t, th, tr]) => timeoutKey(TIMEOUT_OF_MODEL[t.tag], Number(th), Number(tr))),
      );
      const mineT = new Set([...pr.timeouts, ...pr.extraModelTimeouts]);
      for (const k of pr.recheck?.timeouts ?? []) mineT.delete(k);
      if (!sameSet(modelT, mineT)) {
        fail(`timeouts: engine {${[...mineT].sort().join(' ')}}, model {${[...modelT].sort().join(' ')}}`);
      }
      const modelEv = new Set(after.es.bk.evidence.map((set) => evidenceKey(m.vote(set[0]))));
      const mineEv = new Set(pr.evidence.filter((e) => e.startsWith(`h${curHeight}:`)));
      if (!sameSet(modelEv, mineEv)) {
        fail(`evidence: engine {${[...mineEv].join(' ')}}, model {${[...modelEv].join(' ')}}`);
      }
      const modelChain = chainEntries(after);
      const mineChain = deferred ? pr.decisions.slice(0, -1) : pr.decisions;
      if (JSON.stringify(modelChain) !== JSON.stringify(mineChain)) {
        fail(`decisions: engine ${JSON.stringify(mineChain)}, model ${JSON.stringify(modelChain)}`);
      }
    }
    if (divergences.length > 0) break;
  }

  const last = system(states[states.length - 1]);
  const decisions = new Map<string, DecisionEntry[]>();
  const modelDecisions = new Map<string, DecisionEntry[]>();
  const unresolvedDeferred: string[] = [];
  for (const [name, pr] of procs) {
    decisions.set(name, pr.decisions);
    modelDecisions.set(name, chainEntries(last.get(name)!));
    const d = pr.deferredDecision;
    if (d !== null) unresolvedDeferred.push(`${name} h${d.height} r${d.round} ${d.value}`);
  }
  return {
    scenario,
    driverSteps,
    matchedOutputs,
    stateChecks,
    divergences,
    differences,
    decisions,
    modelDecisions,
    unresolvedDeferred,
  };
}

/** No pending step change and no pending input for the current height and round. */
function quiescent(node: MNode): boolean {
  const es = node.es;
  if (es.pendingStepChange.tag !== 'NoStep') return false;
  return !es.pendingInputs.some(([, ph, pr]) => ph === es.cs.height && pr === es.cs.round);
}

function evidenceKey(v: EngineVote): string {
  return `h${v.height}:r${v.round}:${VoteType[v.type]}:${v.validator}`;
}

function chainEntries(node: MNode): DecisionEntry[] {
  return node.es.chain.map((e) => ({
    height: Number(e.decision.height),
    round: Number(e.decision.round),
    value: e.decision.proposal,
    commit: e.commit.map(fmtVote).sort(),
  }));
}

function expectTimeout(
  pr: Process,
  kind: TimeoutKind,
  height: number,
  round: number,
  fail: (m: string) => void,
  take: (pr: Process, pred: (a: Action) => boolean) => Action | undefined,
): void {
  const k = timeoutKey(kind, height, round);
  const got = take(pr, (a) => a.type === 'scheduleTimeout' && timeoutKey(a.kind, a.height, a.round) === k);
  // Scheduling a timeout that is already pending is a no-op in the model (a set union).
  if (got === undefined && !pr.timeouts.has(k)) fail(`model schedules ${k}; engine did not`);
}

function actionRound(a: Action): number | null {
  switch (a.type) {
    case 'broadcastVote':
      return a.vote.round;
    case 'broadcastProposal':
      return a.proposal.round;
    case 'scheduleTimeout':
    case 'requestValue':
    case 'decide':
    case 'roundStarted':
      return a.round;
    default:
      return null;
  }
}

const STEP_ORDER = [Step.NewHeight, Step.Unstarted, Step.Propose, Step.Prevote, Step.Precommit, Step.Commit];
function stepOrder(s: Step): number {
  return STEP_ORDER.indexOf(s);
}

function sameProposal(a: EngineProposal, b: EngineProposal): boolean {
  return (
    a.height === b.height &&
    a.round === b.round &&
    a.validRound === b.validRound &&
    a.proposer === b.proposer &&
    sameValue(a.valueId, b.valueId)
  );
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function poolText(m: ModelMap, pool: Action[]): string {
  if (pool.length === 0) return 'engine has nothing pending';
  return pool
    .map((a) => {
      switch (a.type) {
        case 'broadcastVote':
          return `send ${fmtEngineVote(m, a.vote as EngineVote)}`;
        case 'broadcastProposal':
          return `propose ${m.name(a.proposal.valueId)} r${a.proposal.round} vr${a.proposal.validRound}`;
        case 'scheduleTimeout':
          return `timeout ${timeoutKey(a.kind, a.height, a.round)}`;
        case 'requestValue':
          return `requestValue h${a.height} r${a.round}`;
        case 'decide':
          return `decide ${m.name(a.valueId)} r${a.round}`;
        default:
          return a.type;
      }
    })
    .join('; ');
}

function jsonBig(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return [...v.entries()];
  return v;
}
