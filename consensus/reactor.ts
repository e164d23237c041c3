/**
 * The consensus reactor: the only consensus file that knows the P2P layer. It implements the driver's
 * ConsensusTransport over libp2p: protocol `/vos/<chainId>/consensus/1`, one long-lived stream per peer
 * and direction, length-prefixed protobuf envelopes carrying the canonical RLP of a proposal (+ block),
 * vote or evidence. Direct fan-out to every connected peer; a peer that connects late gets the recent
 * messages of the height in progress. Invalid data lowers the peer's score; below the threshold the
 * peer is disconnected and refused for a while. Nothing a peer sends can crash the node.
 */
import { multiaddr } from '@multiformats/multiaddr';
import protobuf from 'protobufjs';
import { type Block, createBlockFromRlp } from '../chain/block.js';
import { decodeRlp, encodeRlp } from '../chain/codec.js';
import { createEvidenceFromRlp, type Evidence } from '../chain/evidence.js';
import { createProposalFromRlp, type Proposal } from '../chain/proposal.js';
import { createVoteFromRlp, type Vote } from '../chain/vote.js';
import type { TransportKind } from '../p2p/connections.js';
import { Fanout } from '../p2p/fanout.js';
import { frame } from '../p2p/framing.js';
import type { VosHost } from '../p2p/host.js';
import type { PeerScorer } from '../p2p/peer-scorer.js';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { ConsensusDriver, ConsensusTransport } from './driver.js';

export enum Kind {
  Proposal = 1,
  Vote = 2,
  Evidence = 3,
}

const Envelope = new protobuf.Type('Envelope')
  .add(new protobuf.Field('kind', 1, 'uint32'))
  .add(new protobuf.Field('payload', 2, 'bytes'));

const RECENT = 512;

/** The wire bytes of one consensus message (before framing). */
export function encodeEnvelope(kind: Kind, payload: Uint8Array): Uint8Array {
  return Envelope.encode(Envelope.create({ kind, payload })).finish();
}

export interface ReactorOptions {
  host: VosHost;
  chainId: string;
  seeds: string[];
  scorer: PeerScorer;
  /** Max frame: frameBudget(params).consensusFrame (chain/budget.ts), a proposal with a full block. */
  maxFrameBytes: number;
  logger?: Logger;
}

export class ConsensusReactor implements ConsensusTransport {
  readonly protocol: string;
  readonly #o: ReactorOptions;
  readonly #fanout: Fanout;
  #driver: ConsensusDriver | null = null;
  readonly #recent: { bytes: Uint8Array; transport: TransportKind }[] = [];
  #dialer: NodeJS.Timeout | null = null;

  constructor(o: ReactorOptions) {
    this.#o = o;
    this.protocol = `/vos/${o.chainId}/consensus/1`;
    this.#fanout = new Fanout({
      host: o.host,
      protocol: this.protocol,
      maxFrameBytes: o.maxFrameBytes,
      scorer: o.scorer,
      // Votes of up to 100 validators over a few rounds per second, with room for a catch-up burst.
      rateLimit: { perSec: 2000, burst: 4000 },
      // Votes and evidence are small: QUIC carries them ~3x faster. Proposals carry blocks: TCP.
      transport: 'quic',
      onFrame: (bytes) => this.#handle(bytes),
      // A new peer gets the recent messages (the height in progress).
      onPeer: (peer) => {
        void (async () => {
          for (const m of [...this.#recent]) await this.#fanout.sendFramed(peer, m.bytes, m.transport);
        })();
      },
    });
  }

  async start(driver: ConsensusDriver): Promise<void> {
    this.#driver = driver;
    await this.#fanout.start();
    const host = this.#o.host;
    const dial = () => {
      for (const addr of this.#o.seeds) {
        const id = addr.split('/p2p/')[1];
        if (id !== undefined && host.getPeers().some((p) => p.toString() === id)) continue;
        host.dial(multiaddr(addr)).catch(() => undefined);
      }
    };
    dial();
    this.#dialer = setInterval(dial, 2000);
    this.#dialer.unref();
  }

  async stop(): Promise<void> {
    if (this.#dialer !== null) clearInterval(this.#dialer);
    await this.#fanout.stop();
  }

  broadcastProposal(proposal: Proposal, block: Block): void {
    this.#broadcast(Kind.Proposal, encodeRlp([proposal.serialize(), block.serialize()]));
  }

  broadcastVote(vote: Vote): void {
    this.#broadcast(Kind.Vote, vote.serialize());
  }

  broadcastEvidence(ev: Evidence): void {
    this.#broadcast(Kind.Evidence, ev.serialize());
  }

  #broadcast(kind: Kind, payload: Uint8Array): void {
    const env = encodeEnvelope(kind, payload);
    const transport: TransportKind = kind === Kind.Proposal ? 'tcp' : 'quic';
    this.#recent.push({ bytes: frame(env), transport });
    if (this.#recent.length > RECENT) this.#recent.shift();
    this.#fanout.broadcast(env, undefined, transport);
  }

  async #handle(bytes: Uint8Array): Promise<void> {
    const driver = this.#driver;
    if (driver === null) return;
    let env: { kind: number; payload: Uint8Array };
    try {
      env = Envelope.decode(bytes) as unknown as { kind: number; payload: Uint8Array };
    } catch (err) {
      throw new VosError({ code: 'BAD_ENVELOPE' }, 'undecodable envelope', {
        cause: err,
        peerAction: PeerAction.Reject,
      });
    }
    switch (env.kind) {
      case Kind.Proposal: {
        const parts = decodeRlp(env.payload, 'proposal message');
        if (!Array.isArray(parts) || parts.length !== 2 || Array.isArray(parts[0]) || Array.isArray(parts[1]))
          throw new VosError({ code: 'BAD_ENVELOPE' }, 'bad proposal message', {
            peerAction: PeerAction.Reject,
          });
        return driver.onProposal(createProposalFromRlp(parts[0]), createBlockFromRlp(parts[1]));
      }
      case Kind.Vote:
        return driver.onVote(createVoteFromRlp(env.payload));
      case Kind.Evidence:
        return driver.onEvidence(createEvidenceFromRlp(env.payload));
      default:
        throw new VosError({ code: 'BAD_ENVELOPE' }, `unknown kind ${env.kind}`, {
          peerAction: PeerAction.Reject,
        });
    }
  }
}
