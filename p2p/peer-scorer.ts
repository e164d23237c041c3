/**
 * Peer scores: every protocol reports invalid data here. A rejected message costs 10 points; at -30 the
 * peer is disconnected and refused for a while. Errors marked PeerAction.Ignore cost nothing.
 *
 * Scores decay back toward 0 (one point per `decayMs`, 6 s by default: a fault is forgiven after a
 * minute), so occasional faults over days never add up to a ban; only a burst does. Bans expire: the
 * first lasts `banMs`, each further one within `banMemoryMs` of the last doubles it, up to `maxBanMs`.
 * At most `maxPeers` records are kept; a full table forgets a forgiven peer first, a banned one last.
 */
import type { PeerId } from '@libp2p/interface';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { VosHost } from './host.js';

export interface PeerScorerOptions {
  host: Pick<VosHost, 'hangUp'>;
  logger?: Logger;
  onPenalty?: (protocol: string) => void;
  onBan?: () => void;
  /** Clock (ms); injected by tests. */
  now?: () => number;
  penalty?: number;
  banScore?: number;
  decayMs?: number;
  banMs?: number;
  maxBanMs?: number;
  /** A peer with no ban for this long starts again from the shortest ban. */
  banMemoryMs?: number;
  maxPeers?: number;
}

interface PeerRecord {
  /** Score (<= 0) as of `at`. */
  score: number;
  at: number;
  bannedUntil: number;
  /** Bans in a row (see banMemoryMs). */
  bans: number;
}

const DEFAULTS = {
  penalty: 10,
  banScore: -30,
  decayMs: 6_000,
  banMs: 60_000,
  maxBanMs: 60 * 60_000,
  banMemoryMs: 24 * 60 * 60_000,
  maxPeers: 10_000,
};

export class PeerScorer {
  readonly #o: typeof DEFAULTS;
  readonly #host: Pick<VosHost, 'hangUp'>;
  readonly #logger: Logger | undefined;
  readonly #hooks: Pick<PeerScorerOptions, 'onPenalty' | 'onBan'>;
  readonly #now: () => number;
  readonly #peers = new Map<string, PeerRecord>();
  /** Peers disconnected for bad behaviour (metrics, tests). */
  disconnects = 0;

  constructor(o: PeerScorerOptions) {
    this.#host = o.host;
    this.#logger = o.logger;
    this.#hooks = { onPenalty: o.onPenalty, onBan: o.onBan };
    this.#now = o.now ?? Date.now;
    this.#o = {
      penalty: o.penalty ?? DEFAULTS.penalty,
      banScore: o.banScore ?? DEFAULTS.banScore,
      decayMs: o.decayMs ?? DEFAULTS.decayMs,
      banMs: o.banMs ?? DEFAULTS.banMs,
      maxBanMs: o.maxBanMs ?? DEFAULTS.maxBanMs,
      banMemoryMs: o.banMemoryMs ?? DEFAULTS.banMemoryMs,
      maxPeers: o.maxPeers ?? DEFAULTS.maxPeers,
    };
  }

  /** Peers with a record (bounded by maxPeers). */
  get size(): number {
    return this.#peers.size;
  }

  isBanned(peer: PeerId | string): boolean {
    const r = this.#peers.get(peer.toString());
    return r !== undefined && r.bannedUntil > this.#now();
  }

  /** The peer's current score (0 = clean; decays back toward 0). */
  score(peer: PeerId | string): number {
    const r = this.#peers.get(peer.toString());
    if (r === undefined) return 0;
    this.#settle(r, this.#now());
    return r.score;
  }

  penalise(peer: PeerId, err: unknown, protocol: string): void {
    const action = err instanceof VosError ? err.peerAction : PeerAction.Reject;
    if (action === PeerAction.Ignore) return;
    const key = peer.toString();
    const now = this.#now();
    this.#hooks.onPenalty?.(protocol);
    let r = this.#peers.get(key);
    if (r === undefined) {
      this.#makeRoom();
      r = { score: 0, at: now, bannedUntil: 0, bans: 0 };
      this.#peers.set(key, r);
    }
    this.#settle(r, now);
    if (r.score === 0) r.at = now;
    r.score -= this.#o.penalty;
    this.#logger?.debug(
      { peer: key, protocol, score: r.score, err: String((err as Error)?.message ?? err) },
      'invalid data from peer',
    );
    if (r.score > this.#o.banScore) return;
    if (r.bannedUntil !== 0 && now - r.bannedUntil > this.#o.banMemoryMs) r.bans = 0;
    r.bans++;
    const ms = Math.min(this.#o.maxBanMs, this.#o.banMs * 2 ** Math.min(30, r.bans - 1));
    r.bannedUntil = now + ms;
    r.score = 0;
    this.#logger?.warn(
      { peer: key, protocol, banMs: ms },
      'disconnecting a peer that keeps sending invalid data',
    );
    this.disconnects++;
    this.#hooks.onBan?.();
    void Promise.resolve(this.#host.hangUp(peer)).catch(() => undefined);
  }

  /** Apply the decay: one whole point per decayMs since `at` (the fraction carries over). */
  #settle(r: PeerRecord, now: number): void {
    const steps = Math.floor((now - r.at) / this.#o.decayMs);
    if (steps <= 0) return;
    r.score = Math.min(0, r.score + steps);
    r.at = r.score === 0 ? now : r.at + steps * this.#o.decayMs;
  }

  /** A record no longer needed: forgiven, not banned, and its ban streak forgotten. */
  #forgotten(r: PeerRecord, now: number): boolean {
    this.#settle(r, now);
    return r.score === 0 && r.bannedUntil <= now && now - r.bannedUntil > this.#o.banMemoryMs;
  }

  /**
   * PERF: runs only when the table is full; one pass drops every forgotten record, else the oldest
   * unbanned one, else the oldest.
   */
  #makeRoom(): void {
    if (this.#peers.size < this.#o.maxPeers) return;
    const now = this.#now();
    let unbanned: string | undefined;
    for (const [k, r] of this.#peers) {
      if (this.#forgotten(r, now)) this.#peers.delete(k);
      else if (unbanned === undefined && r.bannedUntil <= now) unbanned = k;
    }
    if (this.#peers.size < this.#o.maxPeers) return;
    this.#peers.delete(unbanned ?? (this.#peers.keys().next().value as string));
  }

  // ---- operator controls (admin_ RPC methods) ----

  /** The peer's penalty score (0 = clean). */
  scoreOf(peer: PeerId): number {
    return this.score(peer);
  }

  /** Peers refused now, with the Unix ms their ban ends. */
  bans(): { peer: string; until: number }[] {
    const now = this.#now();
    return [...this.#peers]
      .filter(([, r]) => r.bannedUntil > now)
      .map(([peer, r]) => ({ peer, until: r.bannedUntil }));
  }

  /** Disconnect a peer and refuse it for `ms`; returns when the ban ends (Unix ms). */
  ban(peer: PeerId, ms: number): number {
    const key = peer.toString();
    const now = this.#now();
    let r = this.#peers.get(key);
    if (r === undefined) {
      this.#makeRoom();
      r = { score: 0, at: now, bannedUntil: 0, bans: 0 };
      this.#peers.set(key, r);
    }
    r.bannedUntil = now + ms;
    this.#logger?.warn(
      { peer: key, until: new Date(r.bannedUntil).toISOString() },
      'peer banned by the operator',
    );
    void Promise.resolve(this.#host.hangUp(peer)).catch(() => undefined);
    return r.bannedUntil;
  }

  /** Lift a ban and reset the score and the ban streak; false when the peer was not banned. */
  unban(peer: PeerId): boolean {
    const was = this.isBanned(peer);
    this.#peers.delete(peer.toString());
    return was;
  }
}
