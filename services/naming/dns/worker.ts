/**
 * A DNS gateway worker process (forked by DnsWorkerPool through node:cluster): the same DnsGateway,
 * bound to the port all workers share (the cluster primary holds the socket; the kernel hands each
 * datagram to one worker), fed over IPC with the encoded entries the node commits.
 */
import cluster from 'node:cluster';
import { decodeEntry, type NameEntry } from '../records.js';
import { DnsGateway, type DnsGatewayOptions } from './gateway.js';
import type { PoolMessage, WorkerMessage } from './workers.js';

if (cluster.isPrimary) throw new Error('services/naming/dns/worker.js runs only as a cluster worker');

const opts = JSON.parse(process.env.VOS_DNS_WORKER_OPTS ?? '{}') as DnsGatewayOptions;
const gateway = new DnsGateway(opts);
const send = (m: WorkerMessage) => process.send?.(m);
const decode = (name: string, bytes: Uint8Array): NameEntry => decodeEntry(name, bytes);

let listening = false;

/** After the first load: a worker never answers before it holds the names (no NXDOMAIN for them). */
function listen(): void {
  listening = true;
  gateway.listen().then(
    ({ port }) => send({ type: 'listening', port }),
    (err: Error) => {
      send({ type: 'failed', message: err.message, code: (err as NodeJS.ErrnoException).code });
      process.exit(1);
    },
  );
}

process.on('message', (m: PoolMessage) => {
  switch (m.type) {
    case 'load':
      gateway.load(
        m.entries.map(([name, bytes]) => decode(name, bytes)),
        m.height,
      );
      if (!listening) listen();
      break;
    case 'apply':
      gateway.apply(
        new Map(m.changes.map(([name, bytes]) => [name, bytes === null ? null : decode(name, bytes)])),
        m.height,
      );
      break;
    case 'stats':
      send({ type: 'stats', stats: gateway.stats, names: gateway.size });
      break;
  }
});
// The node went away (even by kill -9): nothing left to serve for.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
