/**
 * Runs calls of one hosted app in its own worker thread, one at a time, each bounded by its gas and
 * by a wall-clock timeout: past it the worker is terminated (the halt is `timeout`, the whole budget
 * is charged) and a fresh worker takes the next call. The node answers the worker's chain reads and
 * off-chain host calls through `HostedServices`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CallOutcome } from '../call.js';
import { type HostedOp, newEffects } from '../host.js';
import { answer, type BridgeBuffers, newBridge } from './bridge.js';

/** The most one read or off-chain host call may take on the node's side. */
const OP_TIMEOUT_MS = 30_000;

import type { WorkerCall, WorkerRequest } from './worker.js';

export interface HostedServices {
  read(key: Uint8Array): Promise<Uint8Array | undefined>;
  hosted(op: HostedOp, args: Uint8Array[]): Promise<Uint8Array | null>;
}

export type HostedOutcome = Omit<CallOutcome, 'halt'> & { halt: CallOutcome['halt'] | 'timeout' };

/** The worker's built file (tests run the sources; the worker runs the build, as the node does). */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../dist/vm/hosted/worker.js', import.meta.url);
}

export class HostedRunner {
  #worker: Worker | undefined;
  #bridge: { sab: SharedArrayBuffer; buffers: BridgeBuffers } | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * `preload`: module URLs the worker imports first (the node's lookups of vm/lookups.ts: the worker
   * has its own module instances, and vm cannot import them itself).
   */
  constructor(
    readonly services: HostedServices,
    readonly timeoutMs: number,
    readonly preload: readonly string[] = [],
  ) {}

  #spawn(): { worker: Worker; buffers: BridgeBuffers } {
    if (this.#worker === undefined || this.#bridge === undefined) {
      this.#bridge = newBridge();
      this.#worker = new Worker(workerUrl(), {
        workerData: { sab: this.#bridge.sab, preload: this.preload },
        resourceLimits: { maxOldGenerationSizeMb: 256 },
      });
      this.#worker.unref();
    }
    return { worker: this.#worker, buffers: this.#bridge.buffers };
  }

  /** The most one call may take, the node's work for its host calls included. */
  get maxCallMs(): number {
    return 10 * this.timeoutMs + OP_TIMEOUT_MS;
  }

  #kill(): void {
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#bridge = undefined;
  }

  /** Calls run one after another (the app's state is one). */
  call(c: Omit<WorkerCall, 'type'>): Promise<HostedOutcome> {
    const next = this.#queue.then(() => this.#run(c));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #run(c: Omit<WorkerCall, 'type'>): Promise<HostedOutcome> {
    const { worker, buffers } = this.#spawn();
    return new Promise<HostedOutcome>((resolve) => {
      let settled = false;
      const finish = (o: HostedOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(overall);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(o);
      };
      const failed = (halt: HostedOutcome['halt'], message: string): HostedOutcome => ({
        halt,
        gasUsed: c.gas,
        message,
        state: c.state,
        effects: newEffects(),
      });
      // The wall clock counts the app's own time: it stops while the node does a read or a hosted op
      // for it (each bounded by OP_TIMEOUT_MS).
      let left = this.timeoutMs;
      let since = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const expire = (message: string) => {
        if (settled) return;
        this.#kill();
        finish(failed('timeout', message));
      };
      const resume = () => {
        if (settled) return;
        since = performance.now();
        timer = setTimeout(() => expire(`the call ran past ${this.timeoutMs} ms`), Math.max(0, left));
      };
      const pause = () => {
        if (settled) return;
        clearTimeout(timer);
        left -= performance.now() - since;
        timer = setTimeout(() => expire(`a host call took over ${OP_TIMEOUT_MS} ms`), OP_TIMEOUT_MS);
      };
      // The node's own time for the app's host calls is bounded too: the whole call at most this.
      const overall = setTimeout(
        () => expire(`the call took over ${this.maxCallMs} ms with its host calls`),
        this.maxCallMs,
      );
      const onError = (err: Error) => {
        this.#kill();
        finish(failed('trap', `the app's worker failed: ${err.message}`));
      };
      const onExit = () => {
        this.#worker = undefined;
        finish(failed('trap', "the app's worker exited"));
      };
      const onMessage = (
        m:
          | WorkerRequest
          | { type: 'start' }
          | { type: 'done'; result: CallOutcome }
          | { type: 'error'; message: string },
      ) => {
        if (m.type === 'start') {
          clearTimeout(timer);
          resume();
        } else if (m.type === 'done') finish(m.result);
        else if (m.type === 'error') finish(failed('trap', m.message));
        else {
          pause();
          // A failed read or op halts the app (trap), never reads as "absent".
          const work = m.type === 'read' ? this.services.read(m.key) : this.services.hosted(m.op, m.args);
          work.then(
            (v) => {
              clearTimeout(timer);
              resume();
              answer(buffers, v ?? null);
            },
            (err: Error) => {
              clearTimeout(timer);
              resume();
              answer(buffers, err instanceof Error ? err : new Error(String(err)));
            },
          );
        }
      };
      // Until the worker starts the call (a new worker loads its modules first).
      timer = setTimeout(
        () => expire(`the app's worker did not start in ${OP_TIMEOUT_MS} ms`),
        OP_TIMEOUT_MS,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ type: 'call', ...c } satisfies WorkerCall);
    });
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
    this.#worker = undefined;
  }
}
