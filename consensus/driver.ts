/**
 * The consensus driver: the one input loop around the pure engine. It checks signatures and block
 * validity, writes every input to the WAL before the engine sees it, signs through the signer guard
 * (own messages hit the disk before they leave), runs timers, and commits decided blocks. It knows no
 * networking: peers' messages come in through onProposal/onVote and leave through the transport.
 *
 * Cheap checks first: height and round window, proposer(h, r), duplicates and per-slot bounds come
 * before the signature, the signature before execution, and all of them before the WAL, so a peer
 * replaying a proposal (up to a whole block) or votes costs a map lookup, not an execution and a WAL
 * write. Every per-height map is bounded by the round window.
 */
import type { Address } from '../chain/address.js';
import type { Block } from '../chain/block.js';
import { Commit, CommitFlag, type CommitSig } from '../chain/commit.js';
import { DuplicateVoteEvidence, type Evidence } from '../chain/evidence.js';
import type { PrivateKey } from '../chain/keys.js';
import { Proposal, proposalSignBytes } from '../chain/proposal.js';
import { sortValidators, type ValidatorInfo } from '../chain/validators.js';
import { Vote, type VoteData, VoteType, voteFromSignBytes, voteSignBytes } from '../chain/vote.js';
import { equalBytes, toHex } from '../util/bytes.js';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type {
  Action,
  EngineEvent,
  EngineProposal,
  EngineVote,
  RoundState,
  TimeoutKind,
  ValueId,
  WeightedValidators,
} from './engine/types.js';
import { DEFAULT_MAX_FUTURE_ROUNDS, MAX_PROPOSALS_PER_ROUND, valueKey } from './engine/types.js';
import { compareHrs } from './signer-guard.js';
import { decodeWalRecord, encodeWalRecord, type WalRecord } from './wal-records.js';

/** What the driver needs of the pure engine (consensus/engine). */
export interface EngineLike {
  handle(event: EngineEvent): Action[];
  readonly roundState: RoundState;
}

/** What the driver needs of the ledger + mempool (the node wires them). */
export interface ConsensusApp {
  readonly chainId: string;
  headHeight(): number;
  headTime(): number;
  validatorsAt(height: number): Promise<ValidatorInfo[]>;
  /** Build a block for `height` proposed by `proposer` (executes it; the app keeps the result). */
  buildBlock(height: number, proposer: Address): Promise<Block>;
  /** valid(v): the block extends the head and executes to the roots its header claims. */
  validateBlock(block: Block): Promise<boolean>;
  /** Persist a decided block with its commit (atomic). */
  commitBlock(block: Block, commit: Commit): Promise<void>;
  hasPendingTxs(): boolean;
  /** Block sync: verify `commit` for `block` (2/3+ of the power of its height), execute and persist. */
  commitSynced?(block: Block, commit: Commit): Promise<void>;
  /** Evidence detected here or gossiped: true when it is valid and new (then it is gossiped on). */
  addEvidence?(ev: Evidence): Promise<boolean>;
  /** Make every committed block durable; called before each signature. */
  ensureDurable?(): Promise<void>;
}

export interface ConsensusTransport {
  broadcastProposal(proposal: Proposal, block: Block): void;
  broadcastVote(vote: Vote): void;
  broadcastEvidence?(ev: Evidence): void;
}

export interface ConsensusWal {
  append(record: Uint8Array, opts: { sync: boolean }): Promise<void>;
  endHeight(height: number): Promise<void>;
  /** Records written since the last endHeight marker (the inputs of the height in progress). */
  recordsOfCurrentHeight(): Promise<Uint8Array[]>;
}

export interface SignGuard {
  /** The last signed step with its bytes and signature (persisted), for crash recovery. */
  readonly lastSigned?: {
    height: number;
    round: number;
    step: number;
    signBytes: Uint8Array;
    signature: Uint8Array;
  } | null;
  sign(
    hrs: { height: number; round: number; step: number },
    signBytes: Uint8Array,
    signFn: (b: Uint8Array) => Uint8Array,
  ): Promise<Uint8Array>;
}

export interface Ticker {
  schedule(ms: number, fn: () => void): () => void;
}

export const realTicker: Ticker = {
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

export interface DriverConfig {
  /** Without waiting txs, a proposer waits this long after the last block before proposing an empty one. */
  emptyBlockIntervalMs: number;
  /** Votes of the next height buffered until it starts. */
  maxBufferedFutureMessages: number;
  /** Rounds ahead of the current one that are accepted (the engine's maxFutureRounds). */
  maxFutureRounds?: number;
}

/** Proposals of the next height buffered until it starts (each may carry a whole block). */
const MAX_BUFFERED_FUTURE_PROPOSALS = 8;
/** Distinct votes kept per (validator, round, type): the first and one conflicting one (evidence). */
const MAX_VOTES_PER_SLOT = 2;

export interface DriverMetrics {
  onCommit(height: number, txs: number, round: number): void;
  onRound(height: number, round: number): void;
}

export interface DriverDeps {
  app: ConsensusApp;
  /** null: a full node that follows but does not vote. */
  key: PrivateKey | null;
  createEngine: () => EngineLike;
  /** proposer index of (height, round) for a canonical (sorted) validator list. */
  proposerOf: (validators: readonly ValidatorInfo[], height: number, round: number) => number;
  transport: ConsensusTransport;
  wal: ConsensusWal;
  guard: SignGuard;
  ticker?: Ticker;
  now?: () => number;
  config: DriverConfig;
  logger?: Logger;
  metrics?: DriverMetrics | null;
}

const STEP_PROPOSE = 1;
const STEP_PREVOTE = 2;
const STEP_PRECOMMIT = 3;

type Input =
  | { kind: 'proposal'; proposal: Proposal; block: Block; replay: boolean }
  | { kind: 'vote'; vote: Vote; replay: boolean }
  | { kind: 'timeout'; timeout: TimeoutKind; height: number; round: number; replay: boolean }
  | { kind: 'buildValue'; height: number; round: number };

export class ConsensusError extends VosError<{ code: 'INVALID_CONSENSUS_MESSAGE'; reason: string }> {
  constructor(reason: string, action: PeerAction = PeerAction.Reject) {
    super({ code: 'INVALID_CONSENSUS_MESSAGE', reason }, `invalid consensus message: ${reason}`, {
      peerAction: action,
    });
  }
}

class Powers implements WeightedValidators {
  readonly size: number;
  readonly totalPower: bigint;
  constructor(private readonly list: readonly ValidatorInfo[]) {
    this.size = list.length;
    this.totalPower = list.reduce((s, v) => s + v.power, 0n);
  }
  powerOf(i: number): bigint {
    return this.list[i]?.power ?? 0n;
  }
}

export class ConsensusDriver {
  readonly #d: DriverDeps;
  readonly #ticker: Ticker;
  readonly #now: () => number;
  #engine!: EngineLike;
  #height = 0;
  #vals: ValidatorInfo[] = [];
  #self: number | null = null;
  #blocks = new Map<string, Block>();
  #validity = new Map<string, boolean>();
  #ownVotes = new Map<string, Vote>();
  #ownProposals = new Map<string, { proposal: Proposal; block: Block }>();
  #ownValues = new Map<string, Block>();
  #pendingDecision: { round: number; valueId: ValueId; votes: EngineVote[] } | null = null;
  #future: Input[] = [];
  #timers = new Set<() => void>();
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;
  #replaying = false;
  #waitingValue: { height: number; round: number } | null = null;
  #lastCommitAt = 0;
  /** Proposals handled at this height, by round: ids (round, value, polRound, signature). */
  #seenProposals = new Map<number, Set<string>>();
  /** Votes handled at this height, by `round/type/validator index`: their signatures. */
  #seenVotes = new Map<string, Set<string>>();
  #futureProposals = 0;

  constructor(deps: DriverDeps) {
    this.#d = deps;
    this.#ticker = deps.ticker ?? realTicker;
    this.#now = deps.now ?? Date.now;
  }

  get height(): number {
    return this.#height;
  }

  get roundState(): RoundState | null {
    return this.#engine?.roundState ?? null;
  }

  /**
   * Start at head + 1, replaying the WAL of the height in progress (crash recovery). The WAL and the
   * signer guard can be ahead of the chain DB (its last writes lost): WAL records of another height
   * are skipped, heights below the guard's are followed without signing, and signing resumes once
   * block sync brings the chain to the guard's height.
   */
  async start(): Promise<void> {
    this.#lastCommitAt = this.#now();
    await this.#enqueue(async () => {
      const height = this.#d.app.headHeight() + 1;
      await this.#startHeight(height, false);
      const all = (await this.#d.wal.recordsOfCurrentHeight()).map(decodeWalRecord);
      const records = all.filter((r) => walRecordHeight(r) === height);
      if (records.length < all.length)
        this.#d.logger?.warn(
          { height, skipped: all.length - records.length },
          'the WAL holds inputs of another height than the chain (the chain DB lost writes?); skipped',
        );
      const guard = this.#d.guard.lastSigned;
      if (guard && guard.height > height)
        this.#d.logger?.warn(
          { height, signedUpTo: guard.height },
          'the signer guard is ahead of the chain DB: following without signing until block sync reaches its height',
        );
      this.#indexOwn(records);
      this.#replaying = true;
      try {
        for (const r of records) await this.#handle(this.#fromRecord(r));
      } finally {
        this.#replaying = false;
      }
      await this.#recoverLastSignedVote();
    });
  }

  /**
   * A crash after the signer guard persisted a vote but before the WAL did loses that vote from the
   * WAL. Re-signing is refused (the time in the sign bytes differs), so without this the node could
   * never vote at that step again. The guard holds the exact bytes and signature: rebuild the vote,
   * write it to the WAL, send it and count it - the same signed vote, never a double sign.
   * (A lost own proposal is not recovered: that round's proposer stays silent and the round times out.)
   */
  async #recoverLastSignedVote(): Promise<void> {
    const last = this.#d.guard.lastSigned;
    const me = this.#d.key;
    if (!last || me === null || last.height !== this.#height || last.step === STEP_PROPOSE) return;
    const vote = voteFromSignBytes(last.signBytes, last.signature, this.#d.app.chainId);
    if (vote === null || !vote.validator.equals(me.address) || this.#ownVotes.has(voteSlot(vote))) return;
    if (this.#self === null) return;
    this.#d.logger?.warn(
      { height: vote.height, round: vote.round, type: vote.type },
      'recovered own vote from the signer guard',
    );
    this.#ownVotes.set(voteSlot(vote), vote);
    this.#markOwnVote(vote);
    await this.#wal({ kind: 'vote', vote }, true);
    this.#d.transport.broadcastVote(vote);
    await this.#process(this.#engine.handle({ type: 'vote', vote: toEngineVote(vote, this.#self) }));
  }

  /**
   * A block the network decided and this node missed, with its commit (block sync). Applied only if it
   * is the block of the height in progress; the app verifies the commit. The height's consensus state
   * (and WAL) is dropped and the next height starts. Resolves true when applied.
   */
  applySyncedBlock(block: Block, commit: Commit): Promise<boolean> {
    let applied = false;
    return this.#enqueue(async () => {
      const commitSynced = this.#d.app.commitSynced;
      if (commitSynced === undefined || block.height !== this.#height) return;
      await commitSynced.call(this.#d.app, block, commit);
      // PERF: the marker is not awaited (the WAL serialises its writes, so it still precedes anything
      // logged for the next height); a synced height has nothing of ours in the WAL to protect.
      const h = this.#height;
      this.#d.wal
        .endHeight(h)
        .catch((err) => this.#d.logger?.warn({ err, height: h }, 'WAL end-height marker failed'));
      this.#lastCommitAt = this.#now();
      this.#d.metrics?.onCommit(this.#height, block.txs.length, commit.round);
      this.#ownValues.clear();
      this.#ownProposals.clear();
      applied = true;
      await this.#startHeight(this.#height + 1);
    }).then(() => applied);
  }

  /** Evidence from a peer: pooled if valid and new, then gossiped on. */
  onEvidence(ev: Evidence): Promise<void> {
    return this.#enqueue(async () => {
      if (await this.#d.app.addEvidence?.(ev)) this.#d.transport.broadcastEvidence?.(ev);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    await this.#queue.catch(() => undefined);
  }

  /** A proposal (with its block) from a peer. Resolves when handled; rejects with ConsensusError if invalid. */
  onProposal(proposal: Proposal, block: Block): Promise<void> {
    return this.#enqueue(() => this.#handle({ kind: 'proposal', proposal, block, replay: false }));
  }

  onVote(vote: Vote): Promise<void> {
    return this.#enqueue(() => this.#handle({ kind: 'vote', vote, replay: false }));
  }

  /** Resolves when every input queued so far has been handled (simulator, tests). */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** The mempool has txs: a proposer waiting for them builds its block now. */
  notifyTxs(): void {
    const w = this.#waitingValue;
    if (w !== null) void this.#enqueue(() => this.#handle({ kind: 'buildValue', ...w }));
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(() => (this.#stopped ? undefined : task()));
    this.#queue = run.catch((err) => {
      if (!(err instanceof ConsensusError))
        this.#d.logger?.error({ err: String(err?.stack ?? err) }, 'consensus input failed');
    });
    return run;
  }

  #indexOwn(records: WalRecord[]): void {
    const me = this.#d.key?.address;
    if (me === undefined) return;
    for (const r of records) {
      if (r.kind === 'vote' && r.vote.validator.equals(me)) this.#ownVotes.set(voteSlot(r.vote), r.vote);
      if (r.kind === 'proposal' && r.proposal.proposer.equals(me)) {
        this.#ownProposals.set(`${r.proposal.height}/${r.proposal.round}`, {
          proposal: r.proposal,
          block: r.block,
        });
      }
      if (r.kind === 'ownValue') this.#ownValues.set(`${r.height}/${r.round}`, r.block);
    }
  }

  #fromRecord(r: WalRecord): Input {
    switch (r.kind) {
      case 'proposal':
        return { kind: 'proposal', proposal: r.proposal, block: r.block, replay: true };
      case 'vote':
        return { kind: 'vote', vote: r.vote, replay: true };
      case 'timeout':
        return { kind: 'timeout', timeout: r.timeout, height: r.height, round: r.round, replay: true };
      case 'ownValue':
        return { kind: 'buildValue', height: r.height, round: r.round };
    }
  }

  async #startHeight(height: number, recover = true): Promise<void> {
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    this.#height = height;
    this.#vals = sortValidators(await this.#d.app.validatorsAt(height));
    const me = this.#d.key?.address;
    const idx = me === undefined ? -1 : this.#vals.findIndex((v) => v.address.equals(me));
    this.#self = idx === -1 ? null : idx;
    this.#blocks.clear();
    this.#validity.clear();
    this.#seenProposals.clear();
    this.#seenVotes.clear();
    this.#futureProposals = 0;
    this.#pendingDecision = null;
    this.#waitingValue = null;
    for (const k of [...this.#ownVotes.keys()])
      if (Number(k.split('/')[0]) < height) this.#ownVotes.delete(k);
    this.#engine = this.#d.createEngine();
    await this.#process(
      this.#engine.handle({
        type: 'startHeight',
        height,
        validators: new Powers(this.#vals),
        self: this.#self,
      }),
    );
    const future = this.#future;
    this.#future = [];
    for (const input of future) await this.#handle(input).catch(() => undefined);
    // The guard may hold a vote of this height the WAL lost (a chain DB behind the guard, synced up).
    if (recover) await this.#recoverLastSignedVote();
  }

  async #handle(input: Input): Promise<void> {
    switch (input.kind) {
      case 'proposal':
        return this.#handleProposal(input.proposal, input.block, input.replay);
      case 'vote':
        return this.#handleVote(input.vote, input.replay);
      case 'timeout': {
        if (input.height !== this.#height) return;
        if (!input.replay)
          await this.#wal(
            { kind: 'timeout', timeout: input.timeout, height: input.height, round: input.round },
            false,
          );
        return this.#process(
          this.#engine.handle({
            type: 'timeout',
            kind: input.timeout,
            height: input.height,
            round: input.round,
          }),
        );
      }
      case 'buildValue':
        return this.#buildValue(input.height, input.round);
    }
  }

  #buffer(input: Input): void {
    if (this.#future.length >= this.#d.config.maxBufferedFutureMessages)
      throw new ConsensusError('too many future messages', PeerAction.Ignore);
    if (input.kind === 'proposal') {
      if (this.#futureProposals >= MAX_BUFFERED_FUTURE_PROPOSALS)
        throw new ConsensusError('too many proposals for the next height', PeerAction.Ignore);
      this.#futureProposals++;
    }
    this.#future.push(input);
  }

  /** A round this height accepts messages for: not beyond the window ahead of the current round. */
  #inRoundWindow(round: number): boolean {
    const current = Math.max(this.#engine.roundState.round, 0);
    return round <= current + (this.#d.config.maxFutureRounds ?? DEFAULT_MAX_FUTURE_ROUNDS);
  }

  async #handleProposal(p: Proposal, block: Block, replay: boolean): Promise<void> {
    if (p.height < this.#height) return;
    if (p.height > this.#height + 1)
      throw new ConsensusError(`proposal for height ${p.height} is too far ahead`, PeerAction.Ignore);
    if (p.height > this.#height) return this.#buffer({ kind: 'proposal', proposal: p, block, replay });
    // Cheap checks, before the signature, the execution and the WAL.
    if (!this.#inRoundWindow(p.round))
      throw new ConsensusError(`proposal for round ${p.round} is too far ahead`, PeerAction.Ignore);
    if (p.polRound >= p.round) throw new ConsensusError('polRound must be below round');
    const idx = this.#vals.findIndex((v) => v.address.equals(p.proposer));
    if (idx === -1) throw new ConsensusError('proposer is not a validator');
    if (idx !== this.#d.proposerOf(this.#vals, p.height, p.round))
      throw new ConsensusError(`not the proposer of height ${p.height} round ${p.round}`);
    const id = proposalId(p);
    const seen = this.#seenProposals.get(p.round);
    if (seen?.has(id)) return; // a duplicate: handled already
    if ((seen?.size ?? 0) >= MAX_PROPOSALS_PER_ROUND)
      throw new ConsensusError('too many proposals for one round', PeerAction.Ignore);
    if (block.height !== p.height || !equalBytes(block.hash(), p.blockHash))
      throw new ConsensusError('block does not match the proposal');
    if (!this.#builderMayBe(block.header.proposer, p)) {
      throw new ConsensusError(
        p.polRound === -1
          ? 'the block names another proposer than the proposal signer'
          : 'the block names no proposer of the rounds up to its polRound',
      );
    }
    if (!p.verify(this.#d.app.chainId, this.#vals[idx].publicKey))
      throw new ConsensusError('bad proposal signature');
    this.#seenProposalSet(p.round).add(id);
    const key = valueKey(p.blockHash);
    this.#blocks.set(key, block);
    let valid = this.#validity.get(key);
    if (valid === undefined) {
      valid = await this.#d.app.validateBlock(block);
      this.#validity.set(key, valid);
    }
    if (!replay) await this.#wal({ kind: 'proposal', proposal: p, block }, false);
    const ep: EngineProposal = {
      height: p.height,
      round: p.round,
      validRound: p.polRound,
      valueId: p.blockHash,
      proposer: idx,
    };
    await this.#process(this.#engine.handle({ type: 'proposal', proposal: ep, valid }));
    const pending = this.#pendingDecision;
    if (pending !== null && this.#blocks.has(valueKey(pending.valueId)))
      await this.#commit(pending.round, pending.valueId, pending.votes);
  }

  /**
   * The validator named in a proposed block's header built it: a fresh block (polRound -1) is built
   * by the proposal's signer; a re-proposed one (a polka's value from round polRound) by the proposer
   * of some round up to polRound.
   */
  #builderMayBe(builder: Address, p: Proposal): boolean {
    if (p.polRound === -1) return builder.equals(p.proposer);
    for (let r = 0; r <= p.polRound; r++) {
      if (this.#vals[this.#d.proposerOf(this.#vals, p.height, r)].address.equals(builder)) return true;
    }
    return false;
  }

  async #handleVote(v: Vote, replay: boolean): Promise<void> {
    if (v.height < this.#height) return;
    if (v.height > this.#height + 1)
      throw new ConsensusError(`vote for height ${v.height} is too far ahead`, PeerAction.Ignore);
    if (v.height > this.#height) return this.#buffer({ kind: 'vote', vote: v, replay });
    if (!this.#inRoundWindow(v.round))
      throw new ConsensusError(`vote for round ${v.round} is too far ahead`, PeerAction.Ignore);
    const idx = this.#vals.findIndex((x) => x.address.equals(v.validator));
    if (idx === -1) throw new ConsensusError('vote from a non-validator');
    const slot = `${v.round}/${v.type}/${idx}`;
    const sig = toHex(v.signature);
    const seen = this.#seenVotes.get(slot);
    if (seen?.has(sig)) return; // a duplicate: handled already
    if ((seen?.size ?? 0) >= MAX_VOTES_PER_SLOT)
      throw new ConsensusError('too many votes for one step', PeerAction.Ignore);
    if (!v.verify(this.#d.app.chainId, this.#vals[idx].publicKey))
      throw new ConsensusError('bad vote signature');
    this.#seenVoteSet(slot).add(sig);
    if (!replay) await this.#wal({ kind: 'vote', vote: v }, false);
    await this.#process(this.#engine.handle({ type: 'vote', vote: toEngineVote(v, idx) }));
  }

  #seenProposalSet(round: number): Set<string> {
    let seen = this.#seenProposals.get(round);
    if (seen === undefined) {
      seen = new Set();
      this.#seenProposals.set(round, seen);
    }
    return seen;
  }

  #seenVoteSet(slot: string): Set<string> {
    let seen = this.#seenVotes.get(slot);
    if (seen === undefined) {
      seen = new Set();
      this.#seenVotes.set(slot, seen);
    }
    return seen;
  }

  /** Our own vote, fed to the engine directly: a peer echoing it back is a duplicate. */
  #markOwnVote(v: Vote): void {
    if (this.#self === null || v.height !== this.#height) return;
    this.#seenVoteSet(`${v.round}/${v.type}/${this.#self}`).add(toHex(v.signature));
  }

  async #process(actions: Action[]): Promise<void> {
    for (const a of actions) {
      if (this.#stopped) return;
      switch (a.type) {
        case 'scheduleTimeout': {
          const cancel = this.#ticker.schedule(a.durationMs, () => {
            this.#timers.delete(cancel);
            void this.#enqueue(() =>
              this.#handle({
                kind: 'timeout',
                timeout: a.kind,
                height: a.height,
                round: a.round,
                replay: false,
              }),
            );
          });
          this.#timers.add(cancel);
          break;
        }
        case 'requestValue':
          await this.#requestValue(a.height, a.round);
          break;
        case 'broadcastProposal':
          await this.#signAndSendProposal(a.proposal);
          break;
        case 'broadcastVote':
          await this.#signAndSendVote(a.vote);
          break;
        case 'decide':
          await this.#commit(a.round, a.valueId, a.commit);
          break;
        case 'evidence':
          await this.#reportEvidence(a.first, a.second);
          break;
        case 'roundStarted':
          this.#d.metrics?.onRound(a.height, a.round);
          break;
      }
    }
  }

  /** The engine saw two signed votes of one validator for one step: evidence for the pool and peers. */
  async #reportEvidence(a: EngineVote, b: EngineVote): Promise<void> {
    const chainVote = (v: EngineVote): Vote | null => {
      const val = this.#vals[v.validator];
      if (val === undefined || v.signature === undefined || v.time === undefined) return null;
      const data = {
        type: v.type,
        height: v.height,
        round: v.round,
        blockHash: v.valueId,
        time: v.time,
        validator: val.address,
      };
      return new Vote(data, v.signature);
    };
    const x = chainVote(a);
    const y = chainVote(b);
    if (x === null || y === null) return;
    const ev = new DuplicateVoteEvidence(x, y);
    this.#d.logger?.warn({ height: ev.height, validator: x.validator.toString() }, 'duplicate vote detected');
    if (await this.#d.app.addEvidence?.(ev)) this.#d.transport.broadcastEvidence?.(ev);
  }

  /** getValue() (line 18): build now if txs wait, in later rounds, or once the empty-block interval passed. */
  async #requestValue(height: number, round: number): Promise<void> {
    const own = this.#ownValues.get(`${height}/${round}`);
    if (own !== undefined) return this.#valueReady(height, round, own);
    const wait = this.#lastCommitAt + this.#d.config.emptyBlockIntervalMs - this.#now();
    this.#waitingValue = { height, round };
    if (round > 0 || height === 1 || this.#d.app.hasPendingTxs() || wait <= 0) {
      // Build in an input of its own, not inline: a validator with > 2/3 of the power decides its own
      // block within this call, and inline the next height, and the one after, would all run inside
      // the current input - start() never resolved and the pending frames grew without bound.
      void this.#enqueue(() => this.#handle({ kind: 'buildValue', height, round }));
      return;
    }
    const cancel = this.#ticker.schedule(wait, () => {
      this.#timers.delete(cancel);
      void this.#enqueue(() => this.#handle({ kind: 'buildValue', height, round }));
    });
    this.#timers.add(cancel);
  }

  async #buildValue(height: number, round: number): Promise<void> {
    const w = this.#waitingValue;
    if (height !== this.#height) return;
    if (w !== null && (w.height !== height || w.round !== round)) return;
    if (this.#engine.roundState.round !== round) return;
    this.#waitingValue = null;
    let block = this.#ownValues.get(`${height}/${round}`);
    if (block === undefined) {
      block = await this.#d.app.buildBlock(height, this.#d.key!.address);
      this.#ownValues.set(`${height}/${round}`, block);
      await this.#wal({ kind: 'ownValue', height, round, block }, false);
    }
    await this.#valueReady(height, round, block);
  }

  async #valueReady(height: number, round: number, block: Block): Promise<void> {
    const key = valueKey(block.hash());
    this.#blocks.set(key, block);
    this.#validity.set(key, true);
    await this.#process(this.#engine.handle({ type: 'valueReady', height, round, valueId: block.hash() }));
  }

  async #signAndSendProposal(ep: EngineProposal): Promise<void> {
    const key = this.#d.key!;
    const block = this.#blocks.get(valueKey(ep.valueId));
    if (block === undefined) throw new Error('proposing a block the driver does not hold');
    const slot = `${ep.height}/${ep.round}`;
    let proposal = this.#ownProposals.get(slot)?.proposal;
    if (proposal === undefined || !equalBytes(proposal.blockHash, ep.valueId)) {
      const data = {
        height: ep.height,
        round: ep.round,
        polRound: ep.validRound,
        blockHash: ep.valueId,
        time: this.#now(),
        proposer: key.address,
      };
      const sig = await this.#guardSign(
        ep.height,
        ep.round,
        STEP_PROPOSE,
        proposalSignBytes(data, this.#d.app.chainId),
      );
      if (sig === null) return;
      proposal = new Proposal(data, sig);
      this.#ownProposals.set(slot, { proposal, block });
      await this.#wal({ kind: 'proposal', proposal, block }, true);
    }
    this.#seenProposalSet(ep.round).add(
      `${toHex(proposal.blockHash)}/${proposal.polRound}/${toHex(proposal.signature)}`,
    );
    this.#d.transport.broadcastProposal(proposal, block);
    await this.#process(
      this.#engine.handle({ type: 'proposal', proposal: { ...ep, proposer: this.#self! }, valid: true }),
    );
  }

  async #signAndSendVote(ev: EngineVote): Promise<void> {
    const key = this.#d.key!;
    const data: VoteData = {
      type: ev.type,
      height: ev.height,
      round: ev.round,
      blockHash: ev.valueId,
      time: Math.max(this.#now(), this.#d.app.headTime() + 1),
      validator: key.address,
    };
    let vote = this.#ownVotes.get(voteSlot(data));
    if (vote !== undefined && !sameHash(vote.blockHash, ev.valueId)) {
      this.#d.logger?.error(
        { height: ev.height, round: ev.round },
        'engine asked for a conflicting own vote; refused',
      );
      return;
    }
    if (vote === undefined) {
      const step = ev.type === VoteType.Prevote ? STEP_PREVOTE : STEP_PRECOMMIT;
      const sig = await this.#guardSign(ev.height, ev.round, step, voteSignBytes(data, this.#d.app.chainId));
      if (sig === null) return;
      vote = new Vote(data, sig);
      this.#ownVotes.set(voteSlot(vote), vote);
      await this.#wal({ kind: 'vote', vote }, true);
    }
    this.#markOwnVote(vote);
    this.#d.transport.broadcastVote(vote);
    await this.#process(this.#engine.handle({ type: 'vote', vote: toEngineVote(vote, this.#self!) }));
  }

  async #guardSign(
    height: number,
    round: number,
    step: number,
    bytes: Uint8Array,
  ): Promise<Uint8Array | null> {
    const last = this.#d.guard.lastSigned;
    if (last && compareHrs({ height, round, step }, last) < 0) {
      // Already signed later (the chain DB is behind the guard): follow without signing.
      this.#d.logger?.debug({ height, round, step, signedUpTo: last.height }, 'not signing below the guard');
      return null;
    }
    // Never sign on top of a block that a power loss could take back.
    await this.#d.app.ensureDurable?.();
    try {
      return await this.#d.guard.sign({ height, round, step }, bytes, (b) => this.#d.key!.sign(b));
    } catch (err) {
      this.#d.logger?.error({ height, round, step, err: String(err) }, 'signer guard refused to sign');
      return null;
    }
  }

  async #commit(round: number, valueId: ValueId, votes: EngineVote[]): Promise<void> {
    const block = this.#blocks.get(valueKey(valueId));
    if (block === undefined) {
      this.#pendingDecision = { round, valueId, votes };
      return;
    }
    this.#pendingDecision = null;
    const byIndex = new Map(votes.map((v) => [v.validator, v]));
    const sigs: CommitSig[] = this.#vals.map((_, i) => {
      const v = byIndex.get(i);
      if (
        v === undefined ||
        v.signature === undefined ||
        v.time === undefined ||
        !sameHash(v.valueId, valueId)
      ) {
        return { flag: CommitFlag.Absent, time: 0, signature: new Uint8Array(0) };
      }
      return { flag: CommitFlag.Commit, time: v.time, signature: v.signature };
    });
    const commit = new Commit(this.#height, round, valueId, sigs);
    await this.#d.app.commitBlock(block, commit);
    await this.#d.wal.endHeight(this.#height);
    this.#lastCommitAt = this.#now();
    this.#d.metrics?.onCommit(this.#height, block.txs.length, round);
    this.#ownValues.clear();
    this.#ownProposals.clear();
    await this.#startHeight(this.#height + 1);
  }

  async #wal(record: WalRecord, sync: boolean): Promise<void> {
    if (this.#replaying) return;
    await this.#d.wal.append(encodeWalRecord(record), { sync });
  }
}

function walRecordHeight(r: WalRecord): number {
  switch (r.kind) {
    case 'proposal':
      return r.proposal.height;
    case 'vote':
      return r.vote.height;
    default:
      return r.height;
  }
}

function proposalId(p: Proposal): string {
  return `${toHex(p.blockHash)}/${p.polRound}/${toHex(p.signature)}`;
}

function voteSlot(v: { height: number; round: number; type: VoteType }): string {
  return `${v.height}/${v.round}/${v.type}`;
}

function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : equalBytes(a, b);
}

export function toEngineVote(v: Vote, index: number): EngineVote {
  return {
    type: v.type,
    height: v.height,
    round: v.round,
    validator: index,
    valueId: v.blockHash,
    time: v.time,
    signature: v.signature,
  };
}
