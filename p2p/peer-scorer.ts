/**
 * Peer scores: every protocol reports invalid data here. A rejected message costs 10 points; at -30 the
 * peer is disconnected and refused for a minute. Errors marked PeerAction.Ignore cost nothing.
 */
import type { PeerId } from '@libp2p/interface';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { VosHost } from './host.js';

const PENALTY = 10;
const BAN_SCORE = -30;
const BAN_MS = 60_000;

export class PeerScorer {
  readonly #score = new Map<string, number>();
  readonly #banned = new Map<string, number>();
  /** Peers disconnected for bad behaviour (metrics, tests). */
  disconnects = 0;

  constructor(
    private readonly host: VosHost,
    private readonly logger?: Logger,
    private readonly hooks: { onPenalty?: (protocol: string) => void; onBan?: () => void } = {},
  ) {}

  isBanned(peer: PeerId): boolean {
    const until = this.#banned.get(peer.toString());
    return until !== undefined && until > Date.now();
  }

  penalise(peer: PeerId, err: unknown, protocol: string): void {
    const action = err instanceof VosError ? err.peerAction : PeerAction.Reject;
    if (action === PeerAction.Ignore) return;
    const key = peer.toString();
    this.hooks.onPenalty?.(protocol);
    const score = (this.#score.get(key) ?? 0) - PENALTY;
    this.#score.set(key, score);
    this.logger?.debug(
      { peer: key, protocol, score, err: String((err as Error)?.message ?? err) },
      'invalid data from peer',
    );
    if (score > BAN_SCORE) return;
    this.logger?.warn({ peer: key, protocol }, 'disconnecting a peer that keeps sending invalid data');
    this.#banned.set(key, Date.now() + BAN_MS);
    this.#score.delete(key);
    this.disconnects++;
    this.hooks.onBan?.();
    void this.host.hangUp(peer).catch(() => undefined);
  }

  // ---- operator controls (admin_ RPC methods) ----

  /** The peer's penalty score (0 = clean). */
  scoreOf(peer: PeerId): number {
    return this.#score.get(peer.toString()) ?? 0;
  }

  /** Peers refused now, with the Unix ms their ban ends. */
  bans(): { peer: string; until: number }[] {
    const now = Date.now();
    return [...this.#banned].filter(([, until]) => until > now).map(([peer, until]) => ({ peer, until }));
  }

  /** Disconnect a peer and refuse it for `ms`; returns when the ban ends (Unix ms). */
  ban(peer: PeerId, ms: number): number {
    const until = Date.now() + ms;
    this.#banned.set(peer.toString(), until);
    this.logger?.warn(
      { peer: peer.toString(), until: new Date(until).toISOString() },
      'peer banned by the operator',
    );
    void this.host.hangUp(peer).catch(() => undefined);
    return until;
  }

  /** Lift a ban and reset the score; false when the peer was not banned. */
  unban(peer: PeerId): boolean {
    const key = peer.toString();
    this.#score.delete(key);
    const was = this.isBanned(peer);
    this.#banned.delete(key);
    return was;
  }
}
