/**
 * Block sync over `/vos/<chainId>/blocksync/1`: a node that is behind fetches blocks with their commits
 * from the peer with the highest head, verifies each commit against the validator set of its height and
 * applies it through the consensus driver (which drops the height's consensus state and moves on).
 *
 * Wire (one request per stream, RLP in length-prefixed frames):
 *   request  [1]                  -> response [head height]
 *   request  [2, from, count]     -> response one frame per block: [block rlp, commit rlp], then end
 * A peer that serves garbage or a block that does not verify is penalised by the caller's scorer.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { type Block, createBlockFromRlp } from '../chain/block.js';
import { asList, asNumber, decodeRlp, encodeRlp } from '../chain/codec.js';
import { type Commit, createCommitFromRlp } from '../chain/commit.js';
import { PeerAction, VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { openStream } from './connections.js';
import { frame, readFrames } from './framing.js';
import type { VosHost } from './host.js';

const MAX_REQUEST = 64;
const MAX_RESPONSE_FRAME = 8 * 1024 * 1024;
/** Blocks per request. */
export const SYNC_BATCH = 200;
/** Requests in flight while a batch is applied. */
const PIPELINE = 3;

interface Fetched {
  block: Block;
  commit: Commit;
}

/** Decode a response: consecutive heights from `from`, each a [block, commit] pair. */
function decodeBatch(frames: Uint8Array[], from: number): Fetched[] {
  return frames.map((f, i) => {
    const parts = asList(decodeRlp(f, 'sync block'), 'sync block', 2);
    if (Array.isArray(parts[0]) || Array.isArray(parts[1]))
      throw new VosError({ code: 'BAD_SYNC_RESPONSE' }, 'bad block frame', { peerAction: PeerAction.Reject });
    const block = createBlockFromRlp(parts[0]);
    if (block.height !== from + i)
      throw new VosError({ code: 'BAD_SYNC_RESPONSE' }, `expected block ${from + i}, got ${block.height}`, {
        peerAction: PeerAction.Reject,
      });
    return { block, commit: createCommitFromRlp(parts[1]) };
  });
}

export interface BlockSource {
  headHeight(): number;
  /** Stored block and commit bytes of [from, to] in order (fewer when the store ends). */
  getBlockRange(from: number, to: number): Promise<{ block: Uint8Array; commit: Uint8Array }[]>;
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
  /** Called for each block applied (metrics). */
  onApplied?: () => void;
  logger?: Logger;
  intervalMs?: number;
}

export class BlockSync {
  readonly protocol: string;
  readonly #o: BlockSyncOptions;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = false;
  /** Blocks applied by sync since start (metrics, tests). */
  synced = 0;
  #syncing = false;

  /** True while fetching and applying blocks from a peer that is ahead. */
  get syncing(): boolean {
    return this.#syncing;
  }

  constructor(o: BlockSyncOptions) {
    this.#o = o;
    this.protocol = `/vos/${o.chainId}/blocksync/1`;
  }

  async start(): Promise<void> {
    await this.#o.host.handle(this.protocol, (stream, conn) => void this.#serve(stream, conn), {
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

  /** Ask the peers for their heads; while one is ahead, fetch and apply blocks from it. */
  async tick(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      const heads = await Promise.all(
        this.#o.host.getPeers().map((p) =>
          this.#status(p).then(
            (h) => ({ p, h }),
            () => ({ p, h: -1 }),
          ),
        ),
      );
      heads.sort((a, b) => b.h - a.h);
      const best = heads[0];
      if (best !== undefined && best.h > this.#o.source.headHeight()) {
        this.#syncing = true;
        await this.#syncFrom(best.p, best.h).finally(() => {
          this.#syncing = false;
        });
      }
    } finally {
      this.#running = false;
    }
  }

  async #status(peer: PeerId): Promise<number> {
    const [first] = await this.#request(peer, [1], 1);
    return asNumber(decodeRlp(first, 'sync status'), 'sync status');
  }

  /**
   * Fetch and apply blocks up to `target` from `peer`. PERF: up to PIPELINE batches are in flight
   * while one is applied, and each batch's commits are handed to `preverify` (worker threads) as it
   * arrives, so network, signature checks and execution overlap.
   */
  async #syncFrom(peer: PeerId, target: number): Promise<void> {
    const inflight: { from: number; batch: Promise<Fetched[]> }[] = [];
    let next = this.#o.source.headHeight() + 1;
    const request = () => {
      while (inflight.length < PIPELINE && next <= target) {
        const from = next;
        const count = Math.min(SYNC_BATCH, target - from + 1);
        next += count;
        const batch = this.#request(peer, [2, from, count], count).then((frames) => {
          const decoded = decodeBatch(frames, from);
          if (decoded.length > 0) void this.#o.preverify?.(decoded).catch(() => undefined);
          return decoded;
        });
        batch.catch(() => undefined); // handled where awaited; a dropped pipeline must not leak rejections
        inflight.push({ from, batch });
      }
    };
    try {
      request();
      while (inflight.length > 0 && !this.#stopped) {
        const { from, batch } = inflight.shift()!;
        const blocks = await batch;
        if (blocks.length === 0) return; // the peer has no more (it may have pruned or rolled back)
        for (const { block, commit } of blocks) {
          if (this.#stopped) return;
          if (block.height <= this.#o.source.headHeight()) continue; // consensus got there first
          if (!(await this.#o.apply(block, commit))) return;
          this.synced++;
          this.#o.onApplied?.();
        }
        if (this.#o.source.headHeight() < from + blocks.length - 1) return;
        request();
      }
    } catch (err) {
      this.#o.logger?.debug(
        { peer: peer.toString(), err: String((err as Error)?.message ?? err) },
        'block sync failed',
      );
      this.#o.onPeerFault?.(peer, err);
    }
  }

  async #request(peer: PeerId, req: (number | bigint)[], maxFrames: number): Promise<Uint8Array[]> {
    // Bulk transfer: TCP + Yamux is many times faster than QUIC here (bench/transport.bench.ts).
    const { stream } = await openStream(this.#o.host, peer, this.protocol, 'tcp', AbortSignal.timeout(5000));
    try {
      stream.send(frame(encodeRlp(req)));
      await stream.close({ signal: AbortSignal.timeout(5000) });
      const out: Uint8Array[] = [];
      for await (const f of readFrames(stream, MAX_RESPONSE_FRAME)) {
        out.push(Uint8Array.from(f));
        if (out.length > maxFrames)
          throw new VosError({ code: 'BAD_SYNC_RESPONSE' }, 'too many frames', {
            peerAction: PeerAction.Reject,
          });
      }
      return out;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  async #serve(stream: Stream, conn: Connection): Promise<void> {
    try {
      let req: Uint8Array | undefined;
      for await (const f of readFrames(stream, MAX_REQUEST)) {
        req = f;
        break;
      }
      if (req === undefined)
        throw new VosError({ code: 'BAD_SYNC_REQUEST' }, 'empty request', { peerAction: PeerAction.Reject });
      const fields = asList(decodeRlp(req, 'sync request'), 'sync request');
      const kind = asNumber(fields[0], 'sync request kind');
      const src = this.#o.source;
      if (kind === 1) {
        stream.send(frame(encodeRlp(src.headHeight())));
      } else if (kind === 2) {
        const from = asNumber(fields[1], 'from');
        const count = Math.min(asNumber(fields[2], 'count'), SYNC_BATCH);
        const to = Math.min(src.headHeight(), from + count - 1);
        // PERF: the stored bytes go out as they are (no decode and re-encode), read in two range scans.
        for (const { block, commit } of await src.getBlockRange(Math.max(1, from), to)) {
          if (!stream.send(frame(encodeRlp([block, commit]))))
            await stream.onDrain({ signal: AbortSignal.timeout(10_000) });
        }
      } else {
        throw new VosError({ code: 'BAD_SYNC_REQUEST' }, `unknown request ${kind}`, {
          peerAction: PeerAction.Reject,
        });
      }
      await stream.close({ signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      this.#o.onPeerFault?.(conn.remotePeer, err);
      stream.abort(err as Error);
    }
  }
}
