/**
 * The chain as the page sees it live: the latest heads (header fields, hash, tx count) from the
 * WebSocket's newHeads, a window of the last WINDOW blocks filled from chain_getBlock at start and
 * after a gap, and node_status polling while the WebSocket is down.
 */
import type { Payload, Result, Rpc, RpcSocket, SocketState } from './rpc.js';

export const WINDOW = 60;
const POLL_MS = 3000;

export interface Head {
  height: number;
  hash: string;
  time: number;
  txs: number;
  proposer: string;
}

type Listener = () => void;

export class HeadFeed {
  readonly #rpc: Rpc;
  readonly #socket: RpcSocket;
  /** Ascending by height, at most WINDOW. */
  #heads: Head[] = [];
  #socketState: SocketState = 'closed';
  #error: string | undefined;
  readonly #listeners = new Set<Listener>();
  #started = false;
  #filling: Promise<void> | undefined;

  constructor(rpc: Rpc, socket: RpcSocket) {
    this.#rpc = rpc;
    this.#socket = socket;
  }

  get heads(): readonly Head[] {
    return this.#heads;
  }

  get latest(): Head | undefined {
    return this.#heads[this.#heads.length - 1];
  }

  get socketState(): SocketState {
    return this.#socketState;
  }

  get error(): string | undefined {
    return this.#error;
  }

  listen(fn: Listener): () => void {
    this.#listeners.add(fn);
    this.#start();
    return () => this.#listeners.delete(fn);
  }

  #emit(): void {
    for (const fn of this.#listeners) fn();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#socket.onState((s) => {
      this.#socketState = s;
      this.#emit();
    });
    this.#socket.subscribe('newHeads', (h) => this.#onHead(h));
    void this.#poll();
    setInterval(() => {
      if (this.#socket.state !== 'open') void this.#poll();
    }, POLL_MS);
  }

  async #poll(): Promise<void> {
    try {
      const s = await this.#rpc.call('node_status');
      this.#error = undefined;
      await this.#fillTo(s.height);
    } catch (err) {
      this.#error = (err as Error).message;
      this.#emit();
    }
  }

  #onHead(h: Payload<'newHeads'>): void {
    const last = this.latest;
    if (last !== undefined && h.height <= last.height) return;
    if (last !== undefined && h.height > last.height + 1) {
      void this.#fillTo(h.height);
      return;
    }
    this.#push({ height: h.height, hash: h.hash, time: h.time, txs: h.txs, proposer: h.proposer });
  }

  #push(h: Head): void {
    const last = this.latest;
    if (last !== undefined && h.height <= last.height) return;
    this.#heads = [...this.#heads, h].slice(-WINDOW);
    this.#emit();
  }

  /** Fetch the blocks missing up to `height` (the last WINDOW at most), in batches. */
  #fillTo(height: number): Promise<void> {
    const run = async () => {
      const from = Math.max(1, (this.latest?.height ?? 0) + 1, height - WINDOW + 1);
      for (let start = from; start <= height; start += 20) {
        const hs: number[] = [];
        for (let x = start; x <= Math.min(height, start + 19); x++) hs.push(x);
        const blocks = await this.#rpc.batch(hs.map((x) => ({ method: 'chain_getBlock', params: [x] })));
        for (const b of blocks) {
          if (b === null || b instanceof Error) continue;
          const block = b as NonNullable<Result<'chain_getBlock'>>;
          this.#push({
            height: block.header.height,
            hash: block.hash,
            time: block.header.time,
            txs: block.txs.length,
            proposer: block.header.proposer,
          });
        }
      }
    };
    const prev = this.#filling ?? Promise.resolve();
    const next = prev.then(run, run);
    this.#filling = next.catch((err) => {
      this.#error = (err as Error).message;
      this.#emit();
    });
    return this.#filling;
  }
}

/** Block interval (s) and tx/s of each head after the first of the window. */
export function rates(heads: readonly Head[]): { height: number; interval: number; tps: number }[] {
  const out: { height: number; interval: number; tps: number }[] = [];
  for (let i = 1; i < heads.length; i++) {
    if (heads[i].height !== heads[i - 1].height + 1) continue;
    const interval = Math.max(0, heads[i].time - heads[i - 1].time) / 1000;
    out.push({ height: heads[i].height, interval, tps: interval > 0 ? heads[i].txs / interval : 0 });
  }
  return out;
}

/** Mean block time (s) and tx/s over the window. */
export function summary(heads: readonly Head[]): { blockTime: number | null; tps: number | null } {
  if (heads.length < 2) return { blockTime: null, tps: null };
  const first = heads[0];
  const last = heads[heads.length - 1];
  const span = (last.time - first.time) / 1000;
  if (span <= 0) return { blockTime: null, tps: null };
  let txs = 0;
  for (let i = 1; i < heads.length; i++) txs += heads[i].txs;
  return { blockTime: span / (last.height - first.height), tps: txs / span };
}
