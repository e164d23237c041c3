/**
 * Block sync over `/vos/<chainId>/blocksync/1`: a node that is behind fetches blocks with their commits
 * from peers that are ahead, verifies each commit against the validator set of its height and applies
 * it through the consensus driver (which drops the height's consensus state and moves on).
 *
 * Wire (one request per stream, RLP in length-prefixed frames):
 *   request  [1]                  -> response [head height]
 *   request  [2, from, count]     -> response one frame per block: [block rlp, commit rlp], then end.
 *                                    A server may end early (its byte budget per response), never
 *                                    with no block when it has `from`.
 *
 * What a peer says is checked, not trusted:
 * - Target: the second-highest claimed head (a height at least two peers say they have), or, beyond
 *   it, at most STEP blocks past our head before the claims are asked again. A single peer claiming a
 *   head far above everyone else's cannot make the node wait on it forever.
 * - A peer that claims a head and then serves nothing for a height below it, serves blocks that do not
 *   verify, more or other blocks than asked, or stalls (no frame for `idleTimeoutMs`) is penalised and
 *   rested for COOLDOWN_MS; sync goes on with the next peer. A dropped stream costs no score.
 * - Memory is bounded: responses are decoded and applied frame by frame as they arrive; at most
 *   PIPELINE responses are in flight, each at most `responseBytes` (or one frame).
 * - Weak subjectivity (`trust`): while below the trusted height H, the node syncs only from peers whose
 *   block at H has the trusted hash (asked before anything is fetched from them); a peer that serves
 *   another block at H is penalised and never synced from, and block H is checked again when applied.
 * - Serving is rate-limited per peer: requests per second (a peer over it is refused and penalised)
 *   and bytes per second (the response is paced), and the blocks are read from the store in chunks.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { type Block, createBlockFromRlp } from '../chain/block.js';
import { asList, asNumber, decodeRlp, encodeRlp } from '../chain/codec.js';
import { type Commit, createCommitFromRlp } from '../chain/commit.js';
import { equalBytes, toHex } from '../util/bytes.js';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { openStream } from './connections.js';
import { frame, readFrames } from './framing.js';
import type { VosHost } from './host.js';
import { PeerRateLimiter } from './rate-limit.js';

const MAX_REQUEST = 64;
/** Blocks per request. */
export const SYNC_BATCH = 200;
/** Requests in flight while a batch is applied. */
const PIPELINE = 3;
/** Past the height two peers claim, sync at most this far before asking the peers again. */
export const STEP = 1000;
/** A peer that failed us is not asked again for this long. */
const COOLDOWN_MS = 30_000;
/** Commits handed to `preverify` at once while a response streams in. */
const PREVERIFY_CHUNK = 50;
const MAX_TRACKED_PEERS = 1000;

export type SyncErrorCode =
  | 'BAD_SYNC_RESPONSE'
  | 'BAD_SYNC_REQUEST'
  | 'SYNC_EMPTY_RESPONSE'
  | 'SYNC_TIMEOUT'
  | 'SYNC_INVALID_BLOCK'
  | 'SYNC_RATE_LIMITED'
  | 'TRUST_HASH_MISMATCH';

export class SyncError extends VosError<{ code: SyncErrorCode }> {
  constructor(code: SyncErrorCode, message: string, action = PeerAction.Reject, cause?: unknown) {
    super({ code }, message, { peerAction: action, cause });
    this.name = 'SyncError';
  }
}

export interface Fetched {
  block: Block;
  commit: Commit;
}

export interface BlockSource {
  headHeight(): number;
  /** Stored block and commit bytes of [from, to] in order (fewer when the store ends). */
  getBlockRange(from: number, to: number): Promise<{ block: Uint8Array; commit: Uint8Array }[]>;
}

/** A weak-subjectivity checkpoint: the hash of the block at `height`. */
export interface TrustedBlock {
  height: number;
  hash: Uint8Array;
}

/**
 * Whether consensus may take `block` while the node is at `head` (the node wraps its app's
 * validateBlock with it; a block not valid there is never decided). Below the trusted height only
 * block sync, which checked its peer's block there first, may move the node; at the trusted height
 * only the trusted block is valid.
 */
export function trustAllowsBlock(trust: TrustedBlock | undefined, head: number, block: Block): boolean {
  if (trust === undefined || head >= trust.height) return true;
  if (block.height < trust.height) return false;
  return block.height > trust.height || equalBytes(block.hash(), trust.hash);
}

export interface ServeLimits {
  requestsPerSec: number;
  requestBurst: number;
  bytesPerSec: number;
}

export interface BlockSyncOptions {
  host: VosHost;
  chainId: string;
  source: BlockSource;
  /** Apply a fetched block; false when it was not the next one (consensus got there first). */
  apply: (block: Block, commit: Commit) => Promise<boolean>;
  /** Start checking a fetched batch's signatures ahead of applying it (optional). */
  preverify?: (batch: readonly Fetched[]) => Promise<void>;
  onPeerFault?: (peer: PeerId, err: unknown) => void;
  /** Peers not to ask (the scorer's bans). */
  isBanned?: (peer: PeerId) => boolean;
  /** Called for each block applied (metrics). */
  onApplied?: () => void;
  logger?: Logger;
  intervalMs?: number;
  /** Max bytes of one response frame: frameBudget(params).blocksyncFrame (chain/budget.ts). */
  maxFrameBytes: number;
  /** Bytes of one response after its first frame (client and server). Default 16 MiB. */
  responseBytes?: number;
  /** A response that sends no frame for this long is abandoned and its peer penalised. */
  idleTimeoutMs?: number;
  trust?: TrustedBlock;
  serve?: Partial<ServeLimits>;
  /** Pacing of served bytes (tests inject it). */
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_SERVE: ServeLimits = { requestsPerSec: 20, requestBurst: 40, bytesPerSec: 64 * 1024 * 1024 };

/**
 * The height to sync to and the peers to ask, best first: the second-highest claim (corroborated by
 * two peers), or the highest capped at `step` blocks past ours. Null when no peer is ahead.
 */
export function planSync<P>(
  claims: readonly { peer: P; height: number }[],
  ours: number,
  step = STEP,
): { target: number; peers: { peer: P; height: number }[] } | null {
  const ahead = claims.filter((c) => c.height > ours).sort((a, b) => b.height - a.height);
  if (ahead.length === 0) return null;
  const corroborated = ahead.length >= 2 ? ahead[1].height : ours;
  return { target: Math.max(corroborated, Math.min(ahead[0].height, ours + step)), peers: ahead };
}

/** A block sync response being read: decoded frame by frame, consumed as it arrives. */
class Response {
  readonly from: number;
  readonly count: number;
  readonly #items: Fetched[] = [];
  #done = false;
  #error: unknown;
  #wake: (() => void) | null = null;
  #stream: Stream | null = null;
  #abandoned = false;

  constructor(from: number, count: number) {
    this.from = from;
    this.count = count;
  }

  /** Blocks received so far (consumed or not). */
  received = 0;

  /** Read the response of `stream` into the queue; errors end it. */
  async read(
    open: () => Promise<Stream>,
    o: { maxFrameBytes: number; responseBytes: number; idleTimeoutMs: number },
    preverify?: (batch: readonly Fetched[]) => Promise<void>,
  ): Promise<void> {
    let idle: NodeJS.Timeout | undefined;
    let timedOut: SyncError | undefined;
    let chunk: Fetched[] = [];
    const flush = () => {
      if (chunk.length > 0) void preverify?.(chunk).catch(() => undefined);
      chunk = [];
    };
    try {
      const stream = await open();
      this.#stream = stream;
      if (this.#abandoned) throw new SyncError('BAD_SYNC_RESPONSE', 'abandoned', PeerAction.Ignore);
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          timedOut = new SyncError('SYNC_TIMEOUT', `no block for ${o.idleTimeoutMs} ms`);
          stream.abort(timedOut);
        }, o.idleTimeoutMs);
      };
      arm();
      let bytes = 0;
      for await (const f of readFrames(stream, o.maxFrameBytes)) {
        arm();
        if (this.received > 0 && bytes + f.length > o.responseBytes)
          throw new SyncError('BAD_SYNC_RESPONSE', `response over ${o.responseBytes} bytes`);
        bytes += f.length;
        if (this.received >= this.count) throw new SyncError('BAD_SYNC_RESPONSE', 'too many blocks');
        const item = decodeItem(Uint8Array.from(f), this.from + this.received);
        this.received++;
        this.#items.push(item);
        chunk.push(item);
        if (chunk.length >= PREVERIFY_CHUNK) flush();
        this.#notify();
      }
      flush();
    } catch (err) {
      this.#error = timedOut ?? asSyncError(err);
      this.#stream?.abort(err as Error);
    } finally {
      clearTimeout(idle);
      this.#done = true;
      this.#notify();
    }
  }

  /** Stop reading (the pipeline was dropped). */
  abandon(): void {
    this.#abandoned = true;
    this.#stream?.abort(new Error('abandoned'));
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The blocks in order as they arrive; throws the read's error after the blocks before it. */
  async *items(): AsyncGenerator<Fetched> {
    let i = 0;
    for (;;) {
      while (i < this.#items.length) {
        const item = this.#items[i];
        // Consumed items are released (bounded memory: only unconsumed ones are held).
        this.#items[i++] = undefined as unknown as Fetched;
        yield item;
      }
      if (this.#done) break;
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    if (this.#error !== undefined) throw this.#error;
  }
}

/** Decode one response frame: the [block, commit] pair of `height`. */
function decodeItem(f: Uint8Array, height: number): Fetched {
  const parts = asList(decodeRlp(f, 'sync block'), 'sync block', 2);
  if (Array.isArray(parts[0]) || Array.isArray(parts[1]))
    throw new SyncError('BAD_SYNC_RESPONSE', 'bad block frame');
  const block = createBlockFromRlp(parts[0]);
  if (block.height !== height)
    throw new SyncError('BAD_SYNC_RESPONSE', `expected block ${height}, got ${block.height}`);
  const commit = createCommitFromRlp(parts[1]);
  if (commit.height !== height || !equalBytes(commit.blockHash, block.hash()))
    throw new SyncError('BAD_SYNC_RESPONSE', `the commit of block ${height} is for another block`);
  return { block, commit };
}

/** Peer errors keep their action; stream and connection failures (resets, closes) cost no score. */
function asSyncError(err: unknown): VosError {
  if (err instanceof VosError && err.peerAction !== undefined) return err;
  return new SyncError('BAD_SYNC_RESPONSE', String((err as Error)?.message ?? err), PeerAction.Ignore, err);
}

/** A Map that forgets its oldest entries past `max`. */
function boundedSet<V>(m: Map<string, V>, key: string, value: V, max = MAX_TRACKED_PEERS): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

export class BlockSync {
  readonly protocol: string;
  readonly #o: BlockSyncOptions;
  readonly #responseBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #serve: ServeLimits;
  readonly #requests: PeerRateLimiter;
  readonly #bytes: PeerRateLimiter;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Peers not to ask until the given time (they failed us). */
  readonly #cooldown = new Map<string, number>();
  /** Peers whose block at the trusted height was checked: true = the trusted hash. */
  readonly #trustChecked = new Map<string, boolean>();
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = false;
  #waitLogged = 0;
  /** Blocks applied by sync since start (metrics, tests). */
  synced = 0;
  #syncing = false;
  /** The last peer refused for serving another block at the trusted height (status, tests). */
  refusal: { peer: string; height: number; hash: string; trusted: string } | null = null;

  /** True while fetching and applying blocks from a peer that is ahead. */
  get syncing(): boolean {
    return this.#syncing;
  }

  /** The height the sync in progress goes to (0 when not syncing): progress lines. */
  get target(): number {
    return this.#syncing ? this.#target : 0;
  }
  #target = 0;

  constructor(o: BlockSyncOptions) {
    this.#o = o;
    this.protocol = `/vos/${o.chainId}/blocksync/1`;
    this.#responseBytes = o.responseBytes ?? 16 * 1024 * 1024;
    this.#idleTimeoutMs = o.idleTimeoutMs ?? 10_000;
    this.#serve = { ...DEFAULT_SERVE, ...o.serve };
    this.#requests = new PeerRateLimiter(this.#serve.requestsPerSec, this.#serve.requestBurst);
    // The burst holds at least one frame, so a frame never waits longer than its own bytes need.
    this.#bytes = new PeerRateLimiter(
      this.#serve.bytesPerSec,
      Math.max(this.#serve.bytesPerSec, o.maxFrameBytes),
    );
    this.#sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async start(): Promise<void> {
    await this.#o.host.handle(this.protocol, (stream, conn) => void this.#serveStream(stream, conn), {
      maxInboundStreams: 8,
      maxOutboundStreams: 8,
    });
    this.#timer = setInterval(() => void this.tick(), this.#o.intervalMs ?? 500);
    this.#timer.unref();
    // A new peer may be ahead: ask at once rather than at the next interval.
    this.#o.host.addEventListener('peer:identify', this.#onIdentify);
  }

  readonly #onIdentify = () => {
    if (!this.#stopped) void this.tick();
  };

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#o.host.removeEventListener('peer:identify', this.#onIdentify);
    await this.#o.host.unhandle(this.protocol).catch(() => undefined);
  }

  /** Ask the peers for their heads; while some are ahead, fetch and apply blocks from them. */
  async tick(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      const now = Date.now();
      const peers = this.#o.host
        .getPeers()
        .filter((p) => !(this.#o.isBanned?.(p) ?? false) && (this.#cooldown.get(p.toString()) ?? 0) <= now);
      const claims = (
        await Promise.all(
          peers.map((peer) =>
            this.#status(peer).then(
              (height) => ({ peer, height }),
              () => null,
            ),
          ),
        )
      ).filter((c) => c !== null);
      const ours = this.#o.source.headHeight();
      const plan = planSync(claims, ours);
      if (plan === null) return;
      this.#syncing = true;
      this.#target = plan.target;
      try {
        for (const { peer, height } of plan.peers) {
          if (this.#stopped) return;
          const head = this.#o.source.headHeight();
          if (head >= plan.target) return;
          if (height <= head) continue;
          if (!(await this.#trusted(peer, height))) continue;
          if (await this.#syncFrom(peer, Math.min(plan.target, height), height)) return;
        }
      } finally {
        this.#syncing = false;
      }
    } finally {
      this.#running = false;
    }
  }

  #fault(peer: PeerId, err: unknown): void {
    if (this.#stopped) return;
    boundedSet(this.#cooldown, peer.toString(), Date.now() + COOLDOWN_MS);
    this.#o.logger?.debug(
      { peer: peer.toString(), err: String((err as Error)?.message ?? err) },
      'block sync failed',
    );
    const action = err instanceof VosError ? err.peerAction : PeerAction.Reject;
    if (action !== PeerAction.Ignore) this.#o.onPeerFault?.(peer, err);
  }

  /**
   * Weak subjectivity: below the trusted height, sync only from a peer whose block at that height has
   * the trusted hash. False when it has another (penalised) or cannot show it.
   */
  async #trusted(peer: PeerId, claimed: number): Promise<boolean> {
    const trust = this.#o.trust;
    if (trust === undefined || this.#o.source.headHeight() >= trust.height) return true;
    const key = peer.toString();
    const known = this.#trustChecked.get(key);
    if (known !== undefined) return known;
    if (claimed < trust.height) {
      if (Date.now() - this.#waitLogged > 30_000) {
        this.#waitLogged = Date.now();
        this.#o.logger?.info(
          { trustHeight: trust.height, peerHead: claimed },
          'waiting for a peer that has the trusted height',
        );
      }
      return false;
    }
    const r = new Response(trust.height, 1);
    await this.#read(peer, r, undefined);
    let block: Block | undefined;
    try {
      for await (const item of r.items()) block = item.block;
      if (block === undefined)
        throw new SyncError(
          'SYNC_EMPTY_RESPONSE',
          `claimed head ${claimed} but has no block ${trust.height}`,
        );
    } catch (err) {
      this.#fault(peer, err);
      return false;
    }
    const ok = equalBytes(block.hash(), trust.hash);
    boundedSet(this.#trustChecked, key, ok);
    if (!ok) this.#refuse(peer, block);
    return ok;
  }

  #refuse(peer: PeerId, block: Block): void {
    const trust = this.#o.trust!;
    this.refusal = {
      peer: peer.toString(),
      height: trust.height,
      hash: toHex(block.hash()),
      trusted: toHex(trust.hash),
    };
    this.#o.logger?.warn(
      this.refusal,
      'refusing a peer on another chain: its block at the trusted height has another hash',
    );
    boundedSet(this.#trustChecked, peer.toString(), false);
    this.#fault(
      peer,
      new SyncError(
        'TRUST_HASH_MISMATCH',
        `block ${trust.height} is ${this.refusal.hash}, trusted ${this.refusal.trusted}`,
      ),
    );
  }

  async #status(peer: PeerId): Promise<number> {
    const { stream } = await openStream(this.#o.host, peer, this.protocol, 'tcp', AbortSignal.timeout(5000));
    try {
      stream.send(frame(encodeRlp([1])));
      await stream.close({ signal: AbortSignal.timeout(5000) });
      for await (const f of readFrames(stream, MAX_REQUEST))
        return asNumber(decodeRlp(f, 'sync status'), 'sync status');
      throw new SyncError('BAD_SYNC_RESPONSE', 'no status', PeerAction.Ignore);
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** Start reading [r.from, r.from + r.count) from `peer` into `r` (resolves when it is done). */
  #read(peer: PeerId, r: Response, preverify = this.#o.preverify): Promise<void> {
    return r.read(
      async () => {
        // Bulk transfer: TCP + Yamux is many times faster than QUIC here (bench/transport.bench.ts).
        const { stream } = await openStream(
          this.#o.host,
          peer,
          this.protocol,
          'tcp',
          AbortSignal.timeout(5000),
        );
        stream.send(frame(encodeRlp([2, r.from, r.count])));
        await stream.close({ signal: AbortSignal.timeout(5000) });
        return stream;
      },
      {
        maxFrameBytes: this.#o.maxFrameBytes,
        responseBytes: this.#responseBytes,
        idleTimeoutMs: this.#idleTimeoutMs,
      },
      preverify,
    );
  }

  /**
   * Fetch and apply blocks up to `target` from `peer` (which claims `claimed`). True when the target
   * was reached or consensus took over; false when the peer failed (penalised, rested). PERF: up to
   * PIPELINE requests are in flight while one is applied, and commits go to `preverify` (worker
   * threads) as they arrive, so network, signature checks and execution overlap.
   */
  async #syncFrom(peer: PeerId, target: number, claimed: number): Promise<boolean> {
    const inflight: Response[] = [];
    let next = this.#o.source.headHeight() + 1;
    const request = (from: number, count: number, front = false) => {
      const r = new Response(from, count);
      void this.#read(peer, r);
      if (front) inflight.unshift(r);
      else inflight.push(r);
    };
    const fill = () => {
      while (inflight.length < PIPELINE && next <= target) {
        const count = Math.min(SYNC_BATCH, target - next + 1);
        request(next, count);
        next += count;
      }
    };
    const trust = this.#o.trust;
    let r: Response | undefined;
    try {
      fill();
      while (inflight.length > 0) {
        if (this.#stopped) return true;
        r = inflight.shift()!;
        for await (const { block, commit } of r.items()) {
          if (this.#stopped) return true;
          if (block.height <= this.#o.source.headHeight()) continue; // consensus got there first
          if (trust !== undefined && block.height === trust.height && !equalBytes(block.hash(), trust.hash)) {
            this.#refuse(peer, block);
            return false;
          }
          let applied: boolean;
          try {
            applied = await this.#o.apply(block, commit);
          } catch (err) {
            if (this.#stopped) return true;
            throw new SyncError(
              'SYNC_INVALID_BLOCK',
              `block ${block.height}: ${(err as Error)?.message ?? err}`,
              PeerAction.Reject,
              err,
            );
          }
          if (!applied) return true; // not the next height: consensus moved on
          this.synced++;
          this.#o.onApplied?.();
        }
        if (r.received === 0 && r.from <= claimed)
          throw new SyncError(
            'SYNC_EMPTY_RESPONSE',
            `claimed head ${claimed} but served nothing from ${r.from}`,
          );
        // A short response (the server's byte budget): ask for the rest before the later requests.
        if (r.received < r.count) request(r.from + r.received, r.count - r.received, true);
        fill();
      }
      return true;
    } catch (err) {
      this.#fault(peer, err);
      return false;
    } finally {
      r?.abandon();
      for (const x of inflight) x.abandon();
    }
  }

  async #serveStream(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer;
    const key = peer.toString();
    try {
      if (!this.#requests.take(key))
        throw new SyncError('SYNC_RATE_LIMITED', `over ${this.#serve.requestsPerSec} block sync requests/s`);
      let req: Uint8Array | undefined;
      for await (const f of readFrames(stream, MAX_REQUEST)) {
        req = f;
        break;
      }
      if (req === undefined) throw new SyncError('BAD_SYNC_REQUEST', 'empty request');
      const fields = asList(decodeRlp(req, 'sync request'), 'sync request');
      const kind = asNumber(fields[0], 'sync request kind');
      const src = this.#o.source;
      if (kind === 1) {
        stream.send(frame(encodeRlp(src.headHeight())));
      } else if (kind === 2) {
        await this.#serveBlocks(stream, key, asNumber(fields[1], 'from'), asNumber(fields[2], 'count'));
      } else {
        throw new SyncError('BAD_SYNC_REQUEST', `unknown request ${kind}`);
      }
      await stream.close({ signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      // Protocol violations cost score; a stream the client dropped or a slow reader do not.
      if (err instanceof VosError && err.peerAction !== undefined) this.#o.onPeerFault?.(peer, err);
      stream.abort(err as Error);
    }
  }

  /**
   * PERF: the stored bytes go out as they are (no decode and re-encode), read in range scans of a few
   * blocks (a chunk of max-size blocks stays within ~32 MiB), paced to the peer's bytes/s.
   */
  async #serveBlocks(stream: Stream, key: string, from: number, count: number): Promise<void> {
    const src = this.#o.source;
    const first = Math.max(1, from);
    const to = Math.min(src.headHeight(), from + Math.min(count, SYNC_BATCH) - 1);
    const chunk = Math.max(1, Math.min(SYNC_BATCH, Math.floor((32 * 1024 * 1024) / this.#o.maxFrameBytes)));
    let sent = 0;
    let frames = 0;
    for (let h = first; h <= to; h += chunk) {
      for (const { block, commit } of await src.getBlockRange(h, Math.min(to, h + chunk - 1))) {
        const bytes = frame(encodeRlp([block, commit]));
        if (frames > 0 && sent + bytes.length - 4 > this.#responseBytes) return;
        const wait = this.#bytes.delay(key, bytes.length);
        if (wait > 0) await this.#sleep(wait);
        if (this.#stopped) return;
        if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) });
        sent += bytes.length - 4;
        frames++;
      }
    }
  }
}
