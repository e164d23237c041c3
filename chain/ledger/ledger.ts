/**
 * The ledger: genesis -> state, block validation and execution, atomic commit. One writer: the caller
 * (consensus driver) serialises execute/commit; reads are safe at any time.
 */

import { equalBytes, hasPrefix, toHex } from '../../util/bytes.js';
import { PeerAction, VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { type Address, addressFromPublicKey } from '../address.js';
import { Block, evidenceRootOf, lastCommitHashOf, txRootOf } from '../block.js';
import { blockOverheadBytes } from '../budget.js';
import { encodeRlp } from '../codec.js';
import { type Commit, CommitFlag } from '../commit.js';
import { verifyCommit, weightedMedianTime } from '../commit-verify.js';
import type { Evidence } from '../evidence.js';
import { ZERO_HASH } from '../hash.js';
import { Header } from '../header.js';
import { merkleRoot } from '../merkle.js';
import type { Receipt } from '../receipt.js';
import { type BatchOp, BlockStore, type ChainDb, type Head } from '../store/block-store.js';
import { DB_FORMAT, KEY_HEAD } from '../store/layout.js';
import { TxError } from '../tx/errors.js';
import type { Tx } from '../tx/tx.js';
import { sortValidators, type ValidatorInfo, validatorsHash } from '../validators.js';
import {
  type Account,
  accountKey,
  decodeAccount,
  EMPTY_ACCOUNT,
  encodeAccount,
  encodeAddressList,
  encodeValidatorRecord,
  VAL_INDEX_KEY,
  validatorKey,
} from './accounts.js';
import { runBlockHooks } from './block-hooks.js';
import { applyEvidence, endBlock } from './end-block.js';
import { executeTx, getAccount, type Participation, putAccount } from './execute-tx.js';
import { StateOverlay } from './overlay.js';
import { type GenesisState, maxEvidenceAge } from './params.js';
import { inlineVerifier, type SignatureVerifier } from './verifier.js';

/** What the ledger needs of the authenticated state tree (chain/state/tree.ts implements it). */
export interface StateBackend {
  readonly version: number;
  readonly root: Uint8Array;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  stage(changes: Iterable<[Uint8Array, Uint8Array | null]>, version: number): Promise<StagedState>;
  commitStaged(staged: StagedState): void | Promise<void>;
}

export interface StagedState {
  readonly version: number;
  readonly root: Uint8Array;
  readonly ops: ReadonlyArray<{ type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }>;
}

export interface Execution {
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  receipts: Receipt[];
  receiptsRoot: Uint8Array;
  gasUsed: bigint;
  staged: StagedState;
  /** Validator list effective at height + 2, when this block ends an epoch and the set changes. */
  validatorChange: ValidatorInfo[] | null;
  /** The block's writes to the indexed state prefixes (LedgerDeps.indexedPrefixes), null = deleted. */
  indexed: Array<[Uint8Array, Uint8Array | null]>;
}

export type BlockErrorCode = 'INVALID_BLOCK' | 'INVALID_TX_IN_BLOCK';
export class BlockError extends VosError<{ code: BlockErrorCode; height: number }> {
  constructor(height: number, message: string, code: BlockErrorCode = 'INVALID_BLOCK', cause?: unknown) {
    super({ code, height }, `invalid block ${height}: ${message}`, { cause, peerAction: PeerAction.Reject });
  }
}

export interface LedgerDeps {
  db: ChainDb;
  state: StateBackend;
  genesis: GenesisState;
  genesisHash: Uint8Array;
  verifier?: SignatureVerifier;
  /** Verifies commits (default: `verifier`); the node passes a CachingVerifier shared with block sync. */
  commitVerifier?: SignatureVerifier;
  logger?: Logger;
  /** State-tree ops target this sublevel inside the batch. */
  stateSublevel?: unknown;
  /**
   * State key prefixes mirrored, unauthenticated, in the chain DB (x/<key>) so they can be enumerated
   * (the state tree hashes its keys); a service passes its own (naming: name/rec/).
   */
  indexedPrefixes?: readonly Uint8Array[];
}

export interface BuildArgs {
  time: number;
  proposer: Address;
  lastCommit: Commit | null;
  evidence?: Evidence[];
  candidates: Iterable<Tx>;
  maxTxs?: number;
  /** Stop adding txs once executing them took this long (the proposer's choice; validators re-execute). */
  maxBuildMs?: number;
}

export class Ledger {
  readonly chainId: string;
  readonly genesis: GenesisState;
  readonly store: BlockStore;
  readonly #state: StateBackend;
  readonly #verifier: SignatureVerifier;
  readonly #commitVerifier: SignatureVerifier;
  readonly #logger: Logger | undefined;
  readonly #stateSublevel: unknown;
  readonly #indexedPrefixes: readonly Uint8Array[];
  #head!: Head;
  readonly #valsCache = new Map<number, ValidatorInfo[]>();
  #writeFailed: VosError | undefined;
  /** The newest validator-set change; every height from it on has this set (no store read per height). */
  #latestChange: { height: number; list: ValidatorInfo[] } | undefined;
  /** The highest height whose batch is known to be fsynced. */
  #durableHeight = 0;
  /** Hashes of txs whose signatures were already checked (mempool admission); bounded. */
  readonly #verifiedTxs = new Set<string>();

  private constructor(deps: LedgerDeps) {
    this.chainId = deps.genesis.chainId;
    this.genesis = deps.genesis;
    this.store = new BlockStore(deps.db);
    this.#state = deps.state;
    this.#verifier = deps.verifier ?? inlineVerifier;
    this.#commitVerifier = deps.commitVerifier ?? this.#verifier;
    this.#logger = deps.logger;
    this.#stateSublevel = deps.stateSublevel;
    this.#indexedPrefixes = deps.indexedPrefixes ?? [];
  }

  static async open(deps: LedgerDeps): Promise<Ledger> {
    const l = new Ledger(deps);
    await l.#init(deps.genesisHash);
    return l;
  }

  get head(): Head {
    return this.#head;
  }

  get params() {
    return this.genesis.params;
  }

  async #init(genesisHash: Uint8Array): Promise<void> {
    const storedGenesis = await this.store.getGenesisHash();
    if (storedGenesis !== undefined) {
      const format = await this.store.getFormat();
      if (format !== DB_FORMAT)
        throw new VosError(
          { code: 'DB_FORMAT_MISMATCH' },
          `the chain data was written by ${format === undefined ? 'an older VOS' : `DB format ${format}`}; ` +
            `this VOS reads format ${DB_FORMAT}: move the node's data directory away (for the devnet: rm -rf .devnet) and start again`,
        );
    }
    if (storedGenesis !== undefined && !equalBytes(storedGenesis, genesisHash)) {
      throw new VosError(
        { code: 'GENESIS_MISMATCH' },
        `the data directory belongs to another genesis (${toHex(storedGenesis)}), not ${toHex(genesisHash)}`,
      );
    }
    const stored = await this.store.getHead();
    if (stored !== undefined) {
      if (!equalBytes(stored.stateRoot, this.#state.root) || this.#state.version !== stored.height) {
        throw new VosError(
          { code: 'STATE_MISMATCH' },
          `state tree at version ${this.#state.version} does not match head ${stored.height}`,
        );
      }
      this.#head = stored;
      return;
    }
    // Fresh DB: build the genesis state (version 0) and write it with the genesis marker in one batch.
    const g = this.genesis;
    const overlay = new StateOverlay(this.#state);
    for (const a of g.accounts)
      overlay.set(accountKey(a.address), encodeAccount({ nonce: 0n, balance: a.balance }));
    const vals = this.#genesisValidators();
    for (const v of g.validators) {
      overlay.set(
        validatorKey(addressFromPublicKey(v.publicKey)),
        encodeValidatorRecord({ publicKey: v.publicKey, stake: v.stake, jailed: false }),
      );
    }
    overlay.set(
      VAL_INDEX_KEY,
      encodeAddressList(
        sortValidators(vals)
          .map((v) => v.address)
          .sort((a, b) => Buffer.compare(a.bytes, b.bytes)),
      ),
    );
    const staged = await this.#state.stage(overlay.changes(), 0);
    const head: Head = { height: 0, hash: ZERO_HASH, time: g.genesisTime, stateRoot: staged.root };
    const ops: BatchOp[] = [
      this.store.genesisOp(genesisHash),
      this.store.formatOp(DB_FORMAT),
      this.store.validatorsOp(1, vals),
      headOp(head),
    ];
    await this.#write(ops, staged);
    this.#head = head;
  }

  #genesisValidators(): ValidatorInfo[] {
    return this.genesis.validators.map((v) => ({
      address: addressFromPublicKey(v.publicKey),
      publicKey: v.publicKey,
      power: v.stake,
    }));
  }

  /** Validators that sign `height` (known up to head + 2). */
  async validatorsAt(height: number): Promise<ValidatorInfo[]> {
    if (height < 1 || height > this.#head.height + 2) {
      throw new VosError(
        { code: 'UNKNOWN_HEIGHT', height },
        `validators of height ${height} are not known yet`,
      );
    }
    if (this.#latestChange === undefined) {
      const latest = await this.store.latestValidatorChange();
      if (latest !== undefined) this.#latestChange = { height: latest[0], list: latest[1] };
    }
    if (this.#latestChange !== undefined && height >= this.#latestChange.height)
      return this.#latestChange.list;
    const hit = this.#valsCache.get(height);
    if (hit !== undefined) return hit;
    const list = await this.store.getValidators(height);
    if (list === undefined)
      throw new VosError({ code: 'UNKNOWN_HEIGHT', height }, `no validators stored for ${height}`);
    if (this.#valsCache.size > 64) this.#valsCache.delete(this.#valsCache.keys().next().value as number);
    this.#valsCache.set(height, list);
    return list;
  }

  async getAccount(address: Address): Promise<Account> {
    const v = await this.#state.get(accountKey(address));
    return v === undefined ? { ...EMPTY_ACCOUNT } : decodeAccount(v);
  }

  async getState(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#state.get(key);
  }

  /**
   * Make every committed block durable (after block sync's unsynced writes): one synced write of the
   * head pointer, which fsyncs LevelDB's log with everything before it. The driver calls this before
   * signing, so the signer guard is never ahead of a block the node could lose.
   */
  async ensureDurable(): Promise<void> {
    if (this.#durableHeight >= this.#head.height) return;
    const height = this.#head.height;
    await this.store.write([headOp(this.#head)], { sync: true });
    this.#durableHeight = Math.max(this.#durableHeight, height);
  }

  /** The last commit's signers and absentees among the validators of height - 1. */
  async #participation(height: number, lastCommit: Commit | null): Promise<Participation> {
    if (height === 1 || lastCommit === null) return { signed: [], missed: [] };
    const vals = await this.validatorsAt(height - 1);
    const signed: Address[] = [];
    const missed: Address[] = [];
    for (const [i, v] of vals.entries()) {
      const flag = lastCommit.signatures[i]?.flag ?? CommitFlag.Absent;
      (flag === CommitFlag.Absent ? missed : signed).push(v.address);
    }
    return { signed, missed };
  }

  /** Mark a tx signature as checked (mempool admission) so block execution can skip it. */
  markVerified(tx: Tx): void {
    if (this.#verifiedTxs.size >= 200_000) this.#verifiedTxs.clear();
    this.#verifiedTxs.add(Buffer.from(tx.hash()).toString('latin1'));
  }

  /** Proposer side: execute candidates in order, dropping invalid ones, and build the block. */
  async buildBlock(
    args: BuildArgs,
  ): Promise<{ block: Block; execution: Execution; dropped: { tx: Tx; error: unknown }[] }> {
    const height = this.#head.height + 1;
    const overlay = new StateOverlay(this.#state);
    const evidence = args.evidence ?? [];
    await this.#verifyEvidence(height, evidence);
    const jailed = await this.#applyEvidence(overlay, evidence);
    const ctx = {
      chainId: this.chainId,
      height,
      params: this.params,
      state: overlay,
      time: args.time,
      prevHash: this.#head.hash,
      participation: await this.#participation(height, args.lastCommit),
    };
    const txs: Tx[] = [];
    const receipts: Receipt[] = [];
    const dropped: { tx: Tx; error: unknown }[] = [];
    let gasUsed = 0n;
    let fees = 0n;
    let bytes = blockOverheadBytes(args.lastCommit?.signatures.length ?? 0, evidence); // chain/budget.ts
    const maxTxs = args.maxTxs ?? Number.POSITIVE_INFINITY;
    const unverified: Tx[] = [];
    const all = [...args.candidates];
    for (const tx of all)
      if (!this.#verifiedTxs.has(Buffer.from(tx.hash()).toString('latin1'))) unverified.push(tx);
    const badSig = await this.#badSignatures(unverified);
    const deadline = performance.now() + (args.maxBuildMs ?? Number.POSITIVE_INFINITY);
    for (const tx of all) {
      if (txs.length >= maxTxs) break;
      // PERF: the clock is read every 64 txs.
      if ((txs.length & 63) === 63 && performance.now() > deadline) break;
      if (bytes + tx.size + 8 > this.params.maxBlockBytes) break;
      if (badSig.has(tx)) {
        dropped.push({ tx, error: new TxError('TX_INVALID_SIGNATURE', 'invalid signature') });
        continue;
      }
      overlay.checkpoint();
      try {
        const { receipt, fee } = await executeTx(tx, ctx);
        if (gasUsed + receipt.gasUsed > this.params.maxBlockGas) {
          overlay.rollback();
          break;
        }
        overlay.commitCheckpoint();
        txs.push(tx);
        receipts.push(receipt);
        gasUsed += receipt.gasUsed;
        fees += fee;
        bytes += tx.size + 8;
      } catch (error) {
        overlay.rollback();
        if (error instanceof TxError) dropped.push({ tx, error });
        else {
          // Receipts carry every deterministic failure: an exception here is a bug or this node's
          // trouble. The proposer leaves the tx out rather than fail the block (and the chain with it).
          this.#logger?.error({ err: error, tx: toHex(tx.hash()) }, 'a tx threw while building a block');
          dropped.push({
            tx,
            error: new TxError('TX_EXECUTION_ERROR', `executing the tx threw: ${String(error)}`),
          });
        }
      }
    }
    await this.#payFees(overlay, args.proposer, fees);
    await runBlockHooks(ctx);
    const validatorChange = await endBlock(
      overlay,
      height,
      this.params,
      await this.validatorsAt(height + 1),
      jailed,
      this.#logger,
    );
    const changes = overlay.changes();
    const staged = await this.#state.stage(changes, height);
    const indexed = this.#indexedOf(changes);
    const receiptsRoot = merkleRoot(receipts.map((r) => r.hash()));
    const header = new Header({
      chainId: this.chainId,
      height,
      time: args.time,
      prevHash: this.#head.hash,
      txRoot: txRootOf(txs),
      stateRoot: staged.root,
      validatorsHash: validatorsHash(await this.validatorsAt(height)),
      nextValidatorsHash: validatorsHash(await this.validatorsAt(height + 1)),
      proposer: args.proposer,
      lastCommitHash: lastCommitHashOf(args.lastCommit),
      evidenceRoot: evidenceRootOf(evidence),
      receiptsRoot,
    });
    const block = new Block(header, txs, args.lastCommit, evidence);
    const execution: Execution = {
      height,
      blockHash: block.hash(),
      stateRoot: staged.root,
      receipts,
      receiptsRoot,
      gasUsed,
      staged,
      validatorChange,
      indexed,
    };
    return { block, execution, dropped };
  }

  /** The block time a proposer must use at the next height. */
  async nextBlockTime(lastCommit: Commit | null): Promise<number> {
    const height = this.#head.height + 1;
    if (height === 1 || lastCommit === null) return this.genesis.genesisTime;
    return weightedMedianTime(await this.validatorsAt(height - 1), lastCommit);
  }

  /** Validator side: fully validate and execute a block on top of the head, without committing. */
  async executeBlock(block: Block): Promise<Execution> {
    const h = block.header;
    const height = this.#head.height + 1;
    const fail = (msg: string, cause?: unknown) => new BlockError(h.height, msg, 'INVALID_BLOCK', cause);
    if (h.chainId !== this.chainId) throw fail(`chain id ${h.chainId}`);
    if (h.height !== height) throw fail(`expected height ${height}`);
    if (!equalBytes(h.prevHash, this.#head.hash)) throw fail('prevHash does not match the head');
    const vals = await this.validatorsAt(height);
    if (!vals.some((v) => v.address.equals(h.proposer))) throw fail('proposer is not a validator');
    if (!equalBytes(h.validatorsHash, validatorsHash(vals))) throw fail('wrong validatorsHash');
    if (!equalBytes(h.nextValidatorsHash, validatorsHash(await this.validatorsAt(height + 1)))) {
      throw fail('wrong nextValidatorsHash');
    }
    if (!equalBytes(h.lastCommitHash, lastCommitHashOf(block.lastCommit))) throw fail('wrong lastCommitHash');
    if (height === 1) {
      if (block.lastCommit !== null) throw fail('block 1 has no last commit');
    } else {
      if (block.lastCommit === null) throw fail('missing last commit');
      try {
        await verifyCommit(
          this.chainId,
          await this.validatorsAt(height - 1),
          block.lastCommit,
          height - 1,
          this.#head.hash,
          this.#commitVerifier,
        );
      } catch (err) {
        throw fail((err as Error).message, err);
      }
    }
    const expectedTime = await this.nextBlockTime(block.lastCommit);
    if (h.time !== expectedTime) throw fail(`time ${h.time} is not the commit's median time ${expectedTime}`);
    if (height > 1 && h.time <= this.#head.time) throw fail('time does not increase');
    if (!equalBytes(h.txRoot, txRootOf(block.txs))) throw fail('wrong txRoot');
    if (!equalBytes(h.evidenceRoot, evidenceRootOf(block.evidence))) throw fail('wrong evidenceRoot');
    if (block.serialize().length > this.params.maxBlockBytes) throw fail('block exceeds maxBlockBytes');

    const unverified = block.txs.filter(
      (t) => !this.#verifiedTxs.has(Buffer.from(t.hash()).toString('latin1')),
    );
    const bad = await this.#badSignatures(unverified);
    if (bad.size > 0) throw fail('a tx has an invalid signature', undefined);

    const overlay = new StateOverlay(this.#state);
    try {
      await this.#verifyEvidence(height, block.evidence);
    } catch (err) {
      throw fail((err as Error).message, err);
    }
    const jailed = await this.#applyEvidence(overlay, block.evidence);
    const ctx = {
      chainId: this.chainId,
      height,
      params: this.params,
      state: overlay,
      time: block.header.time,
      prevHash: this.#head.hash,
      participation: await this.#participation(height, block.lastCommit),
    };
    const receipts: Receipt[] = [];
    let gasUsed = 0n;
    let fees = 0n;
    for (const [i, tx] of block.txs.entries()) {
      try {
        const { receipt, fee } = await executeTx(tx, ctx);
        receipts.push(receipt);
        gasUsed += receipt.gasUsed;
        fees += fee;
      } catch (err) {
        if (err instanceof TxError)
          throw new BlockError(h.height, `tx ${i}: ${err.message}`, 'INVALID_TX_IN_BLOCK', err);
        throw err;
      }
    }
    if (gasUsed > this.params.maxBlockGas) throw fail('block exceeds maxBlockGas');
    await this.#payFees(overlay, h.proposer, fees);
    await runBlockHooks(ctx);
    const validatorChange = await endBlock(
      overlay,
      height,
      this.params,
      await this.validatorsAt(height + 1),
      jailed,
      this.#logger,
    );
    const changes = overlay.changes();
    const staged = await this.#state.stage(changes, height);
    const indexed = this.#indexedOf(changes);
    if (!equalBytes(staged.root, h.stateRoot))
      throw fail(`stateRoot ${toHex(h.stateRoot)} != computed ${toHex(staged.root)}`);
    const receiptsRoot = merkleRoot(receipts.map((r) => r.hash()));
    if (!equalBytes(receiptsRoot, h.receiptsRoot)) throw fail('wrong receiptsRoot');
    return {
      height,
      blockHash: block.hash(),
      stateRoot: staged.root,
      receipts,
      receiptsRoot,
      gasUsed,
      staged,
      validatorChange,
      indexed,
    };
  }

  /** Persist block + commit + receipts + indices + state in one atomic batch, then advance the head. */
  /**
   * Persist an executed block. With `deferWrite` (block sync) the LevelDB batch is issued but not
   * awaited: state and head move on at once and the store's reads wait for the write (BlockStore.write).
   * A deferred write that fails stops the ledger: every later commit throws.
   */
  async commitBlock(
    block: Block,
    commit: Commit,
    execution: Execution,
    opts: { deferWrite?: boolean; extraOps?: readonly BatchOp[] } = {},
  ): Promise<void> {
    if (this.#writeFailed !== undefined) throw this.#writeFailed;
    if (block.height !== this.#head.height + 1 || !equalBytes(execution.blockHash, block.hash())) {
      throw new VosError(
        { code: 'COMMIT_OUT_OF_ORDER' },
        `cannot commit block ${block.height} on head ${this.#head.height}`,
      );
    }
    const ops = this.store.blockOps(block, commit, execution.receipts, execution.stateRoot);
    if (execution.validatorChange !== null)
      ops.push(this.store.validatorsOp(block.height + 2, execution.validatorChange));
    if (opts.extraOps !== undefined) ops.push(...opts.extraOps);
    for (const [key, value] of execution.indexed) ops.push(this.store.indexOp(key, value));
    await this.#write(ops, execution.staged, opts.deferWrite === true);
    this.#head = {
      height: block.height,
      hash: block.hash(),
      time: block.header.time,
      stateRoot: execution.stateRoot,
    };
    if (execution.validatorChange !== null) {
      this.#valsCache.set(block.height + 2, execution.validatorChange);
      this.#latestChange = { height: block.height + 2, list: execution.validatorChange };
    }
    for (const tx of block.txs) this.#verifiedTxs.delete(Buffer.from(tx.hash()).toString('latin1'));
  }

  /**
   * Consensus commits are written with sync (a commit this node signed for must survive a power loss:
   * its signer guard is fsynced too); block sync defers and does not sync (ensureDurable() makes them
   * durable before this node signs at a later height).
   */
  async #write(ops: BatchOp[], staged: StagedState, defer = false): Promise<void> {
    const all: BatchOp[] = [...ops];
    for (const op of staged.ops) {
      const withSub = this.#stateSublevel === undefined ? {} : { sublevel: this.#stateSublevel };
      all.push(
        op.type === 'put'
          ? { type: 'put', key: op.key, value: op.value!, ...withSub }
          : { type: 'del', key: op.key, ...withSub },
      );
    }
    const written = this.store.write(all, { sync: !defer });
    if (!defer) {
      await written;
      this.#durableHeight = staged.version;
      await this.#state.commitStaged(staged);
      return;
    }
    written.catch((err) => {
      this.#writeFailed ??= new VosError({ code: 'STORE_WRITE_FAILED' }, 'a block write failed', {
        cause: err,
      });
      this.#logger?.error({ err }, 'a deferred block write failed; the node must be restarted');
    });
    await this.#state.commitStaged(staged);
    // Bound how far the state runs ahead of the disk.
    if (this.store.pendingWrites > 64) await written;
  }

  #indexedOf(changes: Array<[Uint8Array, Uint8Array | null]>): Array<[Uint8Array, Uint8Array | null]> {
    if (this.#indexedPrefixes.length === 0) return [];
    return changes.filter(([k]) => this.#indexedPrefixes.some((p) => hasPrefix(k, p)));
  }

  async #applyEvidence(overlay: StateOverlay, evidence: readonly Evidence[]): Promise<Address[]> {
    const jailed: Address[] = [];
    for (const ev of evidence) {
      const a = await applyEvidence(overlay, ev, this.params);
      if (a !== null) jailed.push(a);
    }
    return jailed;
  }

  async #payFees(overlay: StateOverlay, proposer: Address, fees: bigint): Promise<void> {
    if (fees === 0n) return;
    const acct = await getAccount(overlay, proposer);
    putAccount(overlay, proposer, { ...acct, balance: acct.balance + fees });
  }

  async #badSignatures(txs: Tx[]): Promise<Set<Tx>> {
    if (txs.length === 0) return new Set();
    const ok = await this.#verifier.verifyBatch(
      txs.map((t) => ({ publicKey: t.signer, message: t.signBytes(), signature: t.signature })),
    );
    const bad = new Set<Tx>();
    ok.forEach((v, i) => {
      if (!v) bad.add(txs[i]);
    });
    return bad;
  }

  /**
   * Check evidence a node detected or a peer gossiped before it enters the evidence pool: well formed,
   * signed by a validator of its height, not expired for the next block (or a later one, for evidence
   * of the height in progress). Throws INVALID_EVIDENCE.
   */
  async checkEvidence(ev: Evidence): Promise<void> {
    if (ev.height > this.#head.height + 1)
      throw new VosError({ code: 'INVALID_EVIDENCE' }, `evidence of future height ${ev.height}`);
    await this.#verifyEvidence(Math.max(this.#head.height + 1, ev.height + 1), [ev]);
  }

  async #verifyEvidence(height: number, evidence: readonly Evidence[]): Promise<void> {
    const seen = new Set<string>();
    for (const ev of evidence) {
      const why = ev.validateBasic();
      if (why !== null) throw new VosError({ code: 'INVALID_EVIDENCE' }, `invalid evidence: ${why}`);
      if (ev.height >= height || ev.height + maxEvidenceAge(this.params) < height) {
        throw new VosError(
          { code: 'INVALID_EVIDENCE' },
          `evidence of height ${ev.height} is outside the valid window`,
        );
      }
      const id = `${ev.voteA.validator.toString()}/${ev.height}`;
      if (seen.has(id)) throw new VosError({ code: 'INVALID_EVIDENCE' }, 'duplicate evidence in one block');
      seen.add(id);
      const vals = await this.store.getValidators(ev.height);
      const v = vals?.find((x) => x.address.equals(ev.voteA.validator));
      if (v === undefined)
        throw new VosError({ code: 'INVALID_EVIDENCE' }, 'evidence against a non-validator');
      const ok = await this.#verifier.verifyBatch([
        { publicKey: v.publicKey, message: ev.voteA.signBytes(this.chainId), signature: ev.voteA.signature },
        { publicKey: v.publicKey, message: ev.voteB.signBytes(this.chainId), signature: ev.voteB.signature },
      ]);
      if (!ok[0] || !ok[1])
        throw new VosError({ code: 'INVALID_EVIDENCE' }, 'evidence signature does not verify');
    }
  }
}

function headOp(head: Head): BatchOp {
  return {
    type: 'put',
    key: KEY_HEAD,
    value: encodeRlp([head.height, head.hash, head.time, head.stateRoot]),
  };
}
