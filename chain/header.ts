/**
 * Block header. rlp([chainId, height, time, prevHash, txRoot, stateRoot, validatorsHash,
 * nextValidatorsHash, proposer, lastCommitHash, evidenceRoot, receiptsRoot]); hash = sha256(rlp).
 * stateRoot and receiptsRoot are the results of applying THIS block's txs.
 */
import { toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address } from './address.js';
import {
  asBytes,
  asList,
  asNumber,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  type RlpItem,
} from './codec.js';
import { HASH_LENGTH, sha256 } from './hash.js';
import { CHAIN_ID_RE } from './signing.js';

export interface HeaderFields {
  chainId: string;
  height: number;
  /** Unix time in ms. */
  time: number;
  prevHash: Uint8Array;
  txRoot: Uint8Array;
  stateRoot: Uint8Array;
  validatorsHash: Uint8Array;
  nextValidatorsHash: Uint8Array;
  proposer: Address;
  lastCommitHash: Uint8Array;
  evidenceRoot: Uint8Array;
  receiptsRoot: Uint8Array;
}

export class Header implements HeaderFields {
  readonly chainId!: string;
  readonly height!: number;
  readonly time!: number;
  readonly prevHash!: Uint8Array;
  readonly txRoot!: Uint8Array;
  readonly stateRoot!: Uint8Array;
  readonly validatorsHash!: Uint8Array;
  readonly nextValidatorsHash!: Uint8Array;
  readonly proposer!: Address;
  readonly lastCommitHash!: Uint8Array;
  readonly evidenceRoot!: Uint8Array;
  readonly receiptsRoot!: Uint8Array;
  #hash: Uint8Array | undefined;

  constructor(fields: HeaderFields) {
    Object.assign(this, fields);
  }

  raw(): RlpInput[] {
    return [
      this.chainId,
      this.height,
      this.time,
      this.prevHash,
      this.txRoot,
      this.stateRoot,
      this.validatorsHash,
      this.nextValidatorsHash,
      this.proposer.bytes,
      this.lastCommitHash,
      this.evidenceRoot,
      this.receiptsRoot,
    ];
  }

  serialize(): Uint8Array {
    return encodeRlp(this.raw());
  }

  hash(): Uint8Array {
    if (this.#hash === undefined) this.#hash = sha256(this.serialize());
    return this.#hash;
  }

  toJSON() {
    return {
      chainId: this.chainId,
      height: this.height,
      time: this.time,
      prevHash: toHex(this.prevHash),
      txRoot: toHex(this.txRoot),
      stateRoot: toHex(this.stateRoot),
      validatorsHash: toHex(this.validatorsHash),
      nextValidatorsHash: toHex(this.nextValidatorsHash),
      proposer: this.proposer.toString(),
      lastCommitHash: toHex(this.lastCommitHash),
      evidenceRoot: toHex(this.evidenceRoot),
      receiptsRoot: toHex(this.receiptsRoot),
    };
  }
}

export function createHeaderFromRlp(bytes: Uint8Array): Header {
  return createHeaderFromValues(asList(decodeRlp(bytes, 'header'), 'header', 12));
}

export function createHeaderFromValues(f: RlpItem[]): Header {
  const chainId = asString(f[0], 'header.chainId', 50);
  if (!CHAIN_ID_RE.test(chainId)) throw new CodecError('INVALID_FIELD', 'header.chainId', 'invalid chain id');
  const h = (i: number, what: string) => asBytes(f[i], `header.${what}`, HASH_LENGTH);
  return new Header({
    chainId,
    height: asNumber(f[1], 'header.height'),
    time: asNumber(f[2], 'header.time'),
    prevHash: h(3, 'prevHash'),
    txRoot: h(4, 'txRoot'),
    stateRoot: h(5, 'stateRoot'),
    validatorsHash: h(6, 'validatorsHash'),
    nextValidatorsHash: h(7, 'nextValidatorsHash'),
    proposer: new Address(asBytes(f[8], 'header.proposer', ADDRESS_LENGTH)),
    lastCommitHash: h(9, 'lastCommitHash'),
    evidenceRoot: h(10, 'evidenceRoot'),
    receiptsRoot: h(11, 'receiptsRoot'),
  });
}
