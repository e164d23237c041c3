/**
 * Typed metrics (prom-client), `vos_` prefix, CometBFT-like names. Components take `Metrics | null` so
 * tests need no registry. Labels are codes, never free-form messages.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the P2P gauges read at scrape time; the node points these at its host and block sync. */
export interface P2pProbe {
  connections(): { tcp: number; quic: number; relay: number };
  peers(): number;
  syncing(): boolean;
}

export function createMetrics(register = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register, prefix: 'vos_process_' });
  const probe: { p2p: P2pProbe | null } = { p2p: null };
  return {
    register,
    probe,
    p2pPeers: new Gauge({
      name: 'vos_p2p_peers',
      help: 'Connected peers',
      registers: [register],
      collect() {
        this.set(probe.p2p?.peers() ?? 0);
      },
    }),
    p2pConnections: new Gauge({
      name: 'vos_p2p_connections',
      help: 'Open connections by transport (a peer may have a TCP and a QUIC one)',
      labelNames: ['transport'] as const,
      registers: [register],
      collect() {
        const c = probe.p2p?.connections() ?? { tcp: 0, quic: 0, relay: 0 };
        for (const [transport, n] of Object.entries(c)) this.set({ transport }, n);
      },
    }),
    p2pPenalties: new Counter({
      name: 'vos_p2p_peer_penalties_total',
      help: 'Invalid data from peers, by protocol',
      labelNames: ['protocol'] as const,
      registers: [register],
    }),
    p2pBans: new Counter({
      name: 'vos_p2p_peer_bans_total',
      help: 'Peers disconnected and refused for sending invalid data',
      registers: [register],
    }),
    blocksyncSyncing: new Gauge({
      name: 'vos_blocksync_syncing',
      help: '1 while fetching blocks from a peer that is ahead',
      registers: [register],
      collect() {
        this.set(probe.p2p?.syncing() ? 1 : 0);
      },
    }),
    blocksyncBlocks: new Counter({
      name: 'vos_blocksync_blocks_total',
      help: 'Blocks applied by block sync',
      registers: [register],
    }),
    consensusHeight: new Gauge({
      name: 'vos_consensus_height',
      help: 'Height of the latest committed block',
      registers: [register],
    }),
    consensusRound: new Gauge({
      name: 'vos_consensus_rounds',
      help: 'Round of the height in progress',
      registers: [register],
    }),
    blockInterval: new Histogram({
      name: 'vos_consensus_block_interval_seconds',
      help: 'Time between the last two blocks',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [register],
    }),
    blockTxs: new Gauge({
      name: 'vos_consensus_num_txs',
      help: 'Txs in the latest block',
      registers: [register],
    }),
    txsTotal: new Counter({ name: 'vos_txs_total', help: 'Committed txs', registers: [register] }),
    mempoolSize: new Gauge({
      name: 'vos_mempool_size',
      help: 'Txs waiting in the mempool',
      registers: [register],
    }),
    mempoolRejected: new Counter({
      name: 'vos_mempool_rejected_total',
      help: 'Txs refused by the mempool, by error code',
      labelNames: ['code'] as const,
      registers: [register],
    }),
    rpcRequests: new Counter({
      name: 'vos_rpc_requests_total',
      help: 'JSON-RPC requests by method and result code',
      labelNames: ['method', 'code'] as const,
      registers: [register],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
