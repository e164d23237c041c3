/** Read side of the chain DB (blocks, commits, receipts, indices) and the op builder for one block. */
import type { ClassicLevel } from 'classic-level';
import { concatBytes, prefixRange, readU64be, u64be } from '../../util/bytes.js';
import { type Block, createBlockFromRlp } from '../block.js';
import { asBytes, asList, asNumber, decodeRlp, encodeRlp } from '../codec.js';
import { type Commit, createCommitFromRlp } from '../commit.js';
import { createReceiptFromRlp, type Receipt } from '../receipt.js';
import { decodeValidators, encodeValidators, sortValidators, type ValidatorInfo } from '../validators.js';
import {
  type AccountTx,
  accountTxKey,
  accountTxPuts,
  accountTxRange,
  decodeAccountTx,
} from './account-index.js';
import {
  blockKey,
  commitKey,
  hashKey,
  indexKey,
  KEY_ACCOUNT_INDEX,
  KEY_FORMAT,
  KEY_GENESIS,
  KEY_HEAD,
  KEY_PROPOSERS,
  PREFIX_BLOCK,
  PREFIX_INDEX,
  PREFIX_VALIDATORS,
  receiptsKey,
  txKey,
  validatorsKey,
} from './layout.js';

export type ChainDb = ClassicLevel<Uint8Array, Uint8Array>;

export interface Head {
  height: number;
  hash: Uint8Array;
  time: number;
  stateRoot: Uint8Array;
}

export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array; sublevel?: unknown }
  | { type: 'del'; key: Uint8Array; sublevel?: unknown };

export class BlockStore {
  /** Writes issued and not yet landed, in order; every read below waits for them first. */
  #writes: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(readonly db: ChainDb) {}

  /**
   * Write one batch after those before it. Reads through this store wait for every write issued
   * before them, so a caller may go on without awaiting (block sync does: PERF, one LevelDB round trip
   * less per block) and no reader sees a head without its block. Resolves when this batch landed.
   * `sync`: LevelDB fsyncs its log before resolving, which makes this batch and every earlier one
   * durable (the log is sequential).
   */
  write(ops: BatchOp[], opts: { sync?: boolean } = {}): Promise<void> {
    this.#pending++;
    const sync = opts.sync === true;
    // biome-ignore lint/suspicious/noExplicitAny: classic-level's batch op type is generic over sublevels.
    const p = this.#writes.then(() => this.db.batch(ops as any, { sync })).finally(() => this.#pending--);
    this.#writes = p.catch(() => undefined);
    return p;
  }

  /** Batches issued and not yet written. */
  get pendingWrites(): number {
    return this.#pending;
  }

  /** Resolves when every write issued so far has landed. */
  settled(): Promise<void> {
    return this.#writes;
  }

  async getHead(): Promise<Head | undefined> {
    await this.#writes;
    const v = await this.db.get(KEY_HEAD);
    if (v === undefined) return undefined;
    const f = asList(decodeRlp(v, 'head'), 'head', 4);
    return {
      height: asNumber(f[0], 'head.height'),
      hash: asBytes(f[1], 'head.hash', 32),
      time: asNumber(f[2], 'head.time'),
      stateRoot: asBytes(f[3], 'head.stateRoot', 32),
    };
  }

  /** The proposer state written with the head block (KEY_PROPOSERS), if any. */
  async getProposerState(): Promise<Uint8Array | undefined> {
    await this.#writes;
    return this.db.get(KEY_PROPOSERS);
  }

  indexOp(stateKey: Uint8Array, value: Uint8Array | null): BatchOp {
    const key = indexKey(stateKey);
    return value === null ? { type: 'del', key } : { type: 'put', key, value };
  }

  /** The mirrored state entries under `prefix` (an indexed prefix): [state key, value], in key order. */
  async *indexed(prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    await this.#writes;
    for await (const [k, v] of this.db.iterator(prefixRange(indexKey(prefix))))
      yield [k.subarray(PREFIX_INDEX.length), v];
  }

  proposerStateOp(bytes: Uint8Array): BatchOp {
    return { type: 'put', key: KEY_PROPOSERS, value: bytes };
  }

  async getFormat(): Promise<number | undefined> {
    await this.#writes;
    const v = await this.db.get(KEY_FORMAT);
    return v === undefined || v.length !== 4
      ? undefined
      : new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
  }

  formatOp(format: number): BatchOp {
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, format);
    return { type: 'put', key: KEY_FORMAT, value };
  }

  async getGenesisHash(): Promise<Uint8Array | undefined> {
    await this.#writes;
    return this.db.get(KEY_GENESIS);
  }

  async getBlock(height: number): Promise<Block | undefined> {
    await this.#writes;
    const v = await this.db.get(blockKey(height));
    return v === undefined ? undefined : createBlockFromRlp(v);
  }

  async getBlockBytes(height: number): Promise<Uint8Array | undefined> {
    await this.#writes;
    return this.db.get(blockKey(height));
  }

  /**
   * Stored block and commit bytes of heights [from, to], in order, stopping at the first gap.
   * PERF: two range reads (one seek each) instead of two point reads per height; block sync serves these.
   */
  async getBlockRange(from: number, to: number): Promise<{ block: Uint8Array; commit: Uint8Array }[]> {
    if (to < from) return [];
    await this.#writes;
    const limit = to - from + 1;
    const [blocks, commits] = await Promise.all([
      this.db.values({ gte: blockKey(from), lte: blockKey(to), limit }).all(),
      this.db.values({ gte: commitKey(from), lte: commitKey(to), limit }).all(),
    ]);
    const n = Math.min(blocks.length, commits.length);
    return Array.from({ length: n }, (_, i) => ({ block: blocks[i], commit: commits[i] }));
  }

  async getHeightByHash(hash: Uint8Array): Promise<number | undefined> {
    await this.#writes;
    const v = await this.db.get(hashKey(hash));
    return v === undefined ? undefined : Number(readU64be(v));
  }

  async getCommit(height: number): Promise<Commit | undefined> {
    await this.#writes;
    const v = await this.db.get(commitKey(height));
    return v === undefined ? undefined : createCommitFromRlp(v);
  }

  async getReceipts(height: number): Promise<Receipt[] | undefined> {
    await this.#writes;
    const v = await this.db.get(receiptsKey(height));
    if (v === undefined) return undefined;
    return asList(decodeRlp(v, 'receipts'), 'receipts').map((r) =>
      createReceiptFromRlp(asBytes(r, 'receipt')),
    );
  }

  async getTxLocation(hash: Uint8Array): Promise<{ height: number; index: number } | undefined> {
    await this.#writes;
    const v = await this.db.get(txKey(hash));
    if (v === undefined) return undefined;
    const f = asList(decodeRlp(v, 'txloc'), 'txloc', 2);
    return { height: asNumber(f[0], 'txloc.height'), index: asNumber(f[1], 'txloc.index') };
  }

  /** The validator list effective at `height` (the latest change at or below it). */
  async getValidators(height: number): Promise<ValidatorInfo[] | undefined> {
    await this.#writes;
    for await (const [, value] of this.db.iterator({
      gte: PREFIX_VALIDATORS,
      lte: validatorsKey(height),
      reverse: true,
      limit: 1,
    })) {
      return decodeValidators(value);
    }
    return undefined;
  }

  /** The newest stored validator-set change: [height it takes effect, list]. */
  async latestValidatorChange(): Promise<[number, ValidatorInfo[]] | undefined> {
    await this.#writes;
    const end = concatBytes(PREFIX_VALIDATORS, new Uint8Array(8).fill(0xff));
    for await (const [key, value] of this.db.iterator({
      gte: PREFIX_VALIDATORS,
      lte: end,
      reverse: true,
      limit: 1,
    })) {
      return [Number(readU64be(key, PREFIX_VALIDATORS.length)), decodeValidators(value)];
    }
    return undefined;
  }

  /** Every stored validator-set change (height it takes effect, list), in height order. */
  async *validatorChanges(): AsyncGenerator<[number, ValidatorInfo[]]> {
    await this.#writes;
    const end = concatBytes(PREFIX_VALIDATORS, new Uint8Array(8).fill(0xff));
    for await (const [key, value] of this.db.iterator({ gte: PREFIX_VALIDATORS, lte: end })) {
      yield [Number(readU64be(key, PREFIX_VALIDATORS.length)), decodeValidators(value)];
    }
  }

  /** Ops that persist one committed block (the caller adds state-tree ops and writes one batch). */
  blockOps(block: Block, commit: Commit, receipts: readonly Receipt[], stateRoot: Uint8Array): BatchOp[] {
    const h = block.height;
    const hash = block.hash();
    const ops: BatchOp[] = [
      { type: 'put', key: blockKey(h), value: block.serialize() },
      { type: 'put', key: commitKey(h), value: commit.serialize() },
      { type: 'put', key: receiptsKey(h), value: encodeRlp(receipts.map((r) => r.serialize())) },
      { type: 'put', key: hashKey(hash), value: u64be(h) },
      { type: 'put', key: KEY_HEAD, value: encodeRlp([h, hash, block.header.time, stateRoot]) },
    ];
    block.txs.forEach((tx, i) => {
      ops.push({ type: 'put', key: txKey(tx.hash()), value: encodeRlp([h, i]) });
    });
    for (const op of accountTxPuts(block, receipts)) ops.push(op);
    // A DB that has its account index from the first block on needs no backfill.
    if (h === 1) ops.push({ type: 'put', key: KEY_ACCOUNT_INDEX, value: Uint8Array.of(1) });
    return ops;
  }

  /**
   * An account's txs from the account index, newest first: at most `limit`, all before the position
   * `before` (height, index) when given; `more` tells whether older ones exist.
   */
  async getAccountTxs(
    address: Uint8Array,
    o: { limit: number; before?: { height: number; index: number } },
  ): Promise<{ txs: AccountTx[]; more: boolean }> {
    await this.#writes;
    const range = accountTxRange(address);
    const bound =
      o.before === undefined
        ? { lte: range.lte }
        : { lt: accountTxKey(address, o.before.height, o.before.index) };
    const txs: AccountTx[] = [];
    let more = false;
    for await (const [k, v] of this.db.iterator({
      gte: range.gte,
      ...bound,
      reverse: true,
      limit: o.limit + 1,
    })) {
      if (txs.length === o.limit) {
        more = true;
        break;
      }
      txs.push(decodeAccountTx(k, v));
    }
    return { txs, more };
  }

  /** Whether the account index holds every stored block (m/acct-index). */
  async accountIndexComplete(): Promise<boolean> {
    await this.#writes;
    return (await this.db.get(KEY_ACCOUNT_INDEX)) !== undefined;
  }

  /**
   * Index the stored blocks up to `to` (a DB written before the account index existed; the blocks after
   * `to` are indexed as they are written), `chunk` blocks per batch, then mark the index complete.
   * The puts are the same a block's own batch makes, so running it twice or beside new blocks is safe.
   * Returns the blocks indexed.
   */
  async backfillAccountIndex(to: number, chunk = 500): Promise<number> {
    let ops: BatchOp[] = [];
    let n = 0;
    await this.#writes;
    for await (const [key, bytes] of this.db.iterator({ gte: blockKey(1), lte: blockKey(to) })) {
      const height = Number(readU64be(key, PREFIX_BLOCK.length));
      const block = createBlockFromRlp(bytes);
      const receipts = (await this.getReceipts(height)) ?? [];
      for (const op of accountTxPuts(block, receipts)) ops.push(op);
      if (++n % chunk === 0) {
        await this.write(ops);
        ops = [];
      }
    }
    ops.push({ type: 'put', key: KEY_ACCOUNT_INDEX, value: Uint8Array.of(1) });
    await this.write(ops);
    return n;
  }

  validatorsOp(height: number, list: readonly ValidatorInfo[]): BatchOp {
    return { type: 'put', key: validatorsKey(height), value: encodeValidators(sortValidators(list)) };
  }

  genesisOp(hash: Uint8Array): BatchOp {
    return { type: 'put', key: KEY_GENESIS, value: concatBytes(hash) };
  }
}
