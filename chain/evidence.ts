/**
 * Evidence of misbehaviour, committed in blocks. Kind 1 = duplicate vote: two votes of one validator at
 * the same (height, round, type) for different blocks. Encoding: rlp([kind, voteA, voteB]) with voteA's
 * hash < voteB's hash (canonical order), so one equivocation has one encoding.
 */
import { compareBytes, equalBytes } from '../util/bytes.js';
import { asList, asNumber, CodecError, decodeRlp, encodeRlp, type RlpInput } from './codec.js';
import { sha256 } from './hash.js';
import { createVoteFromValues, type Vote } from './vote.js';

export enum EvidenceKind {
  DuplicateVote = 1,
}

export class DuplicateVoteEvidence {
  readonly kind = EvidenceKind.DuplicateVote;
  readonly voteA: Vote;
  readonly voteB: Vote;

  constructor(a: Vote, b: Vote) {
    const [x, y] = compareBytes(a.hash(), b.hash()) <= 0 ? [a, b] : [b, a];
    this.voteA = x;
    this.voteB = y;
  }

  /** Structural check (signatures are checked against the validator set by the ledger). */
  validateBasic(): string | null {
    const a = this.voteA;
    const b = this.voteB;
    if (a.height !== b.height || a.round !== b.round || a.type !== b.type)
      return 'votes are for different steps';
    if (!a.validator.equals(b.validator)) return 'votes are from different validators';
    const same =
      a.blockHash === null
        ? b.blockHash === null
        : b.blockHash !== null && equalBytes(a.blockHash, b.blockHash);
    if (same) return 'votes are for the same block';
    return null;
  }

  get height(): number {
    return this.voteA.height;
  }

  raw(): RlpInput[] {
    return [this.kind, this.voteA.raw(), this.voteB.raw()];
  }

  serialize(): Uint8Array {
    return encodeRlp(this.raw());
  }

  hash(): Uint8Array {
    return sha256(this.serialize());
  }

  toJSON() {
    return {
      kind: 'duplicate-vote',
      height: this.height,
      validator: this.voteA.validator.toString(),
      voteA: this.voteA.toJSON(),
      voteB: this.voteB.toJSON(),
    };
  }
}

export type Evidence = DuplicateVoteEvidence;

export function createEvidenceFromValues(item: ReturnType<typeof decodeRlp>): Evidence {
  const f = asList(item, 'evidence', 3);
  const kind = asNumber(f[0], 'evidence.kind', 0xff);
  if (kind !== EvidenceKind.DuplicateVote)
    throw new CodecError('INVALID_FIELD', 'evidence.kind', `unknown kind ${kind}`);
  const a = createVoteFromValues(asList(f[1], 'evidence.voteA', 7));
  const b = createVoteFromValues(asList(f[2], 'evidence.voteB', 7));
  const ev = new DuplicateVoteEvidence(a, b);
  if (ev.voteA !== a) throw new CodecError('INVALID_FIELD', 'evidence', 'votes not in canonical order');
  const err = ev.validateBasic();
  if (err !== null) throw new CodecError('INVALID_FIELD', 'evidence', err);
  return ev;
}

export function createEvidenceFromRlp(bytes: Uint8Array): Evidence {
  return createEvidenceFromValues(decodeRlp(bytes, 'evidence'));
}
