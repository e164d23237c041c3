/**
 * The DNS gateway on several processes (config `dns.workers` > 0): node:cluster workers that share one
 * UDP socket and one TCP listener, so answering uses more cores than the node's own. The node feeds
 * the pool like a single gateway (NameSink); the pool keeps the encoded entries to seed a worker that
 * is (re)started, and relays them over IPC.
 *
 * PERF: a query never crosses the IPC channel; only committed name changes do.
 */
import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../../util/logger.js';
import type { NameSink } from '../feed.js';
import { encodeEntry, type NameEntry } from '../records.js';
import { type DnsGateway, type DnsGatewayOptions, type DnsStats, newQueryCounts } from './gateway.js';

/** What the node uses of a gateway: one in its process (DnsGateway) or a pool of processes. */
export type DnsServer = NameSink & Pick<DnsGateway, 'listen' | 'close' | 'port' | 'size' | 'stats'>;

export type PoolMessage =
  | { type: 'load'; entries: [string, Uint8Array][]; height: number }
  | { type: 'apply'; changes: [string, Uint8Array | null][]; height: number }
  | { type: 'stats' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string | undefined }
  | { type: 'stats'; stats: DnsStats; names: number };

/** The compiled worker script (under jest, sources are TypeScript: the build's copy in dist/). */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(
    /([/\\])services([/\\])naming([/\\])dns([/\\])worker\.js$/,
    '$1dist$1services$2naming$3dns$4worker.js',
  );
  if (existsSync(built)) return built;
  throw new Error(`the DNS worker script is missing (${here}): run npm run build`);
}

export interface DnsWorkerPoolOptions extends Omit<DnsGatewayOptions, 'logger'> {
  workers: number;
  logger?: Logger | undefined;
  /** How long a worker may take to listen. */
  startTimeoutMs?: number;
}

function addStats(into: DnsStats, s: DnsStats): void {
  for (const t of ['udp', 'tcp'] as const)
    for (let i = 0; i < s.responses[t].length; i++) into.responses[t][i] += s.responses[t][i];
  for (let i = 0; i < s.queries.length; i++) into.queries[i] += s.queries[i];
  into.truncated += s.truncated;
  into.dropped += s.dropped;
  into.errors += s.errors;
}

const EMPTY_STATS = (): DnsStats => ({
  responses: { udp: new Array(32).fill(0), tcp: new Array(32).fill(0) },
  queries: newQueryCounts(),
  truncated: 0,
  dropped: 0,
  errors: 0,
});

export class DnsWorkerPool implements DnsServer {
  private readonly entries = new Map<string, Uint8Array>();
  private height = 0;
  private readonly workers = new Set<Worker>();
  private readonly lastStats = new Map<Worker, { stats: DnsStats; names: number }>();
  /** Counts of workers that exited, so totals never go backwards. */
  private readonly retired = EMPTY_STATS();
  private boundPort: number | null = null;
  private closing = false;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: DnsWorkerPoolOptions) {}

  load(entries: Iterable<NameEntry>, height: number): void {
    this.entries.clear();
    for (const e of entries) this.entries.set(e.name, encodeEntry(e));
    this.height = height;
    for (const w of this.workers) this.seed(w);
  }

  apply(changes: Map<string, NameEntry | null>, height: number): void {
    const wire: [string, Uint8Array | null][] = [];
    for (const [name, e] of changes) {
      const bytes = e === null ? null : encodeEntry(e);
      if (bytes === null) this.entries.delete(name);
      else this.entries.set(name, bytes);
      wire.push([name, bytes]);
    }
    this.height = Math.max(this.height, height);
    this.broadcast({ type: 'apply', changes: wire, height });
  }

  setHeight(height: number): void {
    if (height <= this.height) return;
    this.height = height;
    this.broadcast({ type: 'apply', changes: [], height });
  }

  get port(): number | null {
    return this.boundPort;
  }

  /** Names served (as the workers last reported). */
  get size(): number {
    let n = 0;
    for (const s of this.lastStats.values()) n = Math.max(n, s.names);
    return n;
  }

  /** Totals over the workers, as of their last report (refreshed every second). */
  get stats(): DnsStats {
    const out = EMPTY_STATS();
    addStats(out, this.retired);
    for (const s of this.lastStats.values()) addStats(out, s.stats);
    return out;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { workers: _w, logger: _l, startTimeoutMs: _t, ...gatewayOpts } = this.opts;
    cluster.setupPrimary({ exec: workerScript(), serialization: 'advanced', silent: false });
    // Every worker asks for the configured port (0 too): the cluster primary keys its shared handles by
    // the requested address and port, so they all get the one socket the first bind made.
    const first = await this.fork(gatewayOpts);
    await Promise.all(Array.from({ length: this.opts.workers - 1 }, () => this.fork(gatewayOpts)));
    this.boundPort = first;
    this.statsTimer = setInterval(() => this.broadcast({ type: 'stats' }), 1000);
    this.statsTimer.unref();
    return { host: this.opts.host, port: first };
  }

  private fork(gatewayOpts: Omit<DnsGatewayOptions, 'logger'>): Promise<number> {
    const w = cluster.fork({ VOS_DNS_WORKER_OPTS: JSON.stringify(gatewayOpts) });
    this.workers.add(w);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        w.kill();
        reject(new Error('a DNS worker did not start listening in time'));
      }, this.opts.startTimeoutMs ?? 30_000);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          this.seed(w);
        } else if (m.type === 'listening') {
          clearTimeout(timer);
          resolve(m.port);
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          const err = new Error(`DNS worker: ${m.message}`) as NodeJS.ErrnoException;
          if (m.code !== undefined) err.code = m.code;
          reject(err);
        } else if (m.type === 'stats') {
          this.lastStats.set(w, { stats: m.stats, names: m.names });
        }
      });
      w.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.workers.delete(w);
        const last = this.lastStats.get(w);
        if (last !== undefined) {
          addStats(this.retired, last.stats);
          this.lastStats.delete(w);
        }
        if (this.closing || this.boundPort === null) return;
        this.opts.logger?.warn({ code, signal }, 'dns: a worker exited; starting another');
        this.fork(gatewayOpts).catch((err) =>
          this.opts.logger?.error({ err }, 'dns: could not restart a worker'),
        );
      });
    });
  }

  private seed(w: Worker): void {
    const m: PoolMessage = { type: 'load', entries: [...this.entries], height: this.height };
    if (w.isConnected()) w.send(m);
  }

  private broadcast(m: PoolMessage): void {
    for (const w of this.workers) if (w.isConnected()) w.send(m);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.statsTimer);
    await Promise.all(
      [...this.workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const timer = setTimeout(() => w.process.kill('SIGKILL'), 5000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.kill('SIGTERM');
          }),
      ),
    );
    this.boundPort = null;
  }
}
