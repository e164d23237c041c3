/**
 * One resource budget: every size limit of the chain and its network derives from the genesis params
 * (`maxBlockBytes`, `maxValidators`) and the real encodings, here, so a block the chain allows can
 * always be proposed, gossiped and synced, and nothing larger is ever buffered from a peer.
 *
 *   block      <= maxBlockBytes = header + txs + lastCommit + evidence (+ RLP list prefixes)
 *   proposer   reserves blockOverheadBytes(validators, evidence) and fills the rest with txs
 *   consensus  frame = protobuf envelope of rlp([proposal, block])
 *   block sync frame = rlp([block, commit]) with a commit of maxValidators signatures
 *   tx gossip  frame = rlp([tx, ...]) of at most TX_BATCH_MAX_BYTES (a sender flushes before that)
 *
 * Bounds are computed by encoding objects whose every field has its largest decodable value (numbers
 * at Number.MAX_SAFE_INTEGER, full-length hashes and signatures), so they hold for any valid object.
 */
import { ADDRESS_LENGTH, Address } from './address.js';
import { MAX_BLOCK_BYTES, MAX_EVIDENCE_PER_BLOCK } from './block.js';
import { encodeRlp } from './codec.js';
import { CommitFlag } from './commit.js';
import { HASH_LENGTH } from './hash.js';
import { Header } from './header.js';
import { SIGNATURE_LENGTH } from './keys.js';
import type { ChainParams } from './ledger/params.js';
import { MAX_TX_BYTES } from './tx/tx.js';
import { MAX_VALIDATORS } from './validators.js';

/** Hard cap on any frame a node reads from a peer, whatever the genesis says. */
export const MAX_FRAME_BYTES = 20 * 1024 * 1024;
/** Tx gossip: a batch carries at most this many txs and this many bytes of encoded txs. */
export const TX_BATCH_MAX_TXS = 1000;
export const TX_BATCH_MAX_BYTES = 1024 * 1024;
/** A tx gossip frame: rlp([tx, ...]) of at most TX_BATCH_MAX_BYTES of encoded txs. */
export const TX_BATCH_FRAME_BYTES = rlpPrefixLength(TX_BATCH_MAX_BYTES) + TX_BATCH_MAX_BYTES;
/** Bytes a tx adds to a block beyond its own (its RLP string prefix, <= 4 for MAX_TX_BYTES). */
export const TX_IN_BLOCK_OVERHEAD = 8;
/**
 * Protobuf envelope of a consensus message: tag + varint kind (<= 5) + tag + varint length (<= 5).
 * consensus/reactor.ts checks this against its real encoding in its test.
 */
export const ENVELOPE_OVERHEAD = 12;

/** Length of the RLP prefix of a string or list whose payload is `len` bytes. */
export function rlpPrefixLength(len: number): number {
  if (len < 56) return 1;
  let n = 1;
  for (let l = len; l >= 256; l = Math.floor(l / 256)) n++;
  return 1 + n;
}

const MAX_NUM = Number.MAX_SAFE_INTEGER;
const HASH = new Uint8Array(HASH_LENGTH).fill(0xff);
const SIG = new Uint8Array(SIGNATURE_LENGTH).fill(0xff);
const ADDR = new Uint8Array(ADDRESS_LENGTH).fill(0xff);
const ROUND_MAX = 0xffffffff;

/** The largest encoded header (chain id of 50 chars, every number and hash at its maximum). */
export const MAX_HEADER_BYTES = new Header({
  chainId: 'z'.repeat(50),
  height: MAX_NUM,
  time: MAX_NUM,
  prevHash: HASH,
  txRoot: HASH,
  stateRoot: HASH,
  validatorsHash: HASH,
  nextValidatorsHash: HASH,
  proposer: new Address(ADDR),
  lastCommitHash: HASH,
  evidenceRoot: HASH,
  receiptsRoot: HASH,
}).serialize().length;

/** One commit signature [flag, time, signature] at its largest. */
const COMMIT_SIG_BYTES = encodeRlp([CommitFlag.Nil, MAX_NUM, SIG]).length;
/** A commit's height, round and block hash at their largest. */
const COMMIT_FIELDS_BYTES = encodeRlp(MAX_NUM).length + encodeRlp(ROUND_MAX).length + encodeRlp(HASH).length;
const MAX_VOTE_RAW = [2, MAX_NUM, ROUND_MAX, HASH, MAX_NUM, ADDR, SIG];
/** The largest vote and duplicate-vote evidence. */
export const MAX_VOTE_BYTES = encodeRlp(MAX_VOTE_RAW).length;
export const MAX_EVIDENCE_BYTES = encodeRlp([1, MAX_VOTE_RAW, MAX_VOTE_RAW]).length;
/** The largest proposal: rlp([height, round, polRound + 1, blockHash, time, proposer, sig]). */
export const MAX_PROPOSAL_BYTES = encodeRlp([MAX_NUM, ROUND_MAX, ROUND_MAX, HASH, MAX_NUM, ADDR, SIG]).length;

/** Upper bound of an encoded commit of `validators` signatures (grows linearly, ~77 bytes each). */
export function commitBytesBound(validators: number): number {
  const sigs = validators * COMMIT_SIG_BYTES;
  const payload = COMMIT_FIELDS_BYTES + rlpPrefixLength(sigs) + sigs;
  return rlpPrefixLength(payload) + payload;
}

/**
 * What a block holds besides its txs: list prefixes, the header, a last commit of `validators`
 * signatures and the given evidence. The proposer reserves this before adding txs (Ledger.buildBlock).
 */
export function blockOverheadBytes(
  validators: number,
  evidence: readonly { serialize(): Uint8Array }[] = [],
): number {
  // Block, tx and evidence lists: each prefix is at most that of a MAX_BLOCK_BYTES payload.
  const lists = 3 * rlpPrefixLength(MAX_BLOCK_BYTES);
  let ev = 0;
  for (const e of evidence) ev += e.serialize().length;
  return lists + MAX_HEADER_BYTES + commitBytesBound(validators) + ev;
}

/** The smallest maxBlockBytes that holds a full commit, full evidence and one tx of MAX_TX_BYTES. */
export function minBlockBytes(maxValidators: number): number {
  return (
    blockOverheadBytes(maxValidators) +
    MAX_EVIDENCE_PER_BLOCK * MAX_EVIDENCE_BYTES +
    MAX_TX_BYTES +
    TX_IN_BLOCK_OVERHEAD
  );
}

/** RLP of a list of byte strings of these lengths. */
function rlpListOfStrings(...lens: number[]): number {
  let payload = 0;
  for (const l of lens) payload += rlpPrefixLength(l) + l;
  return rlpPrefixLength(payload) + payload;
}

export interface FrameBudget {
  /** Max bytes of one block (genesis). */
  maxBlockBytes: number;
  /** A consensus frame: the envelope of a proposal with its block (votes and evidence are smaller). */
  consensusFrame: number;
  /** A block sync response frame: rlp([block, commit]). */
  blocksyncFrame: number;
  /** A tx gossip frame. */
  txBatchFrame: number;
}

/** The frame limits of a chain with these params. */
export function frameBudget(params: Pick<ChainParams, 'maxBlockBytes' | 'maxValidators'>): FrameBudget {
  const block = params.maxBlockBytes;
  return {
    maxBlockBytes: block,
    consensusFrame:
      ENVELOPE_OVERHEAD +
      Math.max(rlpListOfStrings(MAX_PROPOSAL_BYTES, block), MAX_EVIDENCE_BYTES, MAX_VOTE_BYTES),
    blocksyncFrame: rlpListOfStrings(block, commitBytesBound(params.maxValidators)),
    txBatchFrame: TX_BATCH_FRAME_BYTES,
  };
}

/**
 * Why these params make a chain that cannot work (null when they are fine): a block above the hard
 * cap, a block too small for a full commit of maxValidators plus one max-size tx, or frames above
 * MAX_FRAME_BYTES (a block that could be committed but not gossiped or synced).
 */
export function budgetProblem(
  params: Pick<ChainParams, 'maxBlockBytes' | 'maxValidators'>,
): { field: string; message: string } | null {
  if (params.maxValidators < 1 || params.maxValidators > MAX_VALIDATORS)
    return { field: 'params.maxValidators', message: `must be in [1, ${MAX_VALIDATORS}]` };
  if (params.maxBlockBytes > MAX_BLOCK_BYTES)
    return { field: 'params.maxBlockBytes', message: `above the hard cap of ${MAX_BLOCK_BYTES} bytes` };
  const min = minBlockBytes(params.maxValidators);
  if (params.maxBlockBytes < min)
    return {
      field: 'params.maxBlockBytes',
      message:
        `${params.maxBlockBytes} cannot hold a commit of ${params.maxValidators} validators, ` +
        `full evidence and one ${MAX_TX_BYTES}-byte tx: at least ${min}`,
    };
  const f = frameBudget(params);
  for (const [name, size] of [
    ['consensus', f.consensusFrame],
    ['block sync', f.blocksyncFrame],
  ] as const) {
    if (size > MAX_FRAME_BYTES)
      return {
        field: 'params.maxBlockBytes',
        message: `a ${name} frame of ${size} bytes would exceed the ${MAX_FRAME_BYTES}-byte frame cap`,
      };
  }
  return null;
}
