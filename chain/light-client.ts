/**
 * What a light client needs to trust an answer of `state_getProof` without trusting the node: rebuild
 * the header and commit from their JSON, check that the commit signs that header with > 2/3 of the
 * validator set whose hash the header carries, and that the proof leads to the header's stateRoot.
 * Pure checks over the data (no store, no network); the signature verifier is injected. The node
 * builds the answers with buildStateProofAnswer.
 */
import { EMPTY, fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { Address } from './address.js';
import type { Block } from './block.js';
import { CodecError } from './codec.js';
import { Commit, CommitFlag, type CommitSig } from './commit.js';
import { verifyCommit } from './commit-verify.js';
import { Header } from './header.js';
import type { SignatureVerifier } from './ledger/verifier.js';
import {
  proofFromJSON,
  proofToJSON,
  type StateProof,
  type StateProofJSON,
  verifyProof,
} from './state/proof.js';
import { type ValidatorInfo, validatorsHash } from './validators.js';

export type HeaderJSON = ReturnType<Header['toJSON']>;
export type CommitJSON = ReturnType<Commit['toJSON']>;
export interface ValidatorJSON {
  address: string;
  publicKey: string;
  power: string;
}

function bytes(v: unknown, what: string, length?: number): Uint8Array {
  if (
    typeof v !== 'string' ||
    !/^0x([0-9a-fA-F]{2})*$/.test(v) ||
    (length !== undefined && v.length !== 2 + 2 * length)
  )
    throw new CodecError(
      'INVALID_FIELD',
      what,
      length === undefined ? 'expected 0x-hex' : `expected ${length} bytes of 0x-hex`,
    );
  return fromHex(v);
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new CodecError('INVALID_FIELD', what, 'expected a non-negative integer');
  return v;
}

/** The inverse of `Header.toJSON()` (extra fields such as `hash` are ignored). */
export function createHeaderFromJSON(j: HeaderJSON): Header {
  if (typeof j !== 'object' || j === null)
    throw new CodecError('INVALID_FIELD', 'header', 'expected an object');
  if (typeof j.chainId !== 'string')
    throw new CodecError('INVALID_FIELD', 'header.chainId', 'expected a string');
  const h = (k: keyof HeaderJSON) => bytes(j[k], `header.${k}`, 32);
  return new Header({
    chainId: j.chainId,
    height: uint(j.height, 'header.height'),
    time: uint(j.time, 'header.time'),
    prevHash: h('prevHash'),
    txRoot: h('txRoot'),
    stateRoot: h('stateRoot'),
    validatorsHash: h('validatorsHash'),
    nextValidatorsHash: h('nextValidatorsHash'),
    proposer: Address.fromString(j.proposer),
    lastCommitHash: h('lastCommitHash'),
    evidenceRoot: h('evidenceRoot'),
    receiptsRoot: h('receiptsRoot'),
  });
}

const FLAGS: Record<string, CommitFlag> = {
  commit: CommitFlag.Commit,
  nil: CommitFlag.Nil,
  absent: CommitFlag.Absent,
};

/** The inverse of `Commit.toJSON()`. */
export function createCommitFromJSON(j: CommitJSON): Commit {
  if (typeof j !== 'object' || j === null || !Array.isArray(j.signatures))
    throw new CodecError('INVALID_FIELD', 'commit', 'expected an object with signatures');
  const signatures = j.signatures.map((s, i): CommitSig => {
    const what = `commit.signatures[${i}]`;
    const flag = FLAGS[s?.flag];
    if (flag === undefined)
      throw new CodecError('INVALID_FIELD', `${what}.flag`, 'expected commit, nil or absent');
    if (flag === CommitFlag.Absent) return { flag, time: 0, signature: EMPTY };
    return {
      flag,
      time: uint(s.time, `${what}.time`),
      signature: bytes(s.signature, `${what}.signature`, 64),
    };
  });
  return new Commit(
    uint(j.height, 'commit.height'),
    uint(j.round, 'commit.round'),
    bytes(j.blockHash, 'commit.blockHash', 32),
    signatures,
  );
}

export function validatorFromJSON(j: ValidatorJSON): ValidatorInfo {
  if (typeof j?.power !== 'string' || !/^[1-9][0-9]*$/.test(j.power))
    throw new CodecError('INVALID_FIELD', 'validator.power', 'expected a positive decimal string');
  return {
    address: Address.fromString(j.address),
    publicKey: bytes(j.publicKey, 'validator.publicKey', 32),
    power: BigInt(j.power),
  };
}

export interface StateProofAnswer extends StateProofJSON {
  height: number;
  stateRoot: string;
  header: HeaderJSON & { hash?: string };
  commit: CommitJSON;
}

export class LightClientError extends CodecError {}

/** What a state proof answer is built from (the node's store and state tree). */
export interface ProofSource {
  headHeight(): number;
  getBlock(height: number): Promise<Block | undefined>;
  getCommit(height: number): Promise<Commit | undefined>;
  prove(key: Uint8Array, height: number): Promise<StateProof>;
}

/** The answer of `state_getProof` (and of `name_resolve`'s proof): proof, header and its commit. */
export async function buildStateProofAnswer(src: ProofSource, key: Uint8Array, height: number) {
  const unknown = (message: string) => new VosError({ code: 'UNKNOWN_HEIGHT', height }, message);
  if (height > src.headHeight()) throw unknown(`height ${height} is not committed yet`);
  if (height < 1) throw unknown('height 0 has no block: proofs start at height 1');
  const [block, commit] = await Promise.all([src.getBlock(height), src.getCommit(height)]);
  if (block === undefined || commit === undefined)
    throw unknown(`no block and commit stored for height ${height}`);
  const proof = await src.prove(key, height);
  return {
    height,
    stateRoot: toHex(block.header.stateRoot),
    header: { ...block.header.toJSON(), hash: toHex(block.hash()) },
    commit: commit.toJSON(),
    ...proofToJSON(proof),
  };
}

/**
 * Check a `state_getProof` answer against the validator set of its height (which the caller trusts,
 * e.g. from its own sync of validator-set changes). Returns the proven value (null = the key is absent).
 */
export async function verifyStateProofAnswer(
  chainId: string,
  key: Uint8Array,
  answer: StateProofAnswer,
  validators: readonly ValidatorInfo[],
  verifier: SignatureVerifier,
): Promise<Uint8Array | null> {
  const fail = (message: string) => new LightClientError('INVALID_FIELD', 'proof', message);
  const header = await verifySignedHeader(chainId, answer, validators, verifier, 'proof', (h) => {
    if (h.height !== answer.height) throw fail(`header is for height ${h.height}, not ${answer.height}`);
    if (toHex(h.stateRoot) !== answer.stateRoot) throw fail('stateRoot differs from the header');
  });
  const r = verifyProof(header.stateRoot, key, proofFromJSON(answer));
  if (!r.ok) throw fail(r.reason);
  return r.value;
}

/**
 * A header and the commit that signs it, checked against `validators` (which the caller trusts, or
 * checks after): the chain, the header's own hash, `check` (the caller's cheap checks, before any
 * signature is checked), the set is the one the header names, and > 2/3 of its power signed. Returns the header.
 */
export async function verifySignedHeader(
  chainId: string,
  signed: { header: HeaderJSON & { hash?: string }; commit: CommitJSON },
  validators: readonly ValidatorInfo[],
  verifier: SignatureVerifier,
  what: string,
  check?: (header: Header) => void,
): Promise<Header> {
  const fail = (message: string) => new LightClientError('INVALID_FIELD', what, message);
  const header = createHeaderFromJSON(signed.header);
  if (header.chainId !== chainId) throw fail(`header is for chain ${header.chainId}`);
  const hash = header.hash();
  if (signed.header.hash !== undefined && signed.header.hash !== toHex(hash))
    throw fail('header fields do not hash to header.hash');
  check?.(header);
  if (toHex(validatorsHash(validators)) !== toHex(header.validatorsHash))
    throw fail(`the validator set is not the one the header of height ${header.height} names`);
  await verifyCommit(chainId, validators, createCommitFromJSON(signed.commit), header.height, hash, verifier);
  return header;
}
