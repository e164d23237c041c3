/** Public face of the pure Tendermint engine. */
export {
  commitFromDecision,
  engineProposalFromProposal,
  engineVoteFromVote,
  voteDataFromEngineVote,
} from './commit.js';
export { type EngineOptions, type ProposerFn, TendermintEngine } from './engine.js';
export {
  applyRoundInput,
  initialRoundState,
  type RoundInput,
  type RoundOutput,
  type RoundTransition,
} from './round-state.js';
export * from './types.js';
export { type ApplyVoteResult, RoundVotes, VoteKeeper, type VoteKeeperOutput } from './vote-keeper.js';
