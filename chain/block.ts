/**
 * Block = rlp([header, [txBytes...], lastCommit | [], [evidence...]]). Txs are embedded as their wire
 * bytes so a tx hash is the hash of exactly what the block carries. Height 1 has no lastCommit.
 */
import { toHex } from '../util/bytes.js';
import { asBytes, asList, CodecError, decodeRlp, encodeRlp, type RlpInput } from './codec.js';
import { type Commit, createCommitFromValues } from './commit.js';
import { createEvidenceFromValues, type Evidence } from './evidence.js';
import { ZERO_HASH } from './hash.js';
import { createHeaderFromValues, type Header } from './header.js';
import { merkleRoot } from './merkle.js';
import { createTxFromRlp, MAX_TX_BYTES, type Tx } from './tx/tx.js';

/** Hard cap on one block's encoded size (consensus rule; the genesis may set a lower soft limit). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;
export const MAX_EVIDENCE_PER_BLOCK = 100;

export class Block {
  #serialized: Uint8Array | undefined;

  constructor(
    readonly header: Header,
    readonly txs: readonly Tx[],
    readonly lastCommit: Commit | null,
    readonly evidence: readonly Evidence[],
  ) {}

  get height(): number {
    return this.header.height;
  }

  hash(): Uint8Array {
    return this.header.hash();
  }

  raw(): RlpInput[] {
    return [
      this.header.raw(),
      this.txs.map((t) => t.serialize()),
      this.lastCommit === null ? [] : this.lastCommit.raw(),
      this.evidence.map((e) => e.raw()),
    ];
  }

  serialize(): Uint8Array {
    if (this.#serialized === undefined) this.#serialized = encodeRlp(this.raw());
    return this.#serialized;
  }

  /** The decoder's input, kept as the serialization (canonical RLP: identical to a re-encoding). */
  cacheSerialized(bytes: Uint8Array): void {
    this.#serialized ??= bytes;
  }

  toJSON() {
    return {
      hash: toHex(this.hash()),
      header: this.header.toJSON(),
      txs: this.txs.map((t) => t.toJSON()),
      lastCommit: this.lastCommit?.toJSON() ?? null,
      evidence: this.evidence.map((e) => e.toJSON()),
    };
  }
}

export function txRootOf(txs: readonly Tx[]): Uint8Array {
  return merkleRoot(txs.map((t) => t.hash()));
}

export function evidenceRootOf(evidence: readonly Evidence[]): Uint8Array {
  return merkleRoot(evidence.map((e) => e.hash()));
}

export function lastCommitHashOf(commit: Commit | null): Uint8Array {
  return commit === null ? ZERO_HASH : commit.hash();
}

export function createBlockFromRlp(bytes: Uint8Array): Block {
  if (bytes.length > MAX_BLOCK_BYTES) throw new CodecError('INVALID_FIELD', 'block', 'block too large');
  const f = asList(decodeRlp(bytes, 'block'), 'block', 4);
  const header = createHeaderFromValues(asList(f[0], 'block.header', 12));
  const txs = asList(f[1], 'block.txs').map((t, i) => createTxFromRlp(asBytes(t, `block.txs[${i}]`)));
  for (const t of txs) {
    if (t.size > MAX_TX_BYTES) throw new CodecError('INVALID_FIELD', 'block.txs', 'tx too large');
  }
  const commitItem = asList(f[2], 'block.lastCommit');
  const lastCommit =
    commitItem.length === 0 ? null : createCommitFromValues(asList(commitItem, 'block.lastCommit', 4));
  const evItems = asList(f[3], 'block.evidence');
  if (evItems.length > MAX_EVIDENCE_PER_BLOCK)
    throw new CodecError('INVALID_FIELD', 'block.evidence', 'too much evidence');
  const block = new Block(header, txs, lastCommit, evItems.map(createEvidenceFromValues));
  // The decoder accepts only canonical RLP, so a re-encoding would give back exactly `bytes`.
  block.cacheSerialized(Uint8Array.from(bytes)); // a copy: `bytes` may view a reused network buffer
  return block;
}
