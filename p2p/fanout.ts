/**
 * A fan-out protocol: one long-lived outbound stream per peer carrying length-prefixed frames, inbound
 * streams read frame by frame into a handler. Errors a handler throws are scored against the sending
 * peer (PeerScorer); banned peers' streams are refused. Used by consensus (votes, proposals) and txs.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { PeerAction, VosError } from '../util/errors.js';
import { frame, readFrames } from './framing.js';
import type { VosHost } from './host.js';
import type { PeerScorer } from './peer-scorer.js';
import { PeerRateLimiter } from './rate-limit.js';

class RateLimitError extends VosError<{ code: 'PEER_RATE_LIMITED'; protocol: string }> {
  constructor(protocol: string) {
    super({ code: 'PEER_RATE_LIMITED', protocol }, `over the message rate of ${protocol}`, {
      peerAction: PeerAction.Reject,
    });
  }
}

export interface FanoutOptions {
  host: VosHost;
  protocol: string;
  maxFrameBytes: number;
  scorer: PeerScorer;
  /** Handle one inbound frame; throw a VosError (with a peer action) for invalid data. */
  onFrame: (payload: Uint8Array, from: PeerId) => Promise<void>;
  /** Called for each new peer (e.g. to send it recent messages). */
  onPeer?: (peer: PeerId) => void;
  /** Frames per second a peer may send (sustained, and burst). */
  rateLimit: { perSec: number; burst: number };
}

export class Fanout {
  readonly #o: FanoutOptions;
  readonly #out = new Map<string, Stream>();
  readonly #opening = new Map<string, Promise<Stream | null>>();
  #stopped = false;
  readonly #limiter: PeerRateLimiter;

  constructor(o: FanoutOptions) {
    this.#o = o;
    this.#limiter = new PeerRateLimiter(o.rateLimit.perSec, o.rateLimit.burst);
  }

  async start(): Promise<void> {
    const host = this.#o.host;
    await host.handle(this.#o.protocol, (stream, conn) => void this.#inbound(stream, conn), {
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
    });
    host.addEventListener('peer:connect', (evt) => this.#o.onPeer?.(evt.detail));
    host.addEventListener('peer:disconnect', (evt) => this.#out.delete(evt.detail.toString()));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#o.host.unhandle(this.#o.protocol).catch(() => undefined);
  }

  /** Frame `payload` once and send it to every connected peer (or only `to`). */
  broadcast(payload: Uint8Array, except?: PeerId): void {
    const bytes = frame(payload);
    for (const conn of this.#o.host.getConnections()) {
      if (except !== undefined && conn.remotePeer.equals(except)) continue;
      void this.sendFramed(conn.remotePeer, bytes);
    }
  }

  async sendFramed(peer: PeerId, bytes: Uint8Array): Promise<void> {
    if (this.#stopped) return;
    const stream = await this.#streamTo(peer);
    if (stream === null) return;
    try {
      if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(5000) });
    } catch {
      this.#out.delete(peer.toString());
      stream.abort(new Error('send failed'));
    }
  }

  #streamTo(peer: PeerId): Promise<Stream | null> {
    const key = peer.toString();
    const open = this.#out.get(key);
    if (open !== undefined && open.status === 'open') return Promise.resolve(open);
    let p = this.#opening.get(key);
    if (p === undefined) {
      p = this.#o.host
        .dialProtocol(peer, this.#o.protocol, { signal: AbortSignal.timeout(5000) })
        .then((s) => {
          this.#out.set(key, s);
          return s;
        })
        .catch(() => null)
        .finally(() => this.#opening.delete(key));
      this.#opening.set(key, p);
    }
    return p;
  }

  async #inbound(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer;
    const scorer = this.#o.scorer;
    if (scorer.isBanned(peer)) {
      stream.abort(new Error('banned'));
      return;
    }
    try {
      const key = peer.toString();
      for await (const bytes of readFrames(stream, this.#o.maxFrameBytes)) {
        if (this.#stopped) break;
        if (!this.#limiter.take(key)) {
          scorer.penalise(peer, new RateLimitError(this.#o.protocol), this.#o.protocol);
          continue;
        }
        await this.#o.onFrame(bytes, peer).catch((err) => scorer.penalise(peer, err, this.#o.protocol));
      }
    } catch (err) {
      scorer.penalise(peer, err, this.#o.protocol);
      stream.abort(err as Error);
    }
  }
}
