/**
 * One simulated validator process: the real TendermintEngine with the driver's durability contract,
 * modelled in memory so a run is deterministic and fast:
 * - every input is appended to the WAL before the engine sees it; own proposals and votes are signed
 *   through the signer guard's rule (consensus/signer-guard.ts) and appended before they are sent;
 * - a crash can happen at any WAL write index: the write may or may not land, the rest of the step is
 *   lost, timers die; a restart builds a fresh engine and replays the WAL of the height in progress;
 * - decided heights are durable (the block store) and a decision ends the WAL's height.
 * Byzantine behaviours wrap the same node (see byzantine.ts).
 */
import { type ProposerFn, TendermintEngine } from '../engine/engine.js';
import {
  type Action,
  type EngineEvent,
  type EngineProposal,
  type EngineVote,
  type TimeoutConfig,
  type ValueId,
  VoteType,
  type WeightedValidators,
} from '../engine/types.js';
import { checkSignRequest, type Hrs } from '../signer-guard.js';
import { type SimMessage, signBytesOf } from './messages.js';

export type Behaviour = 'honest' | 'silent' | 'equivocatingProposer' | 'doubleVoter' | 'twin';

export interface SimNodeHost {
  now(): number;
  /** Runs `fn` after `ms` of this node's clock (skew applied by the host). */
  schedule(node: SimNode, ms: number, fn: () => void): void;
  /** Send to every other validator process (the host applies the network's faults). */
  broadcast(from: SimNode, msg: SimMessage, to?: (peer: number) => boolean): void;
  /** The sim's "ledger": whether a value is a valid block. */
  isValid(value: ValueId): boolean;
  /** The block this node would propose at (height, round). */
  valueFor(node: SimNode, height: number, round: number, variant?: number): ValueId;
  /** An own message has left the process (for the double-sign checker). */
  onSent(node: SimNode, msg: SimMessage): void;
  onDecide(node: SimNode, height: number, round: number, value: ValueId): void;
  onEvidence(node: SimNode, first: EngineVote, second: EngineVote): void;
}

type WalRecord = { kind: 'input'; event: EngineEvent } | { kind: 'ownValue'; height: number; round: number };

class Crash extends Error {}

const STEP = { proposal: 1, prevote: 2, precommit: 3 } as const;

export interface SimNodeOptions {
  /** Process name, unique (twins share `index` but not `name`). */
  name: string;
  index: number;
  behaviour: Behaviour;
  validators: WeightedValidators;
  proposer: ProposerFn;
  timeouts: Partial<TimeoutConfig>;
  host: SimNodeHost;
  /** Peers (validator indices) this node equivocates towards (the "A" half). */
  splitPeers?: ReadonlySet<number>;
}

export class SimNode {
  readonly name: string;
  readonly index: number;
  readonly behaviour: Behaviour;
  readonly #o: SimNodeOptions;
  #engine!: TendermintEngine;
  /** Durable: the WAL of the height in progress, the guard's last signed step, decided heights. */
  #wal: WalRecord[] = [];
  /** The guard's durable last signed step; `msg` is what its sign bytes decode to. */
  #guard: (Hrs & { signBytes: Uint8Array; msg: SimMessage }) | null = null;
  #decided = new Map<number, { proposal: EngineProposal; commit: EngineVote[] }>();
  #height = 1;
  /** Volatile. */
  #up = true;
  #incarnation = 0;
  #replaying = false;
  #writes = 0;
  #crashAtWrite = -1;
  #crashLandsWrite = false;
  #onCrash: (() => void) | null = null;
  #ownSent: SimMessage[] = [];
  #future: { from: number; msg: SimMessage }[] = [];
  #proposals = new Map<string, EngineProposal>();
  /** Own signed messages of this height by step slot (rebuilt from the WAL, like the driver's). */
  #own = new Map<string, SimMessage>();
  /** Validator index -> last height it reported (status gossip). */
  readonly peerHeights = new Map<number, number>();
  /** Validator index -> its last reported (height, round). */
  readonly peerRounds = new Map<number, { height: number; round: number }>();

  constructor(o: SimNodeOptions) {
    this.name = o.name;
    this.index = o.index;
    this.behaviour = o.behaviour;
    this.#o = o;
  }

  get height(): number {
    return this.#height;
  }

  get up(): boolean {
    return this.#up;
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  get roundState() {
    return this.#engine.roundState;
  }

  get walWrites(): number {
    return this.#writes;
  }

  start(): void {
    this.#guarded(() => this.#startEngine());
  }

  /** Arm a crash at the node's `writeIndex`-th WAL write (counted from now); `lands`: the write reaches disk. */
  armCrash(writeIndex: number, lands: boolean, onCrash: () => void): void {
    this.#crashAtWrite = this.#writes + writeIndex;
    this.#crashLandsWrite = lands;
    this.#onCrash = onCrash;
  }

  /** Crash now (between steps): volatile state is lost. */
  crash(): void {
    if (!this.#up) return;
    this.#up = false;
    this.#incarnation++;
    this.#crashAtWrite = -1;
    this.#ownSent = [];
    this.#future = [];
    this.#proposals.clear();
    const cb = this.#onCrash;
    this.#onCrash = null;
    cb?.();
  }

  /** Restart from durable state: a fresh engine replays the WAL of the height in progress. */
  restart(): void {
    if (this.#up) return;
    this.#up = true;
    this.#guarded(() => this.#startEngine());
  }

  receive(from: number, msg: SimMessage): void {
    if (!this.#up) return;
    this.#guarded(() => this.#receive(from, msg));
  }

  /** Periodic gossip: re-send own messages of this height, report the height, help peers behind. */
  gossipTick(): void {
    if (!this.#up || this.behaviour === 'silent') return;
    this.#guarded(() => {
      const h = this.#o.host;
      const rs = this.#engine.roundState;
      h.broadcast(this, { kind: 'status', height: this.#height, round: rs.round });
      for (const m of this.#ownSent) h.broadcast(this, m);
      // Relay the votes held for a peer's round at this height (CometBFT's gossipVotesForHeight).
      for (const [peer, st] of this.peerRounds) {
        if (st.height !== this.#height) continue;
        for (const vote of this.#engine.votes?.heldVotes(st.round) ?? [])
          if (vote.validator !== peer) h.broadcast(this, { kind: 'vote', vote }, (p) => p === peer);
      }
      if (rs.validRound >= 0 && rs.validValue !== null) {
        const votes = this.#engine.votes?.votesFor(rs.validRound, VoteType.Prevote, rs.validValue) ?? [];
        if (votes.length > 0) h.broadcast(this, { kind: 'certificate', votes });
      }
      for (const [peer, peerHeight] of this.peerHeights) {
        const cert = this.#decided.get(peerHeight);
        if (peerHeight < this.#height && cert !== undefined)
          h.broadcast(this, { kind: 'catchup', height: peerHeight, ...cert }, (p) => p === peer);
      }
    });
  }

  #guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof Crash)) throw err;
      this.crash();
    }
  }

  #startEngine(): void {
    this.#engine = new TendermintEngine({
      proposer: this.#o.proposer,
      config: { timeouts: this.#o.timeouts },
    });
    this.#ownSent = [];
    this.#proposals.clear();
    const records = this.#wal;
    this.#own.clear();
    for (const r of records) {
      if (r.kind !== 'input') continue;
      const e = r.event;
      if (e.type === 'vote' && e.vote.validator === this.index)
        this.#own.set(slotOf(e.vote), { kind: 'vote', vote: e.vote });
      if (e.type === 'proposal' && e.proposal.proposer === this.index)
        this.#own.set(slotOf(e.proposal), { kind: 'proposal', proposal: e.proposal });
    }
    this.#apply({
      type: 'startHeight',
      height: this.#height,
      validators: this.#o.validators,
      self: this.#o.index,
    });
    const height = this.#height;
    this.#replaying = true;
    try {
      for (const r of records) {
        // A decision during replay ends it: the rest belongs to a finished height (the driver drops it too).
        if (this.#height !== height || !this.#replaying) break;
        if (r.kind === 'ownValue') this.#valueReady(r.height, r.round);
        else this.#apply(r.event);
      }
    } finally {
      this.#replaying = false;
    }
    this.#recoverLastSigned(height);
  }

  /**
   * A crash between the guard's write and the WAL's loses the last own message from the WAL; the guard
   * still holds its sign bytes. Re-feeding and re-sending that message (the same signed bytes, so no
   * double sign) keeps the node from being stuck at a step it can no longer sign differently.
   */
  #recoverLastSigned(height: number): void {
    const g = this.#guard;
    if (g === null || g.height !== height || this.#height !== height) return;
    const m = g.msg;
    if (m.kind === 'vote') {
      this.#send(m);
      this.#input({ type: 'vote', vote: m.vote });
    } else if (m.kind === 'proposal') {
      this.#send(m);
      this.#input({ type: 'proposal', proposal: m.proposal, valid: true });
    }
  }

  #receive(from: number, msg: SimMessage): void {
    // As the driver does: a message of the next height waits in a volatile buffer and reaches the WAL
    // only when that height starts (the WAL holds the inputs of the height in progress, no others).
    const h = heightOf(msg);
    if (h !== null && h !== this.#height) {
      if (h === this.#height + 1 && this.#future.length < MAX_FUTURE) this.#future.push({ from, msg });
      return;
    }
    switch (msg.kind) {
      case 'status':
        this.peerHeights.set(from, Math.max(this.peerHeights.get(from) ?? 0, msg.height));
        this.peerRounds.set(from, { height: msg.height, round: msg.round });
        return;
      case 'proposal':
        if (msg.proposal.proposer !== from) return; // the network authenticates senders
        this.#input({
          type: 'proposal',
          proposal: msg.proposal,
          valid: this.#o.host.isValid(msg.proposal.valueId),
        });
        return;
      case 'vote':
        // Relayed votes carry their signer's index; a real node checks the signature, the sim trusts
        // the index (Byzantine processes never forge other validators' votes).
        this.#input({ type: 'vote', vote: msg.vote });
        return;
      case 'certificate':
        if (msg.votes[0]?.height === this.#height) this.#input({ type: 'certificate', votes: msg.votes });
        return;
      case 'catchup': {
        if (msg.height !== this.#height) return;
        this.#input({
          type: 'proposal',
          proposal: msg.proposal,
          valid: this.#o.host.isValid(msg.proposal.valueId),
        });
        // As one certificate: each signer counts for the committed value even where this node holds a
        // conflicting first vote from it (a Byzantine double voter), as CometBFT does for a +2/3 commit.
        if (this.#height === msg.height) this.#input({ type: 'certificate', votes: msg.commit });
        return;
      }
    }
  }

  /** An input from outside: WAL first, then the engine. */
  #input(event: EngineEvent): void {
    if (!this.#replaying) this.#walAppend({ kind: 'input', event });
    this.#apply(event);
  }

  #apply(event: EngineEvent): void {
    if (event.type === 'proposal' && event.proposal.height === this.#height)
      this.#keepProposal(event.proposal);
    this.#process(this.#engine.handle(event));
  }

  #process(actions: Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'scheduleTimeout': {
          const inc = this.#incarnation;
          this.#o.host.schedule(this, a.durationMs, () => {
            if (this.#incarnation !== inc || !this.#up) return;
            if (this.#height !== a.height) return;
            this.#guarded(() =>
              this.#input({ type: 'timeout', kind: a.kind, height: a.height, round: a.round }),
            );
          });
          break;
        }
        case 'requestValue':
          if (!this.#replaying) this.#walAppend({ kind: 'ownValue', height: a.height, round: a.round });
          this.#valueReady(a.height, a.round);
          break;
        case 'broadcastProposal':
          this.#sendProposal(a.proposal);
          break;
        case 'broadcastVote':
          this.#sendVote(a.vote);
          break;
        case 'decide':
          this.#decide(a.height, a.round, a.valueId, a.commit);
          return; // the height is over; the next one was started by #decide
        case 'evidence':
          this.#o.host.onEvidence(this, a.first, a.second);
          break;
        case 'roundStarted':
          break;
      }
    }
  }

  #valueReady(height: number, round: number): void {
    if (height !== this.#height) return;
    this.#apply({ type: 'valueReady', height, round, valueId: this.#o.host.valueFor(this, height, round) });
  }

  /** The signer guard's rule on durable state; false = refused (never sent). */
  #sign(hrs: Hrs, bytes: Uint8Array, msg: SimMessage): boolean {
    try {
      if (checkSignRequest(this.#guard, hrs, bytes) === 'sign')
        this.#guard = { ...hrs, signBytes: bytes, msg };
      return true;
    } catch {
      return false;
    }
  }

  #sendProposal(p: EngineProposal): void {
    const signed = { kind: 'proposal', proposal: p } as const;
    if (!this.#signOnce(slotOf(p), signed, { height: p.height, round: p.round, step: STEP.proposal })) return;
    const event: EngineEvent = { type: 'proposal', proposal: p, valid: true };
    if (!this.#replaying) this.#walAppend({ kind: 'input', event });
    const host = this.#o.host;
    if (this.behaviour === 'equivocatingProposer') {
      // Byzantine: a second valid value to the peers outside splitPeers.
      const other: EngineProposal = { ...p, valueId: host.valueFor(this, p.height, p.round, 1) };
      const split = this.#o.splitPeers ?? new Set<number>();
      this.#send({ kind: 'proposal', proposal: p }, (peer) => split.has(peer));
      this.#send({ kind: 'proposal', proposal: other }, (peer) => !split.has(peer));
    } else {
      this.#send({ kind: 'proposal', proposal: p });
    }
    this.#apply(event);
  }

  /** Sign `msg` unless this slot already holds an own message: then only the identical one goes out. */
  #signOnce(slot: string, msg: SimMessage, hrs: Hrs): boolean {
    const bytes = signBytesOf(
      msg.kind === 'vote' ? msg.vote : (msg as { proposal: EngineProposal }).proposal,
    );
    const prior = this.#own.get(slot);
    if (prior !== undefined) {
      const priorBytes = signBytesOf(
        prior.kind === 'vote' ? prior.vote : (prior as { proposal: EngineProposal }).proposal,
      );
      return Buffer.compare(priorBytes, bytes) === 0;
    }
    if (!this.#sign(hrs, bytes, msg)) return false;
    this.#own.set(slot, msg);
    return true;
  }

  #keepProposal(p: EngineProposal): void {
    if (this.#proposals.size < 64)
      this.#proposals.set(`${p.round}/${Buffer.from(p.valueId).toString('hex')}`, p);
  }

  #sendVote(v: EngineVote): void {
    const step = v.type === VoteType.Prevote ? STEP.prevote : STEP.precommit;
    if (!this.#signOnce(slotOf(v), { kind: 'vote', vote: v }, { height: v.height, round: v.round, step }))
      return;
    const event: EngineEvent = { type: 'vote', vote: v };
    if (!this.#replaying) this.#walAppend({ kind: 'input', event });
    if (this.behaviour === 'doubleVoter') {
      // Byzantine: nil where it voted a value, a fresh value where it voted nil, to the other half.
      const other: EngineVote = {
        ...v,
        valueId: v.valueId === null ? this.#o.host.valueFor(this, v.height, v.round, 2) : null,
      };
      const split = this.#o.splitPeers ?? new Set<number>();
      this.#send({ kind: 'vote', vote: v }, (peer) => split.has(peer));
      this.#send({ kind: 'vote', vote: other }, (peer) => !split.has(peer));
    } else {
      this.#send({ kind: 'vote', vote: v });
    }
    this.#apply(event);
  }

  #send(msg: SimMessage, to?: (peer: number) => boolean): void {
    if (this.behaviour === 'silent') return;
    if (to === undefined) this.#ownSent.push(msg);
    this.#o.host.onSent(this, msg);
    this.#o.host.broadcast(this, msg, to);
  }

  #decide(height: number, round: number, value: ValueId, commit: EngineVote[]): void {
    const p = [...this.#proposals.values()].find((x) => x.round === round && sameId(x.valueId, value));
    const proposal = p ?? this.#engineProposal(round, value);
    this.#decided.set(height, { proposal, commit });
    this.#replaying = false;
    this.#o.host.onDecide(this, height, round, value);
    // Durable: block store first, then the WAL's end-of-height marker.
    this.#height = height + 1;
    this.#wal = [];
    this.#own.clear();
    this.#ownSent = [];
    this.#proposals.clear();
    this.#apply({
      type: 'startHeight',
      height: this.#height,
      validators: this.#o.validators,
      self: this.#o.index,
    });
    const future = this.#future;
    this.#future = [];
    for (const f of future) if (this.#height === height + 1) this.#receive(f.from, f.msg);
  }

  /** The proposal the engine decided on (it holds every proposal it accepted). */
  #engineProposal(round: number, value: ValueId): EngineProposal {
    const proposer = this.#o.proposer(this.#height, round);
    return { height: this.#height, round, validRound: -1, valueId: value, proposer };
  }

  #walAppend(r: WalRecord): void {
    const i = this.#writes++;
    if (i === this.#crashAtWrite) {
      if (this.#crashLandsWrite) this.#wal.push(r);
      throw new Crash();
    }
    this.#wal.push(r);
  }
}

const MAX_FUTURE = 10_000;

function heightOf(msg: SimMessage): number | null {
  switch (msg.kind) {
    case 'proposal':
      return msg.proposal.height;
    case 'vote':
      return msg.vote.height;
    case 'certificate':
      return msg.votes[0]?.height ?? null;
    case 'catchup':
      return msg.height;
    case 'status':
      return null;
  }
}

function slotOf(m: EngineVote | EngineProposal): string {
  return 'type' in m ? `${m.height}/${m.round}/${m.type}` : `${m.height}/${m.round}/p`;
}

function sameId(a: ValueId, b: ValueId): boolean {
  return Buffer.compare(a, b) === 0;
}
