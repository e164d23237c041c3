/**
 * Conformance: replay every trace of the Quint Tendermint model (../shared/conformance/tendermint-itf,
 * see its README.md) against the engine, and check the agreement checker and a broken engine.
 * A divergence is reported as `<scenario> state <index> (<process>): <what differs>`.
 * Deliberate differences are listed in DIFFERENCES.md and asserted exactly below.
 */
import { describe, expect, it } from '@jest/globals';
import type { EngineFaultsForTesting } from '../../consensus/engine/index.js';
import { checkAgreement } from '../../consensus/sim/agreement.js';
import { listTraces, loadTrace, TRACES_DIR, type TraceFile, tracesAvailable } from './itf.js';
import { type DecisionEntry, replaySystemTrace, type SystemReplayResult } from './replay-system.js';
import { type Divergence, replayConsensusTrace, replayVoteKeeperTrace } from './replay-units.js';

const available = tracesAvailable();
// In CI the traces must be there: a missing folder fails the run instead of skipping it.
const required = process.env.CI === 'true';
if (!available.ok)
  process.stdout.write(`conformance: ${required ? 'FAILED' : 'SKIPPED'}: ${available.reason}\n`);
const traces: TraceFile[] = available.ok ? listTraces() : [];
const suite = available.ok ? describe : describe.skip;
if (!available.ok && required) {
  describe('conformance traces', () => {
    it('are present (CI=true)', () => {
      throw new Error(`${available.reason} (set VOS_CONFORMANCE_DIR to the tendermint-itf folder)`);
    });
  });
}

const UNIT_FOLDERS = new Set(['consensus', 'votekeeper']);
const systemTraces = traces.filter((t) => !UNIT_FOLDERS.has(t.folder));

function report(divs: Divergence[]): string[] {
  return divs.map((d) => `${d.scenario} state ${d.step} (${d.process}): ${d.message}`);
}

/**
 * The deliberate differences per scenario (DIFFERENCES.md): certificate broadcasts by count, the
 * others as `<state index>:<process> <detail>`. Anything else, more or less, fails.
 */
const EXPECTED_DIFFERENCES: Record<string, Record<string, number | string[]>> = {
  'decideForPastRound/decidePastTest_0.itf.json.gz': { 'certificate-broadcast': 4 },
  'disagreement/disagreementTest_0.itf.json.gz': { 'certificate-broadcast': 4 },
  'hiddenlock/hiddenTest_0.itf.json.gz': { 'certificate-broadcast': 2 },
  'line26/line26Test_0.itf.json.gz': { 'certificate-broadcast': 1 },
  'line28/Bigline28Test_1.itf.json.gz': { 'certificate-broadcast': 1 },
  'line28/line28Test_0.itf.json.gz': { 'certificate-broadcast': 1 },
  'line32/line32InvalidTest_0.itf.json.gz': { 'certificate-broadcast': 1 },
  'line32/line32LockedTest_1.itf.json.gz': { 'certificate-broadcast': 2 },
  'line42/line42Test_0.itf.json.gz': { 'certificate-broadcast': 1 },
  'multi-round/AllButOneTest_0.itf.json.gz': { 'certificate-broadcast': 2 },
  'multi-round/DecideForFutureRoundPrecommitFirstTest_2.itf.json.gz': { 'certificate-broadcast': 2 },
  'multi-round/DecideFutureRoundTest_1.itf.json.gz': {
    'certificate-broadcast': 2,
    'new-round-recheck': ['127:v4 send Prevote(v4,h0,r1,green)'],
  },
  'multi-round/RoundswitchTest_3.itf.json.gz': { 'certificate-broadcast': 2 },
  'newheightlogic/catchUpToHigherRoundAfterHeightChangeTest_5.itf.json.gz': {
    'certificate-broadcast': 3,
    'post-decision-precommit-timeout': [
      '90:v1 precommit:h0:r0',
      '91:v2 precommit:h0:r0',
      '92:v3 precommit:h0:r0',
      '93:v4 precommit:h0:r0',
    ],
  },
  'newheightlogic/catchUpToHigherRoundTest_4.itf.json.gz': { 'certificate-broadcast': 2 },
  'newheightlogic/everyoneIsFastInRound0Test_1.itf.json.gz': {
    'certificate-broadcast': 2,
    'post-decision-precommit-timeout': [
      '90:v1 precommit:h0:r0',
      '91:v2 precommit:h0:r0',
      '92:v3 precommit:h0:r0',
      '93:v4 precommit:h0:r0',
    ],
  },
  'newheightlogic/fastProcessesDecidesAtHeight0SlowOneCatchesUpTest_0.itf.json.gz': {
    'certificate-broadcast': 2,
    'deferred-start-decision': ['66:v4 r0 a'],
  },
  'newheightlogic/multiHeightRunTest_2.itf.json.gz': {
    'certificate-broadcast': 4,
    'post-decision-precommit-timeout': [
      '90:v1 precommit:h0:r0',
      '91:v2 precommit:h0:r0',
      '92:v3 precommit:h0:r0',
      '93:v4 precommit:h0:r0',
      '187:v1 precommit:h1:r0',
      '188:v2 precommit:h1:r0',
      '189:v3 precommit:h1:r0',
      '190:v4 precommit:h1:r0',
    ],
  },
  'newheightlogic/preloadVotekeeperOnlyTest_6.itf.json.gz': {},
  'newheightlogic/slowProcessAtHeight1Test_3.itf.json.gz': {
    'certificate-broadcast': 4,
    'post-decision-precommit-timeout': [
      '90:v1 precommit:h0:r0',
      '91:v2 precommit:h0:r0',
      '92:v3 precommit:h0:r0',
      '93:v4 precommit:h0:r0',
    ],
    'deferred-start-decision': ['163:v4 r0 b'],
  },
  'state-machine/DecidingRunTest_20.itf.json.gz': {},
  'state-machine/TimeoutRunTest_21.itf.json.gz': {},
  'state-machine/multiRoundTest_12.itf.json.gz': {},
  'state-machine/oneOneRoundTest_11.itf.json.gz': {},
};

function differencesOf(r: SystemReplayResult): Record<string, number | string[]> {
  const out: Record<string, number | string[]> = {};
  for (const d of r.differences) {
    if (d.kind === 'certificate-broadcast') {
      out[d.kind] = ((out[d.kind] as number | undefined) ?? 0) + 1;
    } else {
      const list = (out[d.kind] as string[] | undefined) ?? [];
      list.push(`${d.step}:${d.process} ${d.detail}`);
      out[d.kind] = list;
    }
  }
  return out;
}

const systemResults = new Map<string, SystemReplayResult>();
function replaySystem(t: TraceFile, faults?: EngineFaultsForTesting): SystemReplayResult {
  if (faults !== undefined) return replaySystemTrace(t.name, loadTrace(t.full), faults);
  let r = systemResults.get(t.name);
  if (r === undefined) {
    r = replaySystemTrace(t.name, loadTrace(t.full));
    systemResults.set(t.name, r);
  }
  return r;
}

/** Divergences of one trace under `faults` (any level). */
function divergencesWith(t: TraceFile, faults: EngineFaultsForTesting): Divergence[] {
  if (t.folder === 'votekeeper') return [];
  if (t.folder === 'consensus') return replayConsensusTrace(t.name, loadTrace(t.full), faults).divergences;
  return replaySystem(t, faults).divergences;
}

suite(`Tendermint conformance: Quint model traces (${TRACES_DIR})`, () => {
  it('has every trace of INVENTORY.tsv, in every folder', () => {
    expect(traces.length).toBe(36);
    expect(new Set(traces.map((t) => t.folder)).size).toBe(12);
    expect(Object.keys(EXPECTED_DIFFERENCES).sort()).toEqual(systemTraces.map((t) => t.name).sort());
  });

  describe('consensus: the round state machine (round-state.ts)', () => {
    for (const t of traces.filter((x) => x.folder === 'consensus')) {
      it(t.file, () => {
        const r = replayConsensusTrace(t.name, loadTrace(t.full));
        expect(report(r.divergences)).toEqual([]);
        expect(r.steps).toBeGreaterThan(0);
      });
    }
  });

  describe('votekeeper: vote counting (vote-keeper.ts)', () => {
    for (const t of traces.filter((x) => x.folder === 'votekeeper')) {
      it(t.file, () => {
        const r = replayVoteKeeperTrace(t.name, loadTrace(t.full));
        expect(report(r.divergences)).toEqual([]);
        expect(r.steps).toBeGreaterThan(0);
      });
    }
  });

  describe('whole engine, one per correct process (engine.ts)', () => {
    for (const t of systemTraces) {
      it(t.name, () => {
        const r = replaySystem(t);
        expect(report(r.divergences)).toEqual([]);
        expect(differencesOf(r)).toEqual(EXPECTED_DIFFERENCES[t.name]);
        expect(r.unresolvedDeferred).toEqual([]);
        expect(r.matchedOutputs).toBeGreaterThan(0);
        expect(r.stateChecks).toBeGreaterThan(0);
        // The engine decided what the model decided (correct processes).
        for (const [p, mine] of r.decisions) {
          const model = r.modelDecisions.get(p)!;
          expect(mine.slice(0, model.length)).toEqual(model);
        }
      });
    }
  });

  it('disagreement (2 of 4 faulty): the agreement checker reports the violation', () => {
    const t = systemTraces.find((x) => x.folder === 'disagreement')!;
    const r = replaySystem(t);
    expect(report(r.divergences)).toEqual([]);
    const asLogs = (m: Map<string, DecisionEntry[]>) =>
      new Map(
        [...m].map(([p, ds]) => [p, ds.map((d) => ({ height: d.height, value: d.value, round: d.round }))]),
      );
    const expected = [
      {
        kind: 'disagreement',
        height: 0,
        a: { node: 'v3', value: 'b' },
        b: { node: 'v4', value: 'a' },
        sides: { b: ['v3'], a: ['v4'] },
      },
    ];
    // the engines' decisions, and the model's own logs, both break agreement
    expect(checkAgreement(asLogs(r.decisions))).toEqual(expected);
    expect(checkAgreement(asLogs(r.modelDecisions))).toEqual(expected);
    // and no other scenario does
    for (const other of systemTraces.filter((x) => x !== t)) {
      expect([other.name, checkAgreement(asLogs(replaySystem(other).decisions))]).toEqual([other.name, []]);
    }
  });

  describe('negative control: a deliberately broken engine fails traces', () => {
    const cases: [string, EngineFaultsForTesting][] = [
      ['lock ignored when prevoting (lines 23, 29)', { ignoreLockOnPrevote: true }],
      ['valid value not updated (lines 42-43)', { skipValidValueUpdate: true }],
    ];
    for (const [what, faults] of cases) {
      it(what, () => {
        const failing = traces.filter((t) => divergencesWith(t, faults).length > 0).map((t) => t.name);
        process.stdout.write(`conformance negative control "${what}": ${failing.length} traces fail\n`);
        expect(failing.length).toBeGreaterThanOrEqual(1);
      });
    }
    it('the lock rule is caught by the line-26 and line-32 scenarios, with scenario and state in the report', () => {
      const t = systemTraces.find((x) => x.name === 'line32/line32LockedTest_1.itf.json.gz')!;
      const divs = report(divergencesWith(t, { ignoreLockOnPrevote: true }));
      expect(divs[0]).toBe(
        'line32/line32LockedTest_1.itf.json.gz state 71 (v4): model sends Prevote(v4,h0,r1,Nil); engine did not (send Prevote(v4,h0,r1,red))',
      );
    });
  });
});
