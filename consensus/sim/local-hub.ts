/**
 * In-process transport for several ConsensusDrivers in one process (tests, the simulator's node-level
 * runs): every broadcast reaches every other member asynchronously, after an optional delay. Members
 * can be disconnected (a crashed or partitioned node) and a filter can drop or observe messages.
 * Invalid messages are rejected by the receiving driver exactly as from a network peer.
 */
import type { Block } from '../../chain/block.js';
import type { Evidence } from '../../chain/evidence.js';
import type { Proposal } from '../../chain/proposal.js';
import type { Vote } from '../../chain/vote.js';
import type { ConsensusTransport } from '../driver.js';

export interface HubMember {
  onProposal(proposal: Proposal, block: Block): Promise<void>;
  onVote(vote: Vote): Promise<void>;
  onEvidence(ev: Evidence): Promise<void>;
}

export type HubMessage =
  | { kind: 'proposal'; proposal: Proposal; block: Block }
  | { kind: 'vote'; vote: Vote }
  | { kind: 'evidence'; evidence: Evidence };

export class LocalHub {
  readonly #members = new Map<string, HubMember>();
  /** Return false to drop a message from `from` to `to`. */
  filter: ((from: string, to: string, msg: HubMessage) => boolean) | null = null;
  delayMs: number;
  /** Messages delivered, by kind (for tests). */
  readonly delivered = { proposal: 0, vote: 0, evidence: 0 };

  constructor(opts: { delayMs?: number } = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  join(name: string, member: HubMember): void {
    this.#members.set(name, member);
  }

  leave(name: string): void {
    this.#members.delete(name);
  }

  transportFor(name: string): ConsensusTransport {
    return {
      broadcastProposal: (proposal, block) => this.send(name, { kind: 'proposal', proposal, block }),
      broadcastVote: (vote) => this.send(name, { kind: 'vote', vote }),
      broadcastEvidence: (evidence) => this.send(name, { kind: 'evidence', evidence }),
    };
  }

  /** Deliver `msg` from `from` to every other member (or only `to`). */
  send(from: string, msg: HubMessage, to?: string): void {
    for (const [name, m] of this.#members) {
      if (name === from || (to !== undefined && name !== to)) continue;
      if (this.filter !== null && !this.filter(from, name, msg)) continue;
      const deliver = () => {
        if (this.#members.get(name) !== m) return; // left meanwhile
        this.delivered[msg.kind]++;
        const p =
          msg.kind === 'proposal'
            ? m.onProposal(msg.proposal, msg.block)
            : msg.kind === 'vote'
              ? m.onVote(msg.vote)
              : m.onEvidence(msg.evidence);
        // A rejected message is the sender's problem (a real transport would penalise the peer).
        p.catch(() => undefined);
      };
      if (this.delayMs > 0) setTimeout(deliver, this.delayMs).unref?.();
      else setImmediate(deliver);
    }
  }
}
