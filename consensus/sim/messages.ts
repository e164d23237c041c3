/**
 * What simulated validators send each other. Signatures are not modelled: the simulated network
 * authenticates the sender's validator index (twins share one), which is what a signature proves.
 */
import type { EngineProposal, EngineVote } from '../engine/types.js';

export type SimMessage =
  | { kind: 'proposal'; proposal: EngineProposal }
  | { kind: 'vote'; vote: EngineVote }
  /** Height gossip (the reactor's NewRoundStep): lets peers send a lagging node the commit it misses. */
  | { kind: 'status'; height: number; round: number }
  /** A polka a node holds (CometBFT: VoteSetMaj23 + the votes), so peers that saw a Byzantine's
   *  conflicting vote first still learn the +2/3 the value has. */
  | { kind: 'certificate'; votes: EngineVote[] }
  /** Catch-up for a node behind: the decided proposal and its commit (CometBFT gossips these too). */
  | { kind: 'catchup'; height: number; proposal: EngineProposal; commit: EngineVote[] };

/** The bytes a validator's signature would cover: what the signer guard compares. */
export function signBytesOf(m: EngineVote | EngineProposal): Uint8Array {
  const v = m.valueId === null ? 'nil' : Buffer.from(m.valueId).toString('hex');
  const text =
    'type' in m
      ? `vote/${m.type}/${m.height}/${m.round}/${v}`
      : `proposal/${m.height}/${m.round}/${m.validRound}/${v}`;
  return new TextEncoder().encode(text);
}
