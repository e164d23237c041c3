/**
 * Off-chain app hosting (the run module): this node serves hosted app instances (created with
 * hosted = 1) as backends. Peers call them over the comm protocol (topic `vos/app/1`, authenticated
 * both ways): one request frame rlp([app 32, method, [u64 arg...], gas, input]), one reply frame of
 * JSON (the app_query answer shape, or {error: {code, message}}).
 *
 * Each call runs in the app's worker (vm/hosted/runner.ts) with the same instrumented module and gas
 * as on chain, a wall-clock timeout, and the off-chain host APIs (distributed storage within this
 * node's quota, messages through comm, the search index). Its gas is charged to the caller's appGas
 * quota of the control module for the current epoch: a call whose budget does not fit is refused
 * (APP_QUOTA) before it runs; a call that runs out of gas is charged its whole budget. The budget is
 * reserved when the call is admitted (parallel calls cannot overdraw) and settled to the gas used when
 * it ends. Calls of one app run one at a time, each from the state the previous one left. The app's
 * state lives on this node, in <home>/data/apps/<id>.state (written after each call that ends ok).
 */
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stream } from '@libp2p/interface';
import { Address } from '../chain/address.js';
import { asList, CodecError, decodeRlp, encodeRlp } from '../chain/codec.js';
import { TxFailure } from '../chain/ledger/failure.js';
import type { Receipt } from '../chain/receipt.js';
import { readFrame, sendFrame } from '../p2p/framing.js';
import type { CommService } from '../services/comm/service.js';
import type { SearchIndex } from '../services/search/index.js';
import { type StorageApiDeps, storageRpc } from '../services/storage/api.js';
import { fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { HostedOp } from '../vm/host.js';
import { HostedRunner, type HostedServices } from '../vm/hosted/runner.js';
import { effectsToJSON } from '../vm/query.js';
import {
  AppTxKind,
  appAccount,
  decodeAppState,
  decodeCallFields,
  type Instance,
  loadApp,
  MAX_APP_STATE_BYTES,
  MAX_INPUT_BYTES,
  prepareCall,
} from '../vm/state.js';

export const APP_TOPIC = 'vos/app/1';
const MAX_REQUEST = MAX_INPUT_BYTES + 4096;
/**
 * A reply's bytes. The worst case of an answer (16 KiB of output, 16 events and 64 log lines of 1 KiB,
 * as hex and as JSON-escaped text) is ~650 KiB; replyBytes keeps a reply within MAX_REPLY regardless.
 */
export const MAX_REPLY = 1024 * 1024;
/** Callers tracked in the quota ledger; calls in flight per caller; calls queued per served app. */
const MAX_CHARGED = 100_000;
export const MAX_IN_FLIGHT = 4;
export const MAX_QUEUE = 64;

export class AppHostError extends VosError<{ code: string }> {}

export interface HostedCall {
  app: Uint8Array;
  method: string;
  args: bigint[];
  gas: bigint;
  input: Uint8Array;
}

export function encodeHostedCall(c: HostedCall): Uint8Array {
  return encodeRlp([c.app, c.method, c.args, c.gas, c.input]);
}

export function decodeHostedCall(b: Uint8Array): HostedCall {
  // The same fields, limits and errors as an app-call tx's payload.
  return decodeCallFields(asList(decodeRlp(b, 'hosted call'), 'hosted call'));
}

export interface AppHostDeps {
  comm: CommService;
  /** Committed state at the head. */
  getState(key: Uint8Array): Promise<Uint8Array | undefined>;
  head(): { height: number; time: number };
  /** The caller's appGas quota for this epoch, and the epoch's number. */
  appGasQuota(address: string): Promise<number>;
  epoch(): number;
  dataDir: string;
  timeoutMs: number;
  hosted(op: HostedOp, args: Uint8Array[]): Promise<Uint8Array | null>;
  logger: Logger;
  onCall?: (halt: string, gasUsed: bigint) => void;
  /** The runner of a served app (default: a HostedRunner, one worker; tests pass their own). */
  runner?: (services: HostedServices, timeoutMs: number, preload: string[]) => AppRunner;
}

export type AppRunner = Pick<HostedRunner, 'call' | 'close'>;

interface Served {
  id: string;
  runner: AppRunner;
  state: Map<string, Uint8Array>;
  /** The state's encoded size (a call's load of it is charged as on chain). */
  stateBytes: number;
  /** The last call queued (calls run one after another) and how many are queued or running. */
  queue: Promise<unknown>;
  waiting: number;
}

/** A caller's gas this epoch (charged, plus the budgets of its calls in flight). */
interface Charge {
  epoch: number;
  gas: bigint;
  inFlight: number;
}

/**
 * A reply's JSON within MAX_REPLY bytes: past it, log lines are left out from the end (logsTruncated);
 * if that is not enough, an APP_REPLY_TOO_LARGE error instead.
 */
export function replyBytes(v: unknown): Uint8Array {
  const whole = Buffer.from(JSON.stringify(v), 'utf8');
  if (whole.length <= MAX_REPLY) return new Uint8Array(whole);
  const o = v as { logs?: unknown };
  if (Array.isArray(o.logs)) {
    let size = Buffer.byteLength(JSON.stringify({ ...o, logs: [], logsTruncated: true }), 'utf8');
    const logs: string[] = [];
    for (const line of o.logs as string[]) {
      const n = Buffer.byteLength(JSON.stringify(line), 'utf8') + (logs.length > 0 ? 1 : 0);
      if (size + n > MAX_REPLY) break;
      size += n;
      logs.push(line);
    }
    if (size <= MAX_REPLY)
      return new Uint8Array(Buffer.from(JSON.stringify({ ...o, logs, logsTruncated: true }), 'utf8'));
  }
  return new Uint8Array(
    Buffer.from(
      JSON.stringify({
        error: { code: 'APP_REPLY_TOO_LARGE', message: `the answer is over ${MAX_REPLY} bytes` },
      }),
      'utf8',
    ),
  );
}

const busy = (message: string) => new AppHostError({ code: 'APP_BUSY' }, message);

export class AppHost {
  readonly #served = new Map<string, Served>();
  /** serve() calls under way, by app (two at once share one). */
  readonly #serving = new Map<string, Promise<Served>>();
  /** Gas charged per caller in the current epoch. */
  readonly #charged = new Map<string, Charge>();
  /** The epoch #charged was last pruned in. */
  #prunedAt = -1;
  #writes = 0;
  #closed = false;

  constructor(readonly d: AppHostDeps) {}

  get served(): string[] {
    return [...this.#served.keys()];
  }

  start(): void {
    this.d.comm.handleStream(APP_TOPIC, (stream, from) => {
      void this.#answer(stream, from.address).catch((err) => {
        this.d.logger.debug({ err, from: from.address }, 'hosted app call failed');
        stream.abort(err as Error);
      });
    });
  }

  /** Serve a hosted instance (it must exist on chain with hosted = 1); its state from disk. */
  async serve(app: string): Promise<{ app: string; stateBytes: number }> {
    const id = toHex(fromHex(app, 32));
    let served = this.#served.get(id);
    if (served === undefined) {
      let p = this.#serving.get(id);
      if (p === undefined) {
        p = this.#open(id).finally(() => this.#serving.delete(id));
        this.#serving.set(id, p);
      }
      served = await p;
    }
    return { app: id, stateBytes: served.stateBytes };
  }

  async #open(id: string): Promise<Served> {
    let instance: Instance;
    try {
      ({ instance } = await loadApp({ get: this.d.getState }, fromHex(id, 32), { hosted: true }));
    } catch (err) {
      if (err instanceof TxFailure) throw new AppHostError({ code: err.code }, `${id}: ${err.code}`);
      throw err;
    }
    if (!instance.hosted)
      throw new AppHostError(
        { code: 'APP_NOT_HOSTED' },
        `app ${id} runs on chain; only instances created with --hosted are served off chain`,
      );
    let state = new Map<string, Uint8Array>();
    let stateBytes = 0;
    try {
      const bytes = await readFile(this.#file(id));
      state = decodeAppState(bytes);
      stateBytes = bytes.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.#closed) throw new AppHostError({ code: 'APP_NOT_SERVED' }, 'the node is closing');
    const services = { read: this.d.getState, hosted: this.d.hosted };
    const preload = [new URL('./app-lookups.js', import.meta.url).href];
    const served: Served = {
      id,
      runner:
        this.d.runner?.(services, this.d.timeoutMs, preload) ??
        new HostedRunner(services, this.d.timeoutMs, preload),
      state,
      stateBytes,
      queue: Promise.resolve(),
      waiting: 0,
    };
    this.#served.set(id, served);
    this.d.logger.info({ app: id }, 'serving a hosted app');
    return served;
  }

  #file(id: string): string {
    return join(this.d.dataDir, `${id.slice(2)}.state`);
  }

  async #prepare(id: string, method: string, args: bigint[]) {
    try {
      return await prepareCall({ get: this.d.getState }, fromHex(id, 32), method, args, { hosted: true });
    } catch (err) {
      if (err instanceof TxFailure) throw new AppHostError({ code: err.code }, `${id}: ${err.code}`);
      throw err;
    }
  }

  #servedOf(id: string): Served {
    const s = this.#served.get(id);
    if (s === undefined) throw new AppHostError({ code: 'APP_NOT_SERVED' }, `this node does not serve ${id}`);
    return s;
  }

  /**
   * Admit a call of `caller`: its budget is reserved in the quota ledger at once (synchronously after
   * the quota read, so parallel calls see each other's budgets).
   */
  #reserve(caller: string, gas: bigint, quota: bigint, epoch: number): Charge {
    const e = this.#charged.get(caller);
    if (e !== undefined && e.inFlight >= MAX_IN_FLIGHT)
      throw busy(`the caller has ${MAX_IN_FLIGHT} calls in flight on this node`);
    const used = e?.epoch === epoch ? e.gas : 0n;
    if (used + gas > quota)
      throw new AppHostError(
        { code: 'APP_QUOTA' },
        `a budget of ${gas} gas would exceed the caller's app gas quota: ${used} of ${quota} used this epoch`,
      );
    let c = e;
    if (c === undefined) {
      // Full: drop the callers of past epochs (once an epoch) rather than everyone's usage.
      if (this.#charged.size >= MAX_CHARGED && this.#prunedAt !== epoch) {
        this.#prunedAt = epoch;
        for (const [k, x] of this.#charged)
          if (x.epoch !== epoch && x.inFlight === 0) this.#charged.delete(k);
      }
      if (this.#charged.size >= MAX_CHARGED) throw busy('this node serves too many callers this epoch');
      c = { epoch, gas: 0n, inFlight: 0 };
      this.#charged.set(caller, c);
    } else if (c.epoch !== epoch) {
      c.epoch = epoch;
      c.gas = 0n;
    }
    c.gas += gas;
    c.inFlight++;
    return c;
  }

  /** Run one call for `caller` (an authenticated address), charging its quota. */
  async run(caller: string, c: HostedCall) {
    const id = toHex(c.app);
    this.#servedOf(id);
    const quota = BigInt(await this.d.appGasQuota(caller));
    // No await from here to the reservation.
    const served = this.#servedOf(id);
    if (served.waiting >= MAX_QUEUE) throw busy(`${MAX_QUEUE} calls of ${id} are queued on this node`);
    const epoch = this.d.epoch();
    const charge = this.#reserve(caller, c.gas, quota, epoch);
    served.waiting++;
    // The reservation is settled to the gas used once the call ran; refunded in full if it did not.
    let ran = false;
    const settle = (gasUsed: bigint) => {
      if (charge.epoch === epoch) charge.gas -= c.gas - gasUsed;
    };
    const call = async () => {
      // From here on, no other call of this app runs: the state is the one the last call left.
      const p = await this.#prepare(id, c.method, c.args);
      const { height, time } = this.d.head();
      const r = await served.runner.call({
        app: p.app,
        state: served.state,
        stateBytes: served.stateBytes,
        method: p.method,
        args: p.args,
        gas: c.gas,
        env: {
          caller: Address.fromString(caller).bytes,
          self: c.app,
          account: appAccount(c.app).bytes,
          height,
          time,
          input: c.input,
        },
      });
      ran = true;
      settle(r.gasUsed);
      this.d.onCall?.(r.halt, r.gasUsed);
      const quotaOf = { quotaUsed: charge.gas.toString(), quota: quota.toString() };
      // encoded: the call ended ok and changed the state (an unchanged state is not written).
      const bytes = r.halt === 'ok' ? r.encoded : undefined;
      if (bytes !== undefined) {
        if (bytes.length > MAX_APP_STATE_BYTES)
          return {
            ...effectsToJSON({ ...r, halt: 'trap', message: 'the app state is over 1 MiB' }),
            ...quotaOf,
          };
        await mkdir(this.d.dataDir, { recursive: true });
        const file = this.#file(id);
        const tmp = `${file}.${process.pid}.${++this.#writes}.tmp`;
        try {
          await writeFile(tmp, bytes);
          await rename(tmp, file);
        } catch (err) {
          await unlink(tmp).catch(() => undefined);
          throw err;
        }
        served.state = r.state;
        served.stateBytes = bytes.length;
      }
      return { ...effectsToJSON(r), ...quotaOf };
    };
    try {
      const next = served.queue.then(call);
      served.queue = next.catch(() => undefined);
      return await next;
    } finally {
      if (!ran) settle(0n);
      served.waiting--;
      charge.inFlight--;
      if (charge.inFlight === 0 && charge.gas === 0n && this.#charged.get(caller) === charge)
        this.#charged.delete(caller);
    }
  }

  async #answer(stream: Stream, caller: string): Promise<void> {
    const req = await readFrame(stream, MAX_REQUEST, 10_000);
    if (req === undefined) return;
    let out: unknown;
    try {
      out = await this.run(caller, decodeHostedCall(req));
    } catch (err) {
      if (err instanceof AppHostError) out = { error: { code: err.code, message: err.message } };
      else if (err instanceof CodecError) out = { error: { code: 'APP_MALFORMED', message: err.message } };
      else {
        // Not for the peer: paths, internal state.
        this.d.logger.warn({ err, from: caller }, 'hosted app call failed');
        out = { error: { code: 'APP_ERROR', message: 'internal error' } };
      }
    }
    await sendFrame(stream, replyBytes(out), 10_000);
    await stream.close().catch(() => undefined);
  }

  /** Call an app hosted by `via` (a name or address) over comm. */
  async callRemote(via: string, c: HostedCall): Promise<Record<string, unknown>> {
    const stream = await this.d.comm.openStream(via, APP_TOPIC);
    try {
      await sendFrame(stream, encodeHostedCall(c), 10_000);
      // The serving node bounds a call at 10x its timeout plus its host calls' time (runner.ts);
      // the call may wait in that app's queue first.
      const bytes = await readFrame(stream, MAX_REPLY, 20 * this.d.timeoutMs + 60_000);
      if (bytes === undefined)
        throw new AppHostError({ code: 'APP_NO_ANSWER' }, `${via} closed the stream without an answer`);
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(bytes).toString('utf8'));
      } catch {
        throw new AppHostError({ code: 'APP_BAD_ANSWER' }, `${via} answered something that is not JSON`);
      }
      if (typeof v !== 'object' || v === null)
        throw new AppHostError({ code: 'APP_BAD_ANSWER' }, `${via} answered ${typeof v}`);
      const e = (v as { error?: { code?: unknown; message?: unknown } }).error;
      if (e !== undefined)
        throw new AppHostError(
          { code: typeof e.code === 'string' && /^APP_[A-Z_]+$/.test(e.code) ? e.code : 'APP_REMOTE_ERROR' },
          `${via}: ${String(e.message).slice(0, 300)}`,
        );
      return v as Record<string, unknown>;
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#serving.values());
    for (const s of this.#served.values()) await s.runner.close();
    this.#served.clear();
  }
}

export interface HostedOpsDeps {
  storage: StorageApiDeps;
  comm: CommService;
  search: SearchIndex;
}

/** The off-chain host calls over this node's services (vm/host.ts documents each). */
export function hostedOps(d: HostedOpsDeps): AppHostDeps['hosted'] {
  const rpc = storageRpc(d.storage);
  const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  return async (op, args) => {
    switch (op) {
      case 'dstore_put': {
        const r = (await rpc.storage_put([{ data: toHex(args[0]), distributed: true }])) as { id: string };
        return bytes(r.id);
      }
      case 'dstore_get': {
        try {
          return fromHex((await rpc.storage_get([text(args[0])])).data);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (code === 'OBJECT_NOT_FOUND' || code === 'NOT_FOUND' || code === 'INVALID_CID') return null;
          throw err;
        }
      }
      case 'comm_send': {
        try {
          return bytes((await d.comm.send(text(args[0]), text(args[1]))).status);
        } catch {
          return null; // the app sees 1: not sent
        }
      }
      case 'search': {
        const { results } = d.search.query({ q: text(args[0]), limit: 10 });
        return bytes(
          JSON.stringify(results.map((x) => ({ id: x.id, title: x.title, kind: x.kind, owner: x.owner }))),
        );
      }
    }
  };
}

/** vos_app_calls_total / vos_app_gas_used_total for a committed block's app-call txs. */
export function countAppCalls(
  m: {
    appCalls: { inc(l: { where: string; halt: string }): void };
    appGas: { inc(l: { where: string }, n: number): void };
  },
  txs: readonly { kind: number }[],
  receipts: readonly Receipt[],
): void {
  txs.forEach((tx, i) => {
    if (tx.kind !== AppTxKind.Call) return;
    const r = receipts[i];
    const ev = r.events.find((e) => e.type === 'app-call');
    const halt =
      ev !== undefined
        ? 'ok'
        : (/^APP_(OUT_OF_GAS|STACK_LIMIT|TRAP|ABORT)/.exec(r.error)?.[1] ?? 'refused').toLowerCase();
    m.appCalls.inc({ where: 'tx', halt });
    const gas = ev?.attributes.find(([k]) => k === 'gasUsed')?.[1];
    if (typeof gas === 'string') m.appGas.inc({ where: 'tx' }, Number(gas));
  });
}
