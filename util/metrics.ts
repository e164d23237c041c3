/**
 * Typed metrics (prom-client), `vos_` prefix, CometBFT-like names. Components take `Metrics | null` so
 * tests need no registry. Labels are codes, never free-form messages.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics(register = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register, prefix: 'vos_process_' });
  return {
    register,
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
