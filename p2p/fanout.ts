/**
 * A fan-out protocol: one long-lived outbound stream per peer carrying length-prefixed frames, inbound
 * streams read frame by frame into a handler. Errors a handler throws are scored against the sending
 * peer (PeerScorer); banned peers' streams are refused. Used by consensus (votes, proposals) and txs.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { PeerAction, VosError } from '../util/errors.js';
import { kindOf, openStream, pickConnection, type TransportKind } from './connections.js';
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
  /** The connection kind outbound streams prefer (connections.ts); a send may override it. */
  transport: TransportKind;
}

export class Fanout {
  readonly #o: FanoutOptions;
  /** Outbound streams by `<peer> <preferred kind>`, with the kind of connection they run on. */
  readonly #out = new Map<string, { stream: Stream; kind: TransportKind }>();
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
    // A new TCP (or relayed) connection is a new peer or a restarted one (QUIC ones follow TCP).
    host.addEventListener('connection:open', (evt) => {
      if (kindOf(evt.detail) !== 'quic') this.#o.onPeer?.(evt.detail.remotePeer);
    });
    host.addEventListener('peer:disconnect', (evt) => {
      const peer = evt.detail.toString();
      for (const kind of ['tcp', 'quic', 'relay']) this.#out.delete(`${peer} ${kind}`);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#o.host.unhandle(this.#o.protocol).catch(() => undefined);
  }

  /** Frame `payload` once and send it to every connected peer (or only `to`). */
  broadcast(payload: Uint8Array, except?: PeerId, transport = this.#o.transport): void {
    const bytes = frame(payload);
    // Once per peer, whatever its connections (a peer may have a TCP and a QUIC one).
    for (const peer of this.#o.host.getPeers()) {
      if (except !== undefined && peer.equals(except)) continue;
      void this.sendFramed(peer, bytes, transport);
    }
  }

  async sendFramed(peer: PeerId, bytes: Uint8Array, transport = this.#o.transport): Promise<void> {
    if (this.#stopped) return;
    const key = `${peer.toString()} ${transport}`;
    const stream = await this.#streamTo(peer, key, transport);
    if (stream === null) return;
    try {
      if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(5000) });
    } catch {
      this.#out.delete(key);
      stream.abort(new Error('send failed'));
    }
  }

  #streamTo(peer: PeerId, key: string, transport: TransportKind): Promise<Stream | null> {
    const open = this.#out.get(key);
    if (open !== undefined && open.stream.status === 'open') {
      // Opened on a fallback connection: move to the preferred kind once that connection exists.
      const preferred = open.kind === transport ? undefined : pickConnection(this.#o.host, peer, transport);
      if (preferred === undefined || kindOf(preferred) !== transport) return Promise.resolve(open.stream);
      void open.stream.close().catch(() => undefined);
    }
    let p = this.#opening.get(key);
    if (p === undefined) {
      p = openStream(this.#o.host, peer, this.#o.protocol, transport, AbortSignal.timeout(5000))
        .then(({ stream, kind }) => {
          this.#out.set(key, { stream, kind });
          return stream;
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
