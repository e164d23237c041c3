/**
 * Replay of the single-component traces at their own level:
 * - `consensus`: the model's round state machine (consensus.qnt) against consensus/engine/round-state.ts;
 * - `votekeeper`: the model's vote keeper (votekeeper.qnt) against consensus/engine/vote-keeper.ts.
 */
import {
  applyRoundInput,
  type EngineFaultsForTesting,
  initialRoundState,
  type RoundInput,
  type RoundOutput,
  type RoundState,
  VoteKeeper,
  VoteType,
} from '../../consensus/engine/index.js';
import { outputKey } from '../../consensus/engine/vote-keeper.js';
import {
  type Itf,
  type LoadedTrace,
  ModelMap,
  type MValue,
  type MVote,
  mvalueName,
  STEP_OF_MODEL,
  type Tagged,
} from './itf.js';

export interface Divergence {
  scenario: string;
  step: number;
  process: string;
  message: string;
}

export interface UnitReplayResult {
  scenario: string;
  steps: number;
  divergences: Divergence[];
}

// ---------------------------------------------------------------------------------------------------
// consensus (round state machine)
// ---------------------------------------------------------------------------------------------------

interface MConsensusState {
  p: string;
  height: bigint;
  round: bigint;
  step: Tagged;
  lockedRound: bigint;
  lockedValue: MValue;
  validRound: bigint;
  validValue: MValue;
}

/** Values of the `consensus` traces are bare strings; a stable id per string. */
class Values {
  readonly m = new ModelMap(new Map());
}

export function roundStateText(s: RoundState, name: (id: Uint8Array | null) => string): string {
  return `h${s.height} r${s.round} ${s.step} locked(${s.lockedRound},${name(s.lockedValue)}) valid(${s.validRound},${name(s.validValue)})`;
}

export function modelRoundStateText(cs: MConsensusState): string {
  return `h${cs.height} r${cs.round} ${STEP_OF_MODEL[cs.step.tag]} locked(${cs.lockedRound},${mvalueName(cs.lockedValue)}) valid(${cs.validRound},${mvalueName(cs.validValue)})`;
}

export function sameRoundState(s: RoundState, cs: MConsensusState, name: (id: Uint8Array | null) => string) {
  return roundStateText(s, name) === modelRoundStateText(cs);
}

function consensusInput(input: Tagged, v: Values, state: RoundState): RoundInput | null {
  const val = input.value as Itf;
  const id = (x: Itf) => v.m.valueId(x as string);
  const mid = (x: Itf) => v.m.mvalue(x as MValue);
  switch (input.tag) {
    case 'NewRoundCInput':
      return { kind: 'newRound', round: Number(val as bigint), proposer: false };
    case 'NewRoundProposerCInput':
      return { kind: 'newRound', round: Number(val as bigint), proposer: true };
    case 'ProposeValueCInput':
      return { kind: 'proposeValue', value: id(val) };
    case 'ProposalCInput': {
      const [r, value] = val as [bigint, MValue];
      return { kind: 'proposal', round: Number(r), value: mid(value)! };
    }
    case 'ProposalAndPolkaPreviousAndValidCInput': {
      const [value, vr] = val as [MValue, bigint];
      return { kind: 'proposalAndPolkaPrevious', value: mid(value)!, validRound: Number(vr) };
    }
    case 'ProposalInvalidCInput':
      return { kind: 'proposalInvalid' };
    case 'PolkaNilCInput':
      return { kind: 'polkaNil' };
    case 'PolkaAnyCInput':
      return { kind: 'polkaAny' };
    case 'ProposalAndPolkaAndValidCInput':
      return { kind: 'proposalAndPolkaCurrent', value: mid(val)! };
    case 'ProposalAndPolkaAndInvalidCInput':
      return { kind: 'proposalAndPolkaPreviousInvalid', value: mid(val)!, validRound: state.round };
    case 'PrecommitAnyCInput':
      return { kind: 'precommitAny' };
    case 'ProposalAndCommitAndValidCInput': {
      const [r, value] = val as [bigint, string];
      return { kind: 'proposalAndCommit', round: Number(r), value: id(value) };
    }
    case 'RoundSkipCInput':
      return { kind: 'skipRound', round: Number(val as bigint) };
    case 'TimeoutProposeCInput':
    case 'TimeoutPrevoteCInput':
    case 'TimeoutPrecommitCInput': {
      const [h, r] = val as [bigint, bigint];
      const kind =
        input.tag === 'TimeoutProposeCInput'
          ? 'timeoutPropose'
          : input.tag === 'TimeoutPrevoteCInput'
            ? 'timeoutPrevote'
            : 'timeoutPrecommit';
      return { kind, height: Number(h), round: Number(r) };
    }
    default:
      return null;
  }
}

function consensusOutputText(o: RoundOutput, v: Values): string {
  const n = (x: Uint8Array | null) => v.m.name(x);
  switch (o.kind) {
    case 'none':
      return 'NoConsensusOutput';
    case 'proposal':
      return `ProposalOutput(h${o.height},r${o.round},${n(o.value)},vr${o.validRound})`;
    case 'getValue':
      return `GetValueAndScheduleTimeoutOutput(h${o.height},r${o.round},ProposeTimeout)`;
    case 'vote':
      return `VoteOutput(${o.type === VoteType.Prevote ? 'Prevote' : 'Precommit'},h${o.height},r${o.round},${n(o.value)})`;
    case 'timeout':
      return `TimeoutOutput(r${o.round},${o.timeout === 'propose' ? 'Propose' : o.timeout === 'prevote' ? 'Prevote' : 'Precommit'}Timeout)`;
    case 'decided':
      return `DecidedOutput(r${o.round},${n(o.value)})`;
    case 'skipRound':
      return `SkipRoundOutput(r${o.round})`;
    case 'error':
      return 'ErrorOutput';
  }
}

function modelConsensusOutputText(o: Tagged): string {
  const val = o.value as Itf;
  switch (o.tag) {
    case 'NoConsensusOutput':
    case 'ErrorOutput':
      return o.tag;
    case 'ProposalOutput': {
      const p = val as unknown as { height: bigint; round: bigint; proposal: string; validRound: bigint };
      return `ProposalOutput(h${p.height},r${p.round},${p.proposal},vr${p.validRound})`;
    }
    case 'GetValueAndScheduleTimeoutOutput': {
      const [h, r] = val as [bigint, bigint, Tagged];
      return `GetValueAndScheduleTimeoutOutput(h${h},r${r},ProposeTimeout)`;
    }
    case 'VoteOutput': {
      const x = val as unknown as MVote;
      return `VoteOutput(${x.voteType.tag},h${x.height},r${x.round},${mvalueName(x.valueId)})`;
    }
    case 'TimeoutOutput': {
      const [r, t] = val as [bigint, Tagged];
      return `TimeoutOutput(r${r},${t.tag})`;
    }
    case 'DecidedOutput': {
      const [r, v] = val as [bigint, string];
      return `DecidedOutput(r${r},${v})`;
    }
    case 'SkipRoundOutput':
      return `SkipRoundOutput(r${val as bigint})`;
    default:
      return o.tag;
  }
}

export function replayConsensusTrace(
  scenario: string,
  trace: LoadedTrace,
  faults: EngineFaultsForTesting = {},
): UnitReplayResult {
  const v = new Values();
  const divergences: Divergence[] = [];
  const first = trace.states[0].state as unknown as MConsensusState;
  let state = initialRoundState(Number(first.height));
  let steps = 0;
  for (let i = 1; i < trace.states.length; i++) {
    if (trace.raw[i] === trace.raw[i - 1]) continue; // identical consecutive states are no-ops
    const s = trace.states[i];
    const cs = s.state as unknown as MConsensusState;
    const input = consensusInput(s.input as Tagged, v, state);
    const fail = (message: string) => divergences.push({ scenario, step: i, process: cs.p, message });
    if (input === null) {
      fail(`unmapped input ${(s.input as Tagged).tag}`);
      break;
    }
    // A new height (DecideNonProposerAtHeight2): the model starts it from a fresh round state.
    if (BigInt(state.height) !== cs.height) state = initialRoundState(Number(cs.height));
    const res = applyRoundInput(state, input, faults);
    steps++;
    const got = consensusOutputText(res.output, v);
    const want = modelConsensusOutputText(s.output as Tagged);
    if (got !== want) fail(`output: engine ${got}, model ${want}`);
    state = res.state;
    const name = (x: Uint8Array | null) => v.m.name(x);
    if (!sameRoundState(state, cs, name)) {
      fail(`round state: engine ${roundStateText(state, name)}, model ${modelRoundStateText(cs)}`);
    }
    if (divergences.length > 0) break;
  }
  return { scenario, steps, divergences };
}

// ---------------------------------------------------------------------------------------------------
// votekeeper
// ---------------------------------------------------------------------------------------------------

interface MVoteCount {
  totalWeight: bigint;
  valuesWeights: Map<unknown, Itf>;
  votesAddresses: string[];
}
interface MRoundVotes {
  prevotes: MVoteCount;
  precommits: MVoteCount;
  emittedOutputs: Tagged[];
  votesAddressesWeights: Map<unknown, Itf>;
}

function modelVkOutputKey(o: Tagged, m: ModelMap): string | null {
  const val = o.value as Itf;
  const pair = () => val as [bigint, string];
  switch (o.tag) {
    case 'NoVKOutput':
      return null;
    case 'PolkaAnyVKOutput':
      return outputKey({ kind: 'polkaAny', round: Number(val as bigint) });
    case 'PolkaNilVKOutput':
      return outputKey({ kind: 'polkaNil', round: Number(val as bigint) });
    case 'PrecommitAnyVKOutput':
      return outputKey({ kind: 'precommitAny', round: Number(val as bigint) });
    case 'SkipVKOutput':
      return outputKey({ kind: 'skip', round: Number(val as bigint) });
    case 'PolkaValueVKOutput':
      return outputKey({ kind: 'polkaValue', round: Number(pair()[0]), value: m.valueId(pair()[1]) });
    case 'PrecommitValueVKOutput':
      return outputKey({ kind: 'precommitValue', round: Number(pair()[0]), value: m.valueId(pair()[1]) });
    default:
      return `?${o.tag}`;
  }
}

function weightsText(entries: [string, bigint][]): string {
  return entries
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, w]) => `${k}=${w}`)
    .join(',');
}

export function replayVoteKeeperTrace(scenario: string, trace: LoadedTrace): UnitReplayResult {
  const divergences: Divergence[] = [];
  const bk0 = trace.states[0].bookkeeper as { height: bigint; validatorSet: Map<unknown, Itf> };
  const m = new ModelMap(bk0.validatorSet);
  const vk = new VoteKeeper(Number(bk0.height), {
    size: m.names.length,
    totalPower: m.powers.reduce((a, b) => a + b, 0n),
    powerOf: (i) => m.powers[i],
  });
  const valueName = (k: string) => (k === 'nil' ? 'Nil' : m.name(Buffer.from(k, 'hex')));
  let steps = 0;
  for (let i = 1; i < trace.states.length; i++) {
    if (trace.raw[i] === trace.raw[i - 1]) continue;
    const s = trace.states[i];
    const fail = (message: string) => divergences.push({ scenario, step: i, process: 'votekeeper', message });
    const wv = s.weightedVote as Tagged;
    if (wv.tag !== 'WV') {
      fail('no weighted vote');
      break;
    }
    const [mv, weight, currentRound] = wv.value as [MVote, bigint, bigint];
    const vote = m.vote(mv);
    if (weight !== m.powers[vote.validator]) fail(`weight ${weight} differs from the validator set`);
    const res = vk.applyVote(vote, weight, Number(currentRound));
    steps++;
    const got = res.output === null ? null : outputKey(res.output);
    const want = modelVkOutputKey(s.lastEmitted as Tagged, m);
    if (got !== want) fail(`output: engine ${got ?? 'none'}, model ${want ?? 'none'}`);
    // Per-round tallies.
    const rounds = (s.bookkeeper as { rounds: Map<unknown, Itf> }).rounds;
    const modelRounds = [...rounds.keys()].map((r) => Number(r as bigint)).sort((a, b) => a - b);
    if (modelRounds.join(',') !== vk.rounds().join(',')) {
      fail(`rounds: engine ${vk.rounds().join(',')}, model ${modelRounds.join(',')}`);
    }
    for (const [rk, rvItf] of rounds) {
      const r = Number(rk as bigint);
      const rv = rvItf as unknown as MRoundVotes;
      const mine = vk.round(r);
      if (mine === undefined) continue;
      for (const [type, count] of [
        [VoteType.Prevote, rv.prevotes],
        [VoteType.Precommit, rv.precommits],
      ] as const) {
        const c = mine.count(type);
        const modelW = weightsText(
          [...count.valuesWeights.entries()].map(([k, w]) => [mvalueName(k as MValue), w as bigint]),
        );
        const mineW = weightsText([...c.valuePower.entries()].map(([k, w]) => [valueName(k), w]));
        if (modelW !== mineW) fail(`round ${r} ${VoteType[type]} weights: engine ${mineW}, model ${modelW}`);
        const modelA = [...count.votesAddresses].sort().join(',');
        const mineA = [...c.byValidator.keys()]
          .map((x) => m.names[x])
          .sort()
          .join(',');
        if (modelA !== mineA) fail(`round ${r} ${VoteType[type]} voters: engine ${mineA}, model ${modelA}`);
        if (count.totalWeight !== vk.totalPower)
          fail(`total weight ${count.totalWeight} vs ${vk.totalPower}`);
      }
      const modelE = rv.emittedOutputs
        .map((o) => modelVkOutputKey(o, m))
        .sort()
        .join(' ');
      const mineE = [...mine.emitted].sort().join(' ');
      if (modelE !== mineE) fail(`round ${r} emitted: engine ${mineE}, model ${modelE}`);
      const modelAW = weightsText(
        [...rv.votesAddressesWeights.entries()].map(([k, w]) => [String(k), w as bigint]),
      );
      const mineAW = weightsText([...mine.voters.entries()].map(([k, w]) => [m.names[k], w]));
      if (modelAW !== mineAW) fail(`round ${r} voters' weights: engine ${mineAW}, model ${modelAW}`);
    }
    if (divergences.length > 0) break;
  }
  return { scenario, steps, divergences };
}
