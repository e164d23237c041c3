/**
 * Deterministic consensus simulator: N validator processes running the real engine (sim-node.ts) over
 * a seeded network with delays, drops, duplication, reordering, partitions and heal, crashes at a WAL
 * write index with restart, clock skew (timer rates), and Byzantine validators (equivocating proposer,
 * double voter, twins sharing one key, silent). Everything is a function of the config, seed included.
 *
 * What it records for the checkers (agreement.ts, the property tests):
 * - decisions of every process; honest ones are those of validators whose behaviour is 'honest';
 * - every message an honest validator sent (no honest double sign across crashes);
 * - every vote honest processes received (forensics: duplicate votes prove misbehaviour).
 */
import { addressFromPublicKey } from '../../chain/address.js';
import { sha256 } from '../../chain/hash.js';
import { toHex, utf8 } from '../../util/bytes.js';
import type { EngineVote, TimeoutConfig } from '../engine/types.js';
import { createValidatorSet, type ValidatorSet } from '../validator-set.js';
import type { DecisionRecord } from './agreement.js';
import type { SimMessage } from './messages.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';
import { type Behaviour, SimNode, type SimNodeHost } from './sim-node.js';

export interface SimNetworkConfig {
  minDelayMs: number;
  maxDelayMs: number;
  /** Before heal: probability a message is lost. */
  dropRate: number;
  /** Probability a message is delivered twice. */
  dupRate: number;
}

export interface SimPartition {
  fromMs: number;
  /** Groups of process names; processes in different groups cannot talk until healAtMs. */
  groups: string[][];
}

export interface SimCrash {
  /** Process name. */
  node: string;
  /** Crash at the node's n-th WAL write after `afterMs`. */
  afterMs: number;
  atWrite: number;
  /** Whether that write reaches the disk before the crash. */
  lands: boolean;
  downMs: number;
}

export interface AfterHeal {
  heightAtHeal: number;
  /** When and in which round it first decided a height above heightAtHeal (null: never, in the run). */
  nextDecidedAtMs: number | null;
  nextDecidedRound: number | null;
}

export interface SimConfig {
  seed: number;
  /** Voting power per validator, in validator-set order (index = position). */
  powers: bigint[];
  behaviours: Behaviour[];
  /** Run until every honest process decided this height (or maxTimeMs). */
  heights: number;
  network: SimNetworkConfig;
  partitions?: SimPartition[];
  /** From this time on: no partitions, no drops (GST). */
  healAtMs?: number;
  crashes?: SimCrash[];
  /** Max timer-rate deviation per process, e.g. 0.2 = timers run 0.8x..1.2x. */
  skew?: number;
  timeouts?: Partial<TimeoutConfig>;
  gossipMs?: number;
  maxTimeMs?: number;
  maxSteps?: number;
  /** Equivocators send their first version to these validator indices (default: a random half). */
  split?: number[];
}

export interface SimResult {
  /** Decisions per process name (every process, honest or not). */
  decisions: Map<string, DecisionRecord[]>;
  honest: string[];
  /** Validator indices that are honest. */
  honestValidators: number[];
  /** Double signs by honest validators found among the messages they sent. */
  honestDoubleSigns: string[];
  /** Values some process proposed, and those the "ledger" rejects (validity). */
  proposed: ReadonlySet<string>;
  invalid: ReadonlySet<string>;
  /** Validator indices proven faulty by duplicate votes seen by honest processes. */
  evidenceAgainst: number[];
  /** Duplicate-vote evidence the honest engines raised online. */
  engineEvidence: number;
  totalPower: bigint;
  powerOf(index: number): bigint;
  /** Highest round any honest process reached at each height (rounds needed to decide). */
  maxRoundByHeight: Map<number, number>;
  timeMs: number;
  steps: number;
  healAtMs: number;
  /** Per honest process: the height it had at heal, and the time it first decided the height after. */
  afterHeal: Map<string, AfterHeal>;
  /** The processes at the end of the run (for diagnostics). */
  processes: SimNode[];
  /** Highest round any honest process was in at heal. */
  maxRoundAtHeal: number;
}

const DEFAULT_TIMEOUTS: Partial<TimeoutConfig> = {
  propose: 300,
  proposeDelta: 100,
  prevote: 100,
  prevoteDelta: 50,
  precommit: 100,
  precommitDelta: 50,
};

export function validatorSetOf(powers: readonly bigint[]): ValidatorSet {
  return createValidatorSet(
    powers.map((power, i) => {
      const publicKey = sha256(utf8(`sim-validator-${i}`));
      return { address: addressFromPublicKey(publicKey), publicKey, power };
    }),
    1,
  );
}

export function simulate(cfg: SimConfig): SimResult {
  const rng = new Rng(cfg.seed);
  const sched = new Scheduler();
  // The set sorts validators canonically (power descending); behaviours[i] is for set index i.
  const set = validatorSetOf(cfg.powers);
  const proposerMemo = new Map<string, number>();
  const proposer = (h: number, r: number) => {
    const k = `${h}/${r}`;
    let p = proposerMemo.get(k);
    if (p === undefined) {
      p = set.atHeight(h).proposerAt(h, r);
      proposerMemo.set(k, p);
    }
    return p;
  };
  const n = set.size;
  const behaviours = cfg.behaviours;
  const healAt = cfg.healAtMs ?? 0;
  const gossipMs = cfg.gossipMs ?? 200;
  const skew = cfg.skew ?? 0;
  const split = new Set(cfg.split ?? [...Array(n).keys()].filter(() => rng.chance(0.5)));
  const invalid = new Set<string>();
  const proposed = new Set<string>();

  const decisions = new Map<string, DecisionRecord[]>();
  const sentByHonest = new Map<string, string>();
  const honestDoubleSigns: string[] = [];
  const received = new Map<string, Set<string>>();
  let engineEvidence = 0;
  const maxRoundByHeight = new Map<number, number>();
  const rate = new Map<string, number>();
  const nodes: SimNode[] = [];
  const isHonest = (node: SimNode) => node.behaviour === 'honest';

  const connected = (a: string, b: string): boolean => {
    if (sched.now >= healAt) return true;
    let active: SimPartition | undefined;
    for (const p of cfg.partitions ?? []) if (p.fromMs <= sched.now) active = p;
    if (active === undefined) return true;
    const ga = active.groups.findIndex((g) => g.includes(a));
    const gb = active.groups.findIndex((g) => g.includes(b));
    return ga === gb;
  };

  const host: SimNodeHost = {
    now: () => sched.now,
    schedule(node, ms, fn) {
      sched.after(ms * (rate.get(node.name) ?? 1), fn);
    },
    broadcast(from, msg, to) {
      for (const peer of nodes) {
        if (peer.index === from.index) continue; // itself, or its twin
        if (to !== undefined && !to(peer.index)) continue;
        if (!connected(from.name, peer.name)) continue;
        if (sched.now < healAt && rng.chance(cfg.network.dropRate)) continue;
        const copies = rng.chance(cfg.network.dupRate) ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          const delay = rng.int(cfg.network.minDelayMs, cfg.network.maxDelayMs);
          sched.after(delay, () => {
            if (isHonest(peer)) recordReceived(msg);
            peer.receive(from.index, msg);
          });
        }
      }
    },
    isValid: (v) => !invalid.has(toHex(v)),
    valueFor: (node, h, r, variant = 0) => {
      const v = sha256(utf8(`block/${h}/${r}/${node.name}/${variant}`));
      proposed.add(toHex(v));
      // A Byzantine proposer's second version is an invalid block half of the time.
      if (variant === 1 && rng.chance(0.5)) invalid.add(toHex(v));
      return v;
    },
    onSent(node, msg) {
      if (!isHonest(node) || (msg.kind !== 'vote' && msg.kind !== 'proposal')) return;
      const m = msg.kind === 'vote' ? msg.vote : msg.proposal;
      const slot =
        msg.kind === 'vote'
          ? `${node.index}/${m.height}/${m.round}/vote${msg.vote.type}`
          : `${node.index}/${m.height}/${m.round}/proposal`;
      const value = m.valueId === null ? 'nil' : toHex(m.valueId);
      const prev = sentByHonest.get(slot);
      if (prev === undefined) sentByHonest.set(slot, value);
      else if (prev !== value) honestDoubleSigns.push(`${node.name} ${slot}: ${prev} and ${value}`);
    },
    onDecide(node, height, round, value) {
      let log = decisions.get(node.name);
      if (log === undefined) {
        log = [];
        decisions.set(node.name, log);
      }
      log.push({ height, round, value });
      if (isHonest(node)) maxRoundByHeight.set(height, Math.max(maxRoundByHeight.get(height) ?? 0, round));
      const ah = afterHeal.get(node.name);
      if (ah !== undefined && ah.nextDecidedAtMs === null && height > ah.heightAtHeal) {
        ah.nextDecidedAtMs = sched.now;
        ah.nextDecidedRound = round;
      }
    },
    onEvidence(node) {
      if (isHonest(node)) engineEvidence++;
    },
  };

  const recordReceived = (msg: SimMessage) => {
    const votes: EngineVote[] =
      msg.kind === 'vote'
        ? [msg.vote]
        : msg.kind === 'catchup'
          ? msg.commit
          : msg.kind === 'certificate'
            ? msg.votes
            : [];
    for (const v of votes) {
      const k = `${v.validator}/${v.height}/${v.round}/${v.type}`;
      let s = received.get(k);
      if (s === undefined) {
        s = new Set();
        received.set(k, s);
      }
      s.add(v.valueId === null ? 'nil' : toHex(v.valueId));
    }
  };

  for (let i = 0; i < n; i++) {
    const b = behaviours[i] ?? 'honest';
    if (b === 'silent') continue;
    const copies = b === 'twin' ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const name = copies === 2 ? `v${i}${c === 0 ? 'a' : 'b'}` : `v${i}`;
      rate.set(name, 1 + (rng.next() * 2 - 1) * skew);
      nodes.push(
        new SimNode({
          name,
          index: i,
          behaviour: b,
          validators: set,
          proposer,
          timeouts: { ...DEFAULT_TIMEOUTS, ...cfg.timeouts },
          host,
          splitPeers: split,
        }),
      );
    }
  }
  const afterHeal = new Map<string, AfterHeal>();
  let maxRoundAtHeal = 0;
  sched.at(healAt, () => {
    for (const node of nodes) {
      if (!isHonest(node)) continue;
      afterHeal.set(node.name, { heightAtHeal: node.height, nextDecidedAtMs: null, nextDecidedRound: null });
      if (node.up) maxRoundAtHeal = Math.max(maxRoundAtHeal, node.roundState.round);
    }
  });

  for (const c of cfg.crashes ?? []) {
    const node = nodes.find((x) => x.name === c.node);
    if (node === undefined) continue;
    sched.at(c.afterMs, () => {
      if (!node.up) return;
      node.armCrash(c.atWrite, c.lands, () => sched.after(c.downMs, () => node.restart()));
    });
  }
  const tick = (node: SimNode) => {
    node.gossipTick();
    sched.after(gossipMs * (rate.get(node.name) ?? 1), () => tick(node));
  };
  for (const node of nodes) {
    node.start();
    sched.after(rng.int(1, gossipMs), () => tick(node));
  }

  const honestNodes = nodes.filter(isHonest);
  const maxTime = cfg.maxTimeMs ?? 120_000;
  sched.run({
    until: maxTime,
    maxSteps: cfg.maxSteps ?? 2_000_000,
    done: () =>
      sched.now > healAt &&
      honestNodes.every(
        (x) => x.height > cfg.heights && (afterHeal.get(x.name)?.nextDecidedAtMs ?? null) !== null,
      ),
  });

  const evidenceAgainst = new Set<number>();
  for (const [k, values] of received) if (values.size > 1) evidenceAgainst.add(Number(k.split('/')[0]));
  return {
    decisions,
    honest: honestNodes.map((x) => x.name),
    honestValidators: [...Array(n).keys()].filter((i) => (behaviours[i] ?? 'honest') === 'honest'),
    honestDoubleSigns,
    proposed,
    invalid,
    evidenceAgainst: [...evidenceAgainst].sort((a, b) => a - b),
    engineEvidence,
    totalPower: set.totalPower,
    powerOf: (i) => set.powerOf(i),
    maxRoundByHeight,
    timeMs: sched.now,
    steps: sched.steps,
    healAtMs: healAt,
    afterHeal,
    maxRoundAtHeal,
    processes: nodes,
  };
}
