/**
 * Converting between the engine's light messages and the signed chain objects (chain/vote.ts,
 * chain/proposal.ts, chain/commit.ts). The engine itself never sees signatures except as opaque data.
 */
import type { Address } from '../../chain/address.js';
import { Commit, CommitFlag, type CommitSig } from '../../chain/commit.js';
import type { Proposal } from '../../chain/proposal.js';
import type { Vote, VoteData } from '../../chain/vote.js';
import { EMPTY } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import type { DecideAction, EngineProposal, EngineVote } from './types.js';

/** A signed chain vote as an engine vote; `validator` = the signer's index in that height's set. */
export function engineVoteFromVote(vote: Vote, validator: number): EngineVote {
  return {
    type: vote.type,
    height: vote.height,
    round: vote.round,
    validator,
    valueId: vote.blockHash,
    time: vote.time,
    signature: vote.signature,
  };
}

/** The chain vote data (to sign) of an engine vote from a `broadcastVote` action. */
export function voteDataFromEngineVote(v: EngineVote, validator: Address, time: number): VoteData {
  return { type: v.type, height: v.height, round: v.round, blockHash: v.valueId, time, validator };
}

/** A signed chain proposal as an engine proposal; `proposer` = the signer's index in that height's set. */
export function engineProposalFromProposal(p: Proposal, proposer: number): EngineProposal {
  return { height: p.height, round: p.round, validRound: p.polRound, valueId: p.blockHash, proposer };
}

/**
 * The Commit of a `decide` action: one signature slot per validator of the height (`validatorCount`),
 * CommitFlag.Commit for each precommit of the decision, Absent elsewhere. Every precommit must carry
 * its time and signature (engine votes built with engineVoteFromVote do).
 */
export function commitFromDecision(d: DecideAction, validatorCount: number): Commit {
  const signatures: CommitSig[] = Array.from({ length: validatorCount }, () => ({
    flag: CommitFlag.Absent,
    time: 0,
    signature: EMPTY,
  }));
  for (const v of d.commit) {
    if (v.signature === undefined || v.time === undefined) {
      throw new VosError(
        { code: 'COMMIT_VOTE_UNSIGNED', validator: v.validator },
        'decision precommit has no signature',
      );
    }
    if (v.validator < 0 || v.validator >= validatorCount) {
      throw new VosError(
        { code: 'COMMIT_VOTE_OUT_OF_RANGE', validator: v.validator },
        'validator out of range',
      );
    }
    signatures[v.validator] = { flag: CommitFlag.Commit, time: v.time, signature: v.signature };
  }
  return new Commit(d.height, d.round, d.valueId, signatures);
}
