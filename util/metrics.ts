/**
 * Typed metrics (prom-client), `vos_` prefix, CometBFT-like names. Components take `Metrics | null` so
 * tests need no registry. Labels are codes, never free-form messages.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the DNS gateway counts (services/naming/dns DnsStats), read at scrape time. */
export interface DnsProbe {
  stats(): {
    responses: { udp: number[]; tcp: number[] };
    /** Answered queries by [typeSlot * 16 + rcode], slots named by `queryTypes`. */
    queries: number[];
    truncated: number;
    dropped: number;
  };
  queryTypes: readonly string[];
  names(): number;
}

/** What the storage gauges read at scrape time (services/storage). */
export interface StorageProbe {
  /** Bytes this node keeps: its own local objects, and shards it holds for others. */
  bytes(): { local: number; held: number };
}

const DNS_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** What the P2P gauges read at scrape time; the node points these at its host and block sync. */
export interface P2pProbe {
  connections(): { tcp: number; quic: number; relay: number };
  peers(): number;
  syncing(): boolean;
}

/** prom-client's process and Node.js metrics under `vos_` (vos_process_cpu_seconds_total, vos_nodejs_...). */
const DEFAULT_PREFIX = 'vos_';

/** The event-loop delay summaries that prom-client derives from a histogram (replaced below). */
const LAG_STATS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;

export function createMetrics(register = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
  if (opts.defaultMetrics !== false) {
    // prom-client's own event-loop summaries read a histogram it resets on every scrape: a scrape that
    // follows another within its 10 ms resolution sees no samples and prints min 9223372036 (INT64_MAX
    // ns) and mean/stddev "Nan". Its histogram is parked (a resolution of ~24 days) and replaced by
    // eventLoopDelayStats, which keeps the last window's figures when a window holds no sample.
    collectDefaultMetrics({ register, prefix: DEFAULT_PREFIX, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
    for (const stat of LAG_STATS)
      register.removeSingleMetric(`${DEFAULT_PREFIX}nodejs_eventloop_lag_${stat}_seconds`);
    eventLoopDelayStats(register);
  }
  const probe: { p2p: P2pProbe | null; dns: DnsProbe | null; storage: StorageProbe | null } = {
    p2p: null,
    dns: null,
    storage: null,
  };
  const metrics = {
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
    commMessages: new Counter({
      name: 'vos_comm_messages_total',
      help: 'Messages delivered to this node (in) and sent by it (out), direct or through mailboxes',
      labelNames: ['direction', 'via'] as const,
      registers: [register],
    }),
    commRejected: new Counter({
      name: 'vos_comm_rejected_total',
      help: 'Messages refused, by reason (COMM_DECRYPT_FAILED, COMM_BAD_SIGNATURE, COMM_NOT_NAME_OWNER, COMM_REPLAY, COMM_QUOTA, ...)',
      labelNames: ['reason'] as const,
      registers: [register],
    }),
    commMailboxHeld: new Gauge({
      name: 'vos_comm_mailbox_held',
      help: 'Messages this node holds for offline recipients',
      registers: [register],
    }),
    appCalls: new Counter({
      name: 'vos_app_calls_total',
      help: 'App calls run by this node: on chain (tx, as executed here), query (app_query) and hosted (served off chain), by halt',
      labelNames: ['where', 'halt'] as const,
      registers: [register],
    }),
    appGas: new Counter({
      name: 'vos_app_gas_used_total',
      help: 'Gas used by app calls run by this node, by where (tx, query, hosted)',
      labelNames: ['where'] as const,
      registers: [register],
    }),
    controlThreshold: new Gauge({
      name: 'vos_control_threshold',
      help: 'The control threshold T of the last finished epoch (contribution bytes)',
      registers: [register],
    }),
    controlQuotaBytes: new Gauge({
      name: 'vos_control_quota_bytes',
      help: "This node's storage quota (base + k x min(C, T)), bytes",
      registers: [register],
    }),
    controlContribution: new Gauge({
      name: 'vos_control_contribution',
      help: "This node's contribution C in the last finished epoch (bytes)",
      registers: [register],
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
    rpcRefused: new Counter({
      name: 'vos_rpc_refused_total',
      help: 'RPC requests refused before any work (host, origin) or answers over the size limit',
      labelNames: ['reason'] as const,
      registers: [register],
    }),
    rpcRequests: new Counter({
      name: 'vos_rpc_requests_total',
      help: 'JSON-RPC requests by method and result code',
      labelNames: ['method', 'code'] as const,
      registers: [register],
    }),
    rpcDuration: new Histogram({
      name: 'vos_rpc_request_duration_seconds',
      help: 'Time to answer a JSON-RPC call (params check and handler; not the network), by method',
      labelNames: ['method'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [register],
    }),
    // PERF: the gateway counts in plain arrays on its query path; these read them at scrape time.
    dnsResponses: new Counter({
      name: 'vos_dns_responses_total',
      help: 'DNS gateway responses by transport and rcode',
      labelNames: ['transport', 'rcode'] as const,
      registers: [register],
      collect() {
        const d = probe.dns?.stats();
        if (d === undefined) return;
        this.reset();
        for (const transport of ['udp', 'tcp'] as const)
          d.responses[transport].forEach((n, code) => {
            if (n > 0) this.inc({ transport, rcode: DNS_RCODES[code] ?? String(code) }, n);
          });
      },
    }),
    dnsQueries: new Counter({
      name: 'vos_dns_queries_total',
      help: 'DNS queries answered by the gateway, by qtype and rcode',
      labelNames: ['type', 'rcode'] as const,
      registers: [register],
      collect() {
        const dns = probe.dns;
        if (dns === null) return;
        this.reset();
        dns.stats().queries.forEach((n, i) => {
          if (n > 0)
            this.inc(
              { type: dns.queryTypes[i >> 4] ?? 'OTHER', rcode: DNS_RCODES[i & 15] ?? String(i & 15) },
              n,
            );
        });
      },
    }),
    storageBytes: new Gauge({
      name: 'vos_storage_bytes',
      help: 'Bytes this node stores: local objects, and shards held for other nodes',
      labelNames: ['kind'] as const,
      registers: [register],
      collect() {
        const b = probe.storage?.bytes();
        if (b === undefined) return;
        this.set({ kind: 'local' }, b.local);
        this.set({ kind: 'held' }, b.held);
      },
    }),
    storageAudits: new Counter({
      name: 'vos_storage_audits_total',
      help: 'Storage audits (proofs of storage) by role and result',
      labelNames: ['role', 'result'] as const,
      registers: [register],
    }),
    dnsTruncated: new Counter({
      name: 'vos_dns_truncated_total',
      help: 'DNS answers sent truncated (TC) over UDP',
      registers: [register],
      collect() {
        if (probe.dns === null) return;
        this.reset();
        this.inc(probe.dns.stats().truncated);
      },
    }),
    dnsDropped: new Counter({
      name: 'vos_dns_dropped_total',
      help: 'DNS packets not answered (shorter than a header, or responses)',
      registers: [register],
      collect() {
        if (probe.dns === null) return;
        this.reset();
        this.inc(probe.dns.stats().dropped);
      },
    }),
    dnsNames: new Gauge({
      name: 'vos_dns_names',
      help: 'Names the DNS gateway serves',
      registers: [register],
      collect() {
        this.set(probe.dns?.names() ?? 0);
      },
    }),
  };
  // Counters whose labels are known start at 0, so a scrape shows them before the first event.
  for (const role of ['holder', 'watcher'] as const)
    for (const result of ['proved', 'unprovable', 'fault'] as const)
      metrics.storageAudits.inc({ role, result }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * vos_nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds over the window since the previous
 * scrape that had samples (10 ms resolution); 0 until the first window closes, never NaN.
 */
function eventLoopDelayStats(register: Registry): void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const read: Record<(typeof LAG_STATS)[number], () => number> = {
    min: () => h.min,
    max: () => h.max,
    mean: () => h.mean,
    stddev: () => h.stddev,
    p50: () => h.percentile(50),
    p90: () => h.percentile(90),
    p99: () => h.percentile(99),
  };
  const gauges: Gauge[] = [];
  for (const stat of LAG_STATS) {
    gauges.push(
      new Gauge({
        name: `${DEFAULT_PREFIX}nodejs_eventloop_lag_${stat}_seconds`,
        help: `The ${stat} of the event loop delay since the previous scrape (seconds)`,
        registers: [register],
        // The first gauge collects for all seven (collected first), so they describe one window.
        ...(gauges.length === 0
          ? {
              collect() {
                if (h.count === 0) return;
                for (const [i, s] of LAG_STATS.entries()) gauges[i].set(read[s]() / 1e9);
                h.reset();
              },
            }
          : {}),
      }),
    );
  }
  for (const g of gauges) g.set(0);
}
