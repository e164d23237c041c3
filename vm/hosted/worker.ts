/**
 * The worker thread of one hosted app: runs calls (vm/call.ts, the same instrumented module and gas
 * as on chain) one at a time. Chain reads and the off-chain host calls block on the bridge
 * (bridge.ts), so a call runs once and its side effects (a message sent, a file stored) happen once.
 * The node terminates the worker past its wall-clock budget, so nothing the app does can stall it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCall } from '../call.js';
import type { CallEnv, HostedOp } from '../host.js';
import type { CompiledApp } from '../runtime.js';
import { awaitAnswer, buffersOf } from './bridge.js';

export interface WorkerCall {
  type: 'call';
  app: CompiledApp;
  state: Map<string, Uint8Array>;
  /** The state's encoded size (its load is charged as on chain); 0 when not known. */
  stateBytes?: number;
  method: string;
  args: (number | bigint)[];
  gas: bigint;
  env: CallEnv;
}

export type WorkerRequest =
  | { type: 'read'; key: Uint8Array }
  | { type: 'hosted'; op: HostedOp; args: Uint8Array[] };

const port = parentPort;
if (port === null) throw new Error('vm/hosted/worker.ts runs as a worker thread');
const data = workerData as { sab: SharedArrayBuffer; preload: string[] };
const bridge = buffersOf(data.sab);
for (const url of data.preload) await import(url);

port.on('message', (m: WorkerCall) => {
  if (m.type === 'call') void run(m);
});

async function run(c: WorkerCall): Promise<void> {
  // The node's wall clock for this call starts here, not while the worker loads.
  port!.postMessage({ type: 'start' });
  try {
    const readSync = (key: Uint8Array): Uint8Array | undefined => {
      port!.postMessage({ type: 'read', key } satisfies WorkerRequest);
      return awaitAnswer(bridge) ?? undefined;
    };
    const r = await runCall({
      app: c.app,
      state: c.state,
      stateBytes: c.stateBytes ?? 0,
      method: c.method,
      args: c.args,
      gas: c.gas,
      env: c.env,
      readSync,
      read: async (key) => readSync(key),
      hosted: (op, args) => {
        port!.postMessage({ type: 'hosted', op, args } satisfies WorkerRequest);
        return awaitAnswer(bridge);
      },
    });
    port!.postMessage({ type: 'done', result: r });
  } catch (err) {
    port!.postMessage({ type: 'error', message: String((err as Error)?.message ?? err) });
  }
}
