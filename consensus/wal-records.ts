/**
 * What the consensus WAL stores: every input before it is handled. rlp([kind, ...]):
 *   1 proposal   [1, proposalBytes, blockBytes]
 *   2 vote       [2, voteBytes]
 *   3 timeout    [3, kind (1 propose, 2 prevote, 3 precommit), height, round]
 *   4 own value  [4, height, round, blockBytes]  the block this node built as proposer
 */
import { type Block, createBlockFromRlp } from '../chain/block.js';
import { asBytes, asList, asNumber, CodecError, decodeRlp, encodeRlp } from '../chain/codec.js';
import { createProposalFromRlp, type Proposal } from '../chain/proposal.js';
import { createVoteFromRlp, type Vote } from '../chain/vote.js';
import type { TimeoutKind } from './engine/types.js';

export type WalRecord =
  | { kind: 'proposal'; proposal: Proposal; block: Block }
  | { kind: 'vote'; vote: Vote }
  | { kind: 'timeout'; timeout: TimeoutKind; height: number; round: number }
  | { kind: 'ownValue'; height: number; round: number; block: Block };

const TIMEOUT_CODES: Record<TimeoutKind, number> = { propose: 1, prevote: 2, precommit: 3 };
const TIMEOUT_KINDS: TimeoutKind[] = ['propose', 'prevote', 'precommit'];

export function encodeWalRecord(r: WalRecord): Uint8Array {
  switch (r.kind) {
    case 'proposal':
      return encodeRlp([1, r.proposal.serialize(), r.block.serialize()]);
    case 'vote':
      return encodeRlp([2, r.vote.serialize()]);
    case 'timeout':
      return encodeRlp([3, TIMEOUT_CODES[r.timeout], r.height, r.round]);
    case 'ownValue':
      return encodeRlp([4, r.height, r.round, r.block.serialize()]);
  }
}

export function decodeWalRecord(bytes: Uint8Array): WalRecord {
  const f = asList(decodeRlp(bytes, 'wal record'), 'wal record');
  const kind = asNumber(f[0], 'wal.kind', 255);
  switch (kind) {
    case 1:
      return {
        kind: 'proposal',
        proposal: createProposalFromRlp(asBytes(f[1], 'wal.proposal')),
        block: createBlockFromRlp(asBytes(f[2], 'wal.block')),
      };
    case 2:
      return { kind: 'vote', vote: createVoteFromRlp(asBytes(f[1], 'wal.vote')) };
    case 3: {
      const t = TIMEOUT_KINDS[asNumber(f[1], 'wal.timeout', 3) - 1];
      if (t === undefined) throw new CodecError('INVALID_FIELD', 'wal.timeout', 'unknown timeout kind');
      return {
        kind: 'timeout',
        timeout: t,
        height: asNumber(f[2], 'wal.height'),
        round: asNumber(f[3], 'wal.round'),
      };
    }
    case 4:
      return {
        kind: 'ownValue',
        height: asNumber(f[1], 'wal.height'),
        round: asNumber(f[2], 'wal.round'),
        block: createBlockFromRlp(asBytes(f[3], 'wal.block')),
      };
    default:
      throw new CodecError('INVALID_FIELD', 'wal.kind', `unknown record kind ${kind}`);
  }
}
