/**
 * Commit = the precommits of > 2/3 of the voting power for one block, ordered by validator-set index.
 * Encoding: rlp([height, round, blockHash, [[flag, time, sig], ...]]). Each signature reconstructs the
 * validator's precommit vote (address from the validator set at that height) for verification.
 */

import { EMPTY, toHex } from '../util/bytes.js';
import type { Address } from './address.js';
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
import { SIGNATURE_LENGTH } from './keys.js';
import { MAX_VALIDATORS } from './validators.js';
import { type VoteData, VoteType, voteSignBytes } from './vote.js';

export enum CommitFlag {
  Absent = 0,
  Commit = 1,
  Nil = 2,
}

export interface CommitSig {
  flag: CommitFlag;
  time: number;
  signature: Uint8Array;
}

export class Commit {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSig[];
  #serialized: Uint8Array | undefined;

  constructor(height: number, round: number, blockHash: Uint8Array, signatures: readonly CommitSig[]) {
    this.height = height;
    this.round = round;
    this.blockHash = blockHash;
    this.signatures = signatures;
  }

  /** The precommit a signature at `index` stands for (its sign bytes are what was signed). */
  voteFor(index: number, validator: Address): VoteData {
    const s = this.signatures[index];
    return {
      type: VoteType.Precommit,
      height: this.height,
      round: this.round,
      blockHash: s.flag === CommitFlag.Commit ? this.blockHash : null,
      time: s.time,
      validator,
    };
  }

  voteSignBytes(index: number, validator: Address, chainId: string): Uint8Array {
    return voteSignBytes(this.voteFor(index, validator), chainId);
  }

  raw(): RlpInput[] {
    return [
      this.height,
      this.round,
      this.blockHash,
      this.signatures.map((s) => [s.flag, s.time, s.signature]),
    ];
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
      height: this.height,
      round: this.round,
      blockHash: toHex(this.blockHash),
      signatures: this.signatures.map((s) => ({
        flag: CommitFlag[s.flag].toLowerCase(),
        time: s.time,
        signature: s.flag === CommitFlag.Absent ? null : toHex(s.signature),
      })),
    };
  }
}

export function createCommitFromRlp(bytes: Uint8Array): Commit {
  return createCommitFromValues(asList(decodeRlp(bytes, 'commit'), 'commit', 4));
}

export function createCommitFromValues(f: RlpItem[]): Commit {
  const sigItems = asList(f[3], 'commit.signatures');
  if (sigItems.length > MAX_VALIDATORS)
    throw new CodecError('INVALID_FIELD', 'commit.signatures', 'too many');
  const signatures = sigItems.map((item, i): CommitSig => {
    const what = `commit.signatures[${i}]`;
    const s = asList(item, what, 3);
    const flag = asNumber(s[0], `${what}.flag`, 2) as CommitFlag;
    const time = asNumber(s[1], `${what}.time`);
    const signature =
      flag === CommitFlag.Absent
        ? asBoundedBytes(s[2], `${what}.signature`, 0)
        : asBytes(s[2], `${what}.signature`, SIGNATURE_LENGTH);
    if (flag === CommitFlag.Absent && time !== 0) {
      throw new CodecError('INVALID_FIELD', `${what}.time`, 'absent signature must have time 0');
    }
    return { flag, time, signature: flag === CommitFlag.Absent ? EMPTY : signature };
  });
  return new Commit(
    asNumber(f[0], 'commit.height'),
    asNumber(f[1], 'commit.round', 0xffffffff),
    asBytes(f[2], 'commit.blockHash', 32),
    signatures,
  );
}
