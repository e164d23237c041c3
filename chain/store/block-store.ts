/** Read side of the chain DB (blocks, commits, receipts, indices) and the op builder for one block. */
import type { ClassicLevel } from 'classic-level';
import { concatBytes, readU64be, u64be } from '../../util/bytes.js';
import { type Block, createBlockFromRlp } from '../block.js';
import { asBytes, asList, asNumber, decodeRlp, encodeRlp } from '../codec.js';
import { type Commit, createCommitFromRlp } from '../commit.js';
import { createReceiptFromRlp, type Receipt } from '../receipt.js';
import { decodeValidators, encodeValidators, sortValidators, type ValidatorInfo } from '../validators.js';
import {
  blockKey,
  commitKey,
  hashKey,
  KEY_GENESIS,
  KEY_HEAD,
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
  constructor(readonly db: ChainDb) {}

  async getHead(): Promise<Head | undefined> {
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

  async getGenesisHash(): Promise<Uint8Array | undefined> {
    return this.db.get(KEY_GENESIS);
  }

  async getBlock(height: number): Promise<Block | undefined> {
    const v = await this.db.get(blockKey(height));
    return v === undefined ? undefined : createBlockFromRlp(v);
  }

  async getBlockBytes(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(blockKey(height));
  }

  async getHeightByHash(hash: Uint8Array): Promise<number | undefined> {
    const v = await this.db.get(hashKey(hash));
    return v === undefined ? undefined : Number(readU64be(v));
  }

  async getCommit(height: number): Promise<Commit | undefined> {
    const v = await this.db.get(commitKey(height));
    return v === undefined ? undefined : createCommitFromRlp(v);
  }

  async getReceipts(height: number): Promise<Receipt[] | undefined> {
    const v = await this.db.get(receiptsKey(height));
    if (v === undefined) return undefined;
    return asList(decodeRlp(v, 'receipts'), 'receipts').map((r) =>
      createReceiptFromRlp(asBytes(r, 'receipt')),
    );
  }

  async getTxLocation(hash: Uint8Array): Promise<{ height: number; index: number } | undefined> {
    const v = await this.db.get(txKey(hash));
    if (v === undefined) return undefined;
    const f = asList(decodeRlp(v, 'txloc'), 'txloc', 2);
    return { height: asNumber(f[0], 'txloc.height'), index: asNumber(f[1], 'txloc.index') };
  }

  /** The validator list effective at `height` (the latest change at or below it). */
  async getValidators(height: number): Promise<ValidatorInfo[] | undefined> {
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

  /** Every stored validator-set change (height it takes effect, list), in height order. */
  async *validatorChanges(): AsyncGenerator<[number, ValidatorInfo[]]> {
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
    return ops;
  }

  validatorsOp(height: number, list: readonly ValidatorInfo[]): BatchOp {
    return { type: 'put', key: validatorsKey(height), value: encodeValidators(sortValidators(list)) };
  }

  genesisOp(hash: Uint8Array): BatchOp {
    return { type: 'put', key: KEY_GENESIS, value: concatBytes(hash) };
  }
}
