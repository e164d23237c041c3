/**
 * Proposal = the proposer's signed claim "block B at (height, round), with polRound". Encoding:
 * rlp([height, round, polRound + 1, blockHash, time, proposer, sig]) (polRound -1 = none, stored as 0).
 */
import { toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address } from './address.js';
import { asBytes, asList, asNumber, decodeRlp, encodeRlp, type RlpInput, type RlpItem } from './codec.js';
import { sha256 } from './hash.js';
import { type PrivateKey, SIGNATURE_LENGTH, verifySignature } from './keys.js';
import { SignTag, signBytes } from './signing.js';

export interface ProposalData {
  height: number;
  round: number;
  /** Round of the proof-of-lock for blockHash, or -1. */
  polRound: number;
  blockHash: Uint8Array;
  time: number;
  proposer: Address;
}

export class Proposal implements ProposalData {
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly blockHash: Uint8Array;
  readonly time: number;
  readonly proposer: Address;
  readonly signature: Uint8Array;

  constructor(data: ProposalData, signature: Uint8Array) {
    this.height = data.height;
    this.round = data.round;
    this.polRound = data.polRound;
    this.blockHash = data.blockHash;
    this.time = data.time;
    this.proposer = data.proposer;
    this.signature = signature;
  }

  static sign(data: ProposalData, chainId: string, key: PrivateKey): Proposal {
    return new Proposal(data, key.sign(proposalSignBytes(data, chainId)));
  }

  signBytes(chainId: string): Uint8Array {
    return proposalSignBytes(this, chainId);
  }

  verify(chainId: string, publicKey: Uint8Array): boolean {
    return verifySignature(publicKey, this.signBytes(chainId), this.signature);
  }

  raw(): RlpInput[] {
    return [...proposalBody(this), this.signature];
  }

  serialize(): Uint8Array {
    return encodeRlp(this.raw());
  }

  hash(): Uint8Array {
    return sha256(this.serialize());
  }

  toJSON() {
    return {
      height: this.height,
      round: this.round,
      polRound: this.polRound,
      blockHash: toHex(this.blockHash),
      time: this.time,
      proposer: this.proposer.toString(),
      signature: toHex(this.signature),
    };
  }
}

function proposalBody(p: ProposalData): RlpInput[] {
  return [p.height, p.round, p.polRound + 1, p.blockHash, p.time, p.proposer.bytes];
}

export function proposalSignBytes(p: ProposalData, chainId: string): Uint8Array {
  return signBytes(SignTag.Proposal, chainId, encodeRlp(proposalBody(p)));
}

export function createProposalFromRlp(bytes: Uint8Array): Proposal {
  return createProposalFromValues(asList(decodeRlp(bytes, 'proposal'), 'proposal', 7));
}

export function createProposalFromValues(f: RlpItem[]): Proposal {
  const round = asNumber(f[1], 'proposal.round', 0xffffffff);
  const polRound = asNumber(f[2], 'proposal.polRound', round) - 1;
  return new Proposal(
    {
      height: asNumber(f[0], 'proposal.height'),
      round,
      polRound,
      blockHash: asBytes(f[3], 'proposal.blockHash', 32),
      time: asNumber(f[4], 'proposal.time'),
      proposer: new Address(asBytes(f[5], 'proposal.proposer', ADDRESS_LENGTH)),
    },
    asBytes(f[6], 'proposal.signature', SIGNATURE_LENGTH),
  );
}
