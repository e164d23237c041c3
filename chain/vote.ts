/**
 * Vote = a signed prevote or precommit. Wire/hash encoding: rlp([type, height, round, blockHash, time,
 * validator, sig]); blockHash empty = nil. Sign bytes: signBytes(Vote, chainId, rlp(first six fields)).
 */
import { EMPTY, toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address } from './address.js';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  type RlpItem,
} from './codec.js';
import { sha256 } from './hash.js';
import { type PrivateKey, SIGNATURE_LENGTH, verifySignature } from './keys.js';
import { SignTag, signBytes, signBytesBody } from './signing.js';

export enum VoteType {
  Prevote = 1,
  Precommit = 2,
}

export interface VoteData {
  type: VoteType;
  height: number;
  round: number;
  /** 32-byte block hash, or null for a nil vote. */
  blockHash: Uint8Array | null;
  /** Unix time in ms. */
  time: number;
  validator: Address;
}

export class Vote implements VoteData {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  readonly time: number;
  readonly validator: Address;
  readonly signature: Uint8Array;
  #serialized: Uint8Array | undefined;

  constructor(data: VoteData, signature: Uint8Array) {
    this.type = data.type;
    this.height = data.height;
    this.round = data.round;
    this.blockHash = data.blockHash;
    this.time = data.time;
    this.validator = data.validator;
    this.signature = signature;
  }

  static sign(data: VoteData, chainId: string, key: PrivateKey): Vote {
    return new Vote(data, key.sign(voteSignBytes(data, chainId)));
  }

  signBytes(chainId: string): Uint8Array {
    return voteSignBytes(this, chainId);
  }

  verify(chainId: string, publicKey: Uint8Array): boolean {
    return verifySignature(publicKey, this.signBytes(chainId), this.signature);
  }

  raw(): RlpInput[] {
    return [...voteBody(this), this.signature];
  }

  serialize(): Uint8Array {
    if (this.#serialized === undefined) this.#serialized = encodeRlp(this.raw());
    return this.#serialized;
  }

  hash(): Uint8Array {
    return sha256(this.serialize());
  }

  toJSON() {
    return {
      type: this.type === VoteType.Prevote ? 'prevote' : 'precommit',
      height: this.height,
      round: this.round,
      blockHash: this.blockHash === null ? null : toHex(this.blockHash),
      time: this.time,
      validator: this.validator.toString(),
      signature: toHex(this.signature),
    };
  }
}

function voteBody(v: VoteData): RlpInput[] {
  return [v.type, v.height, v.round, v.blockHash ?? EMPTY, v.time, v.validator.bytes];
}

export function voteSignBytes(v: VoteData, chainId: string): Uint8Array {
  return signBytes(SignTag.Vote, chainId, encodeRlp(voteBody(v)));
}

/**
 * The vote whose sign bytes and signature the signer guard persisted (crash recovery: the vote was
 * signed but may never have reached the WAL). Null if the bytes are not a vote of this chain.
 */
export function voteFromSignBytes(bytes: Uint8Array, signature: Uint8Array, chainId: string): Vote | null {
  const body = signBytesBody(bytes, SignTag.Vote, chainId);
  if (body === null) return null;
  try {
    const fields = asList(decodeRlp(body, 'vote'), 'vote', 6);
    return createVoteFromValues([...fields, signature]);
  } catch {
    return null;
  }
}

export function createVoteFromRlp(bytes: Uint8Array): Vote {
  return createVoteFromValues(asList(decodeRlp(bytes, 'vote'), 'vote', 7));
}

export function createVoteFromValues(f: RlpItem[]): Vote {
  const type = asNumber(f[0], 'vote.type');
  if (type !== VoteType.Prevote && type !== VoteType.Precommit) {
    throw new CodecError('INVALID_FIELD', 'vote.type', `unknown vote type ${type}`);
  }
  const hash = asBoundedBytes(f[3], 'vote.blockHash', 32);
  if (hash.length !== 0 && hash.length !== 32) {
    throw new CodecError('INVALID_FIELD', 'vote.blockHash', 'must be 32 bytes or empty');
  }
  return new Vote(
    {
      type,
      height: asNumber(f[1], 'vote.height'),
      round: asNumber(f[2], 'vote.round', 0xffffffff),
      blockHash: hash.length === 0 ? null : hash,
      time: asNumber(f[4], 'vote.time'),
      validator: new Address(asBytes(f[5], 'vote.validator', ADDRESS_LENGTH)),
    },
    asBytes(f[6], 'vote.signature', SIGNATURE_LENGTH),
  );
}
