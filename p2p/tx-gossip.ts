/**
 * Tx gossip over `/vos/<chainId>/tx/1`: every tx a node admits to its mempool (from RPC or a peer) is
 * sent to its peers, batched: one frame = rlp([tx, tx, ...]) of the txs admitted within a few ms, at
 * most TX_BATCH_MAX_TXS txs and TX_BATCH_MAX_BYTES bytes (chain/budget.ts; a batch is sent before it
 * would grow past either, and a receiver refuses a larger frame before buffering it).
 * Receivers admit them through the same mempool checks; a tx already known is not admitted again, so
 * it is not re-sent (the flood stops). A malformed batch or a tx with a bad signature costs the sender
 * score; stale nonces and full mempools are normal races and cost nothing.
 */
import type { PeerId } from '@libp2p/interface';
import {
  rlpPrefixLength,
  TX_BATCH_FRAME_BYTES,
  TX_BATCH_MAX_BYTES,
  TX_BATCH_MAX_TXS,
} from '../chain/budget.js';
import { asList, decodeRlp, encodeRlp } from '../chain/codec.js';
import type { Mempool } from '../chain/mempool/mempool.js';
import { createTxFromRlp, type Tx } from '../chain/tx/tx.js';
import { PeerAction, VosError } from '../util/errors.js';
import type { Metrics } from '../util/metrics.js';
import { Fanout } from './fanout.js';
import type { VosHost } from './host.js';
import type { PeerScorer } from './peer-scorer.js';

const FLUSH_MS = 5;
/** Errors that prove the sender relayed garbage (it must have checked the tx before relaying). */
const FAULTS = new Set(['TX_INVALID_SIGNATURE', 'TX_MALFORMED', 'TX_WRONG_CHAIN', 'TX_TOO_LARGE']);

export class TxGossip {
  readonly protocol: string;
  readonly #fanout: Fanout;
  readonly #mempool: Mempool;
  #pending: Uint8Array[] = [];
  /** Encoded bytes of #pending as list items. */
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Hashes of txs being admitted from a peer: not sent on (see the file comment). */
  readonly #fromPeers = new Set<string>();
  #unsubscribe: (() => void) | null = null;
  /** Txs received from peers and admitted (metrics, tests). */
  received = 0;

  readonly #metrics: Metrics | null;

  constructor(o: {
    host: VosHost;
    chainId: string;
    mempool: Mempool;
    scorer: PeerScorer;
    metrics?: Metrics | null;
  }) {
    this.protocol = `/vos/${o.chainId}/tx/1`;
    this.#mempool = o.mempool;
    this.#metrics = o.metrics ?? null;
    this.#fanout = new Fanout({
      host: o.host,
      protocol: this.protocol,
      maxFrameBytes: TX_BATCH_FRAME_BYTES,
      scorer: o.scorer,
      // Batches of up to 1,000 txs or 1 MiB.
      rateLimit: { perSec: 200, burst: 400 },
      // 64-KiB batches: TCP + Yamux is ~4x faster than QUIC here (bench/transport.bench.ts).
      transport: 'tcp',
      onFrame: (bytes, from) => this.#onBatch(bytes, from),
    });
  }

  async start(): Promise<void> {
    await this.#fanout.start();
    this.#unsubscribe = this.#mempool.onAdded((tx) => this.#queue(tx));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#fanout.stop();
  }

  #queue(tx: Tx): void {
    if (this.#fromPeers.delete(Buffer.from(tx.hash()).toString('latin1'))) return;
    const bytes = tx.serialize();
    const size = rlpPrefixLength(bytes.length) + bytes.length;
    if (this.#pendingBytes + size > TX_BATCH_MAX_BYTES) this.#flush();
    this.#pending.push(bytes);
    this.#pendingBytes += size;
    if (this.#pending.length >= TX_BATCH_MAX_TXS) this.#flush();
    else if (this.#timer === null) this.#timer = setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#fanout.broadcast(encodeRlp(batch));
  }

  async #onBatch(bytes: Uint8Array, _from: PeerId): Promise<void> {
    const items = asList(decodeRlp(bytes, 'tx batch'), 'tx batch');
    if (items.length > TX_BATCH_MAX_TXS)
      throw new VosError({ code: 'BAD_TX_BATCH' }, 'tx batch too large', { peerAction: PeerAction.Reject });
    const txs = items.map((it) => {
      if (Array.isArray(it))
        throw new VosError({ code: 'BAD_TX_BATCH' }, 'tx batch item is a list', {
          peerAction: PeerAction.Reject,
        });
      return createTxFromRlp(it);
    });
    const keys = txs.map((t) => Buffer.from(t.hash()).toString('latin1'));
    for (const k of keys) this.#fromPeers.add(k);
    let results: Awaited<ReturnType<Mempool['addMany']>>;
    try {
      results = await this.#mempool.addMany(txs);
    } finally {
      for (const k of keys) this.#fromPeers.delete(k);
    }
    let faults = 0;
    for (const r of results) {
      if ('hash' in r) this.received++;
      else {
        this.#metrics?.mempoolRejected.inc({ code: r.error.code });
        if (FAULTS.has(r.error.code)) faults++;
      }
    }
    if (faults > 0)
      throw new VosError({ code: 'BAD_TX_BATCH' }, `${faults} invalid txs relayed`, {
        peerAction: PeerAction.Reject,
      });
  }
}
