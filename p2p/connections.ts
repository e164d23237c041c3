/**
 * Transport choice per protocol. Measured here (bench/transport.bench.ts): QUIC carries small
 * messages (votes) ~3x faster than TCP + Noise + Yamux, but large frames (tx batches, blocks) several
 * times slower. So a node keeps both a TCP and a QUIC connection to each peer that offers both, and
 * each protocol opens its streams on the connection of its preferred kind, falling back to any.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { VosHost } from './host.js';

export type TransportKind = 'tcp' | 'quic' | 'relay';

export function kindOfAddr(addr: Multiaddr): TransportKind {
  const s = addr.toString();
  if (s.includes('/p2p-circuit')) return 'relay';
  return s.includes('/quic-v1') ? 'quic' : 'tcp';
}

export function kindOf(conn: Connection): TransportKind {
  return kindOfAddr(conn.remoteAddr);
}

/** Open connections by transport (a peer may have a TCP and a QUIC one). */
export function connectionKinds(host: VosHost | undefined): Record<TransportKind, number> {
  const out: Record<TransportKind, number> = { tcp: 0, quic: 0, relay: 0 };
  for (const c of host?.getConnections() ?? []) out[kindOf(c)]++;
  return out;
}

/** An open, unlimited connection to `peer` of kind `prefer`, else any open one. */
export function pickConnection(host: VosHost, peer: PeerId, prefer: TransportKind): Connection | undefined {
  let fallback: Connection | undefined;
  for (const c of host.getConnections(peer)) {
    if (c.status !== 'open') continue;
    if (kindOf(c) === prefer) return c;
    if (fallback === undefined || (fallback.limits !== undefined && c.limits === undefined)) fallback = c;
  }
  return fallback;
}

/**
 * A new stream for `protocol` to `peer`, on a connection of kind `prefer` when there is one.
 * `limited`: the protocol may run on a limited (relayed) connection too.
 */
export async function openStream(
  host: VosHost,
  peer: PeerId,
  protocol: string,
  prefer: TransportKind,
  signal: AbortSignal,
  opts: { limited?: boolean } = {},
): Promise<{ stream: Stream; kind: TransportKind }> {
  let conn = pickConnection(host, peer, prefer);
  if (conn === undefined) conn = await host.dial(peer, { signal });
  const stream = await conn.newStream(protocol, { signal, runOnLimitedConnection: opts.limited === true });
  return { stream, kind: kindOf(conn) };
}

/**
 * Keeps a QUIC connection beside the TCP one to every peer that announces a QUIC address. Only the
 * peer with the smaller id dials it, so two peers do not open two. A failed dial is retried on the
 * next identify or after `retryMs`.
 */
export class QuicKeeper {
  readonly #host: VosHost;
  readonly #dialing = new Set<string>();
  readonly #failedAt = new Map<string, number>();
  readonly #retryMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(host: VosHost, retryMs = 10_000) {
    this.#host = host;
    this.#retryMs = retryMs;
  }

  start(): void {
    this.#host.addEventListener('peer:identify', (evt) => this.#ensure(evt.detail.peerId));
    this.#host.addEventListener('connection:open', (evt) => this.#dropStale(evt.detail));
    this.#timer = setInterval(() => {
      for (const peer of this.#host.getPeers()) this.#ensure(peer);
    }, this.#retryMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * UDP has no reset: when a peer restarts, our QUIC connection to its old process looks open until
   * the idle timeout and swallows what we send. A new TCP connection from the same peer id while an
   * older QUIC connection exists means exactly that: close the old one (and dial a fresh one).
   */
  #dropStale(conn: Connection): void {
    if (kindOf(conn) !== 'tcp') return;
    for (const c of this.#host.getConnections(conn.remotePeer)) {
      if (kindOf(c) === 'quic' && c.timeline.open < conn.timeline.open)
        void c.close().catch(() => c.abort(new Error('stale')));
    }
    this.#failedAt.delete(conn.remotePeer.toString());
  }

  #ensure(peer: PeerId): void {
    const host = this.#host;
    const key = peer.toString();
    if (key >= host.peerId.toString() || this.#dialing.has(key)) return;
    if (Date.now() - (this.#failedAt.get(key) ?? 0) < this.#retryMs) return;
    const conns = host.getConnections(peer);
    if (conns.length === 0 || conns.some((c) => kindOf(c) === 'quic' && c.status === 'open')) return;
    void (async () => {
      this.#dialing.add(key);
      try {
        const info = await host.peerStore.get(peer);
        const quicAddr = info.addresses.map((a) => a.multiaddr).find((a) => kindOfAddr(a) === 'quic');
        if (quicAddr === undefined) return;
        const target = quicAddr.getComponents().some((c) => c.name === 'p2p')
          ? quicAddr
          : quicAddr.encapsulate(`/p2p/${key}`);
        await host.dial(target, { force: true, signal: AbortSignal.timeout(5000) });
      } catch {
        this.#failedAt.set(key, Date.now());
      } finally {
        this.#dialing.delete(key);
      }
    })();
  }
}
