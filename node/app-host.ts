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
 * (APP_QUOTA) before it runs; a call that runs out of gas is charged its whole budget. The app's state
 * lives on this node, in <home>/data/apps/<id>.state (written after each call that ends ok).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stream } from '@libp2p/interface';
import { Address } from '../chain/address.js';
import {
  asBigint,
  asBoundedBytes,
  asBytes,
  asList,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
} from '../chain/codec.js';
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
import { HostedRunner } from '../vm/hosted/runner.js';
import { effectsToJSON } from '../vm/query.js';
import {
  AppTxKind,
  appAccount,
  decodeAppState,
  encodeAppState,
  type Instance,
  loadApp,
  MAX_APP_STATE_BYTES,
  MAX_CALL_GAS,
  MAX_INPUT_BYTES,
  prepareCall,
} from '../vm/state.js';

export const APP_TOPIC = 'vos/app/1';
const MAX_REQUEST = MAX_INPUT_BYTES + 4096;
const MAX_REPLY = 256 * 1024;
const MAX_CHARGED = 100_000;

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
  const f = asList(decodeRlp(b, 'hosted call'), 'hosted call', 5);
  const args = asList(f[2], 'args');
  if (args.length > 16) throw new CodecError('INVALID_FIELD', 'args', 'at most 16');
  return {
    app: asBytes(f[0], 'app', 32),
    method: asString(f[1], 'method', 64),
    args: args.map((a, i) => asBigint(a, `args[${i}]`, (1n << 64n) - 1n)),
    gas: asBigint(f[3], 'gas', MAX_CALL_GAS),
    input: asBoundedBytes(f[4], 'input', MAX_INPUT_BYTES),
  };
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
}

interface Served {
  id: string;
  runner: HostedRunner;
  state: Map<string, Uint8Array>;
}

const reply = (stream: Stream, v: unknown) =>
  sendFrame(stream, new Uint8Array(Buffer.from(JSON.stringify(v), 'utf8')), 10_000);

export class AppHost {
  readonly #served = new Map<string, Served>();
  /** Gas charged per caller in the current epoch. */
  readonly #charged = new Map<string, { epoch: number; gas: bigint }>();

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
    const existing = this.#served.get(id);
    if (existing !== undefined)
      return { app: id, stateBytes: existing.state.size === 0 ? 0 : encodeAppState(existing.state).length };
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
    try {
      state = decodeAppState(await readFile(this.#file(id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#served.set(id, {
      id,
      runner: new HostedRunner({ read: this.d.getState, hosted: this.d.hosted }, this.d.timeoutMs, [
        new URL('./app-lookups.js', import.meta.url).href,
      ]),
      state,
    });
    this.d.logger.info({ app: id }, 'serving a hosted app');
    return { app: id, stateBytes: state.size === 0 ? 0 : encodeAppState(state).length };
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

  /** Run one call for `caller` (an authenticated address), charging its quota. */
  async run(caller: string, c: HostedCall) {
    const id = toHex(c.app);
    const served = this.#served.get(id);
    if (served === undefined)
      throw new AppHostError({ code: 'APP_NOT_SERVED' }, `this node does not serve ${id}`);
    const p = await this.#prepare(id, c.method, c.args);
    const epoch = this.d.epoch();
    const quota = BigInt(await this.d.appGasQuota(caller));
    const before = this.#charged.get(caller);
    const used = before?.epoch === epoch ? before.gas : 0n;
    if (used + c.gas > quota)
      throw new AppHostError(
        { code: 'APP_QUOTA' },
        `a budget of ${c.gas} gas would exceed the caller's app gas quota: ${used} of ${quota} used this epoch`,
      );
    const { height, time } = this.d.head();
    const r = await served.runner.call({
      app: p.app,
      state: served.state,
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
    if (this.#charged.size >= MAX_CHARGED && !this.#charged.has(caller)) this.#charged.clear();
    this.#charged.set(caller, { epoch, gas: used + r.gasUsed });
    this.d.onCall?.(r.halt, r.gasUsed);
    if (r.halt === 'ok') {
      const bytes = encodeAppState(r.state);
      if (bytes.length > MAX_APP_STATE_BYTES)
        return {
          ...effectsToJSON({ ...r, halt: 'trap', message: 'the app state is over 1 MiB' }),
          charged: used + r.gasUsed,
        };
      served.state = r.state;
      await mkdir(this.d.dataDir, { recursive: true });
      const file = this.#file(id);
      await writeFile(`${file}.tmp`, bytes);
      await rename(`${file}.tmp`, file);
    }
    return { ...effectsToJSON(r), quotaUsed: (used + r.gasUsed).toString(), quota: quota.toString() };
  }

  async #answer(stream: Stream, caller: string): Promise<void> {
    const req = await readFrame(stream, MAX_REQUEST, 10_000);
    if (req === undefined) return;
    let out: unknown;
    try {
      out = await this.run(caller, decodeHostedCall(req));
    } catch (err) {
      const code =
        err instanceof AppHostError ? err.code : err instanceof CodecError ? 'APP_MALFORMED' : 'APP_ERROR';
      out = { error: { code, message: (err as Error).message } };
    }
    await reply(stream, out);
    await stream.close().catch(() => undefined);
  }

  /** Call an app hosted by `via` (a name or address) over comm. */
  async callRemote(via: string, c: HostedCall): Promise<Record<string, unknown>> {
    const stream = await this.d.comm.openStream(via, APP_TOPIC);
    try {
      await sendFrame(stream, encodeHostedCall(c), 10_000);
      const bytes = await readFrame(stream, MAX_REPLY, this.d.timeoutMs + 30_000);
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
