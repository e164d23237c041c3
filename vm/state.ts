/**
 * App lifecycle tx kinds (consensus-critical) and app state in the authenticated state:
 *
 *   app-deploy  = [code]                                   code stored by its sha256 (checked first)
 *   app-create  = [codeHash 32, hosted 0|1]                an instance: id = sha256("vos/app/1" | sender | nonce)
 *   app-call    = [appId 32, method, [i64 arg...], gas, input]   runs the export with `gas` (paid in full)
 *   app-migrate = [appId 32, codeHash 32]                  owner only: new code, same state
 *
 *   app/code/<hash 32>  -> the module bytes
 *   app/inst/<id 32>    -> rlp([codeHash 32, owner 20, createdAt, hosted])
 *   app/state/<id 32>   -> rlp([[key, value]...]) sorted by key: the app's whole key-value state, read
 *                          before a call and written after it when it ends ok (WASM cannot wait for a
 *                          state read inside a host call; a state proof of this key proves any entry)
 *
 * Deploy checks every import against the host API (name and type). A module that imports an off-chain
 * API (dstore_*, comm_send, search) can only be created with hosted = 1: such an instance is served by
 * nodes off chain (vm/hosted) and refuses calls on chain (APP_HOSTED_ONLY).
 *
 * A call's halt is its receipt: ok (state written, transfers made, an `app-call` event with the value,
 * output and gas used, then the app's own `app-event`s) or a failure code APP_OUT_OF_GAS /
 * APP_STACK_LIMIT / APP_TRAP / APP_ABORT (nothing written). Each app has an account (appAccount) that
 * anyone can fund with a transfer and that only the app's `transfer` host call spends.
 */
import { createHash } from 'node:crypto';
import { ADDRESS_LENGTH, Address } from '../chain/address.js';
import {
  asBigint,
  asBoundedBytes,
  asBytes,
  asList,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpItem,
} from '../chain/codec.js';
import { getAccount, putAccount, type TxContext, U256_MAX } from '../chain/ledger/execute-tx.js';
import { TxFailure } from '../chain/ledger/failure.js';
import type { TxEvent } from '../chain/receipt.js';
import { expectFields, modulePayload, registerRlpTxKind, type TxPayload } from '../chain/tx/kinds.js';
import type { Tx } from '../chain/tx/tx.js';
import { toHex, u64be } from '../util/bytes.js';
import { decodeAppState, MAX_APP_STATE_BYTES } from './app-state.js';
import { runCall } from './call.js';
import { HOST_IMPORTS } from './host.js';
import { argsFor, type CompiledApp, compileApp } from './runtime.js';
import { decodeImports, decodeModule, type WasmModule } from './wasm/decoder.js';
import { WasmError } from './wasm/errors.js';
import { INSTRUMENTER_VERSION } from './wasm/instrument.js';
import { WASM_LIMITS } from './wasm/limits.js';
import { I32 } from './wasm/opcodes.js';

export enum AppTxKind {
  Deploy = 60,
  Create = 61,
  Call = 62,
  Migrate = 63,
}

const enc = (s: string) => Buffer.from(s, 'latin1');
export const APP_CODE_PREFIX = enc('app/code/');
export const APP_INST_PREFIX = enc('app/inst/');
export const APP_STATE_PREFIX = enc('app/state/');
export const codeKey = (h: Uint8Array) => Buffer.concat([APP_CODE_PREFIX, h]);
export const instanceKey = (id: Uint8Array) => Buffer.concat([APP_INST_PREFIX, id]);
export const stateKey = (id: Uint8Array) => Buffer.concat([APP_STATE_PREFIX, id]);

/** The most gas one call may ask for, and the most bytes of state an app keeps. */
export const MAX_CALL_GAS = 1_000_000_000n;
export { decodeAppState, encodeAppState, MAX_APP_STATE_BYTES } from './app-state.js';

const MAX_ARGS = 16;
const DEPLOY_GAS = 100_000n;
/**
 * Deploy decodes, instruments and compiles the module on every node: ~0.4 us per byte (bench vm), far
 * dearer per gas than running code. 400 gas per byte lets a 2 MiB module fit one block's gas and bounds
 * a block of deploys to ~1 s of instrumenting.
 */
const DEPLOY_GAS_PER_BYTE = 400n;
const CALL_BASE_GAS = 50_000n;

export const MAX_INPUT_BYTES = 16 * 1024;

export interface Instance {
  codeHash: Uint8Array;
  owner: Address;
  createdAt: number;
  /** Served off chain only (it imports an off-chain API). */
  hosted: boolean;
}

export function decodeInstance(b: Uint8Array): Instance {
  const f = asList(decodeRlp(b, 'app/inst'), 'app/inst', 4);
  return {
    codeHash: asBytes(f[0], 'codeHash', 32),
    owner: new Address(asBytes(f[1], 'owner', ADDRESS_LENGTH)),
    createdAt: Number(asBigint(f[2], 'createdAt')),
    hosted: flag(f[3], 'hosted'),
  };
}

const encodeInstance = (i: Instance) => encodeRlp([i.codeHash, i.owner.bytes, i.createdAt, i.hosted ? 1 : 0]);

function flag(item: RlpItem, what: string): boolean {
  const n = asBigint(item, what, 1n);
  return n === 1n;
}

/** The account an app holds funds in: anyone can fund it, only the app's `transfer` spends it. */
export function appAccount(id: Uint8Array): Address {
  const h = createHash('sha256').update('vos/app-account/1').update(id).digest();
  return new Address(h.subarray(0, ADDRESS_LENGTH));
}

/** The rule an import breaks (name or type), or null; the imports a hosted app needs. */
export function checkImports(m: Pick<WasmModule, 'types' | 'imports'>): {
  refused: string | null;
  hostedOnly: string[];
} {
  const hostedOnly: string[] = [];
  for (const imp of m.imports) {
    // Own properties only: "toString" or "__proto__" are not host calls.
    const want = Object.hasOwn(HOST_IMPORTS, imp.name) ? HOST_IMPORTS[imp.name] : undefined;
    const t = m.types[imp.type];
    if (want === undefined) return { refused: `UNKNOWN_IMPORT:env.${imp.name}`, hostedOnly };
    const same = (a: readonly number[], b: readonly number[]) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    // abort may be declared with fewer i32 params (it reads only the first, AssemblyScript's message).
    const abortLike =
      imp.name === 'abort' &&
      t.results.length === 0 &&
      t.params.length <= 4 &&
      t.params.every((p) => p === I32);
    if (!abortLike && (!same(want.params, t.params) || !same(want.results, t.results)))
      return { refused: `IMPORT_TYPE:env.${imp.name}`, hostedOnly };
    if (want.scope === 'hosted') hostedOnly.push(imp.name);
  }
  return { refused: null, hostedOnly };
}

export function appId(sender: Address, nonce: bigint): Uint8Array {
  return createHash('sha256').update('vos/app/1').update(sender.bytes).update(u64be(nonce)).digest();
}

/**
 * Compiled modules by code hash and instrumenter version (compiling is the expensive part), least
 * recently used first out, at most MAX_CACHED_BYTES of module bytes. A module that fails to compile
 * is not kept (deploy refuses it; nothing else compiles it).
 */
const CACHE = new Map<string, { p: Promise<CompiledApp>; bytes: number }>();
const MAX_CACHED_BYTES = 64 * 1024 * 1024;
let cachedBytes = 0;

function compiled(hash: Uint8Array, code: Uint8Array): Promise<CompiledApp> {
  const key = `${INSTRUMENTER_VERSION}/${toHex(hash)}`;
  const hit = CACHE.get(key);
  if (hit !== undefined) {
    CACHE.delete(key);
    CACHE.set(key, hit);
    return hit.p;
  }
  while (CACHE.size > 0 && cachedBytes + code.length > MAX_CACHED_BYTES) {
    const [oldest, e] = CACHE.entries().next().value as [string, { bytes: number }];
    CACHE.delete(oldest);
    cachedBytes -= e.bytes;
  }
  const entry = { p: compileApp(code), bytes: code.length };
  CACHE.set(key, entry);
  cachedBytes += entry.bytes;
  entry.p.catch(() => {
    if (CACHE.get(key) === entry) {
      CACHE.delete(key);
      cachedBytes -= entry.bytes;
    }
  });
  return entry.p;
}

async function instanceOf(ctx: TxContext, id: Uint8Array): Promise<Instance> {
  const v = await ctx.state.get(instanceKey(id));
  if (v === undefined) throw new TxFailure('APP_NOT_FOUND');
  return decodeInstance(v);
}

/** An instance on chain cannot run code that imports an off-chain API. */
function refuseHostedOnly(code: Uint8Array, hosted: boolean): void {
  // PERF: the code was checked whole at deploy: only its types and imports are decoded again.
  const { hostedOnly } = checkImports(decodeImports(code));
  if (hostedOnly.length > 0 && !hosted) throw new TxFailure(`APP_HOSTED_ONLY_IMPORT:env.${hostedOnly[0]}`);
}

export interface DeployBody {
  code: Uint8Array;
}
export interface CreateBody {
  codeHash: Uint8Array;
  hosted: boolean;
}
export interface CallBody {
  app: Uint8Array;
  method: string;
  args: bigint[];
  gas: bigint;
  input: Uint8Array;
}
export interface MigrateBody {
  app: Uint8Array;
  codeHash: Uint8Array;
}

registerRlpTxKind<DeployBody>((b: DeployBody) => DEPLOY_GAS + DEPLOY_GAS_PER_BYTE * BigInt(b.code.length), {
  kind: AppTxKind.Deploy,
  name: 'app-deploy',
  decode(f) {
    expectFields(f, 1, 'app-deploy');
    return { code: asBoundedBytes(f[0], 'code', WASM_LIMITS.moduleBytes) };
  },
  raw: (b) => [b.code],
  toJSON: (b) => ({ codeHash: toHex(createHash('sha256').update(b.code).digest()), size: b.code.length }),
  async execute(ctx: TxContext, _tx: Tx, b: DeployBody): Promise<TxEvent[]> {
    const hash = createHash('sha256').update(b.code).digest();
    let m: WasmModule;
    try {
      m = decodeModule(b.code);
    } catch (err) {
      if (err instanceof WasmError) throw new TxFailure(`APP_${err.code}:${err.rule}`);
      throw err;
    }
    const { refused } = checkImports(m);
    if (refused !== null) throw new TxFailure(`APP_${refused}`);
    // Our decoder leaves operand types to V8: a module V8 refuses is refused here, once, at deploy.
    try {
      await compiled(hash, b.code);
    } catch {
      throw new TxFailure('APP_INVALID_MODULE');
    }
    if ((await ctx.state.get(codeKey(hash))) === undefined) ctx.state.set(codeKey(hash), b.code);
    return [{ type: 'app-deploy', attributes: [['codeHash', hash]] }];
  },
});

registerRlpTxKind<CreateBody>(40_000n, {
  kind: AppTxKind.Create,
  name: 'app-create',
  decode(f) {
    expectFields(f, 2, 'app-create');
    return { codeHash: asBytes(f[0], 'codeHash', 32), hosted: flag(f[1], 'hosted') };
  },
  raw: (b) => [b.codeHash, b.hosted ? 1 : 0],
  toJSON: (b) => ({ codeHash: toHex(b.codeHash), hosted: b.hosted }),
  async execute(ctx: TxContext, tx: Tx, b: CreateBody): Promise<TxEvent[]> {
    const code = await ctx.state.get(codeKey(b.codeHash));
    if (code === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
    refuseHostedOnly(code, b.hosted);
    const id = appId(tx.sender, tx.nonce);
    ctx.state.set(
      instanceKey(id),
      encodeInstance({ codeHash: b.codeHash, owner: tx.sender, createdAt: ctx.height, hosted: b.hosted }),
    );
    return [
      {
        type: 'app-create',
        attributes: [
          ['app', id],
          ['codeHash', b.codeHash],
          ['owner', tx.sender.bytes],
        ],
      },
    ];
  },
});

/** An app call's fields (a tx's payload, and a hosted call's request frame: node/app-host.ts). */
export function decodeCallFields(f: RlpItem[]): CallBody {
  expectFields(f, 5, 'app-call');
  const args = asList(f[2], 'args');
  if (args.length > MAX_ARGS) throw new CodecError('INVALID_FIELD', 'args', `at most ${MAX_ARGS}`);
  return {
    app: asBytes(f[0], 'app', 32),
    method: asString(f[1], 'method', 64),
    args: args.map((a, i) => asBigint(a, `args[${i}]`, (1n << 64n) - 1n)),
    gas: asBigint(f[3], 'gas', MAX_CALL_GAS),
    input: asBoundedBytes(f[4], 'input', MAX_INPUT_BYTES),
  };
}

registerRlpTxKind<CallBody>((b: CallBody) => CALL_BASE_GAS + b.gas + BigInt(b.input.length) * 10n, {
  kind: AppTxKind.Call,
  name: 'app-call',
  decode: decodeCallFields,
  raw: (b) => [b.app, b.method, b.args, b.gas, b.input],
  toJSON: (b) => ({
    app: toHex(b.app),
    method: b.method,
    args: b.args.map(String),
    gas: b.gas.toString(),
    input: toHex(b.input),
  }),
  async execute(ctx: TxContext, tx: Tx, b: CallBody): Promise<TxEvent[]> {
    const p = await prepareCall(ctx.state, b.app, b.method, b.args);
    const self = appAccount(b.app);
    const r = await runCall({
      ...p,
      gas: b.gas,
      env: {
        caller: tx.sender.bytes,
        self: b.app,
        account: self.bytes,
        height: ctx.height,
        time: ctx.time ?? 0,
        input: b.input,
      },
      read: (key) => ctx.state.get(key),
    });
    if (r.halt !== 'ok') throw new TxFailure(haltCode(r));
    if (r.encoded !== undefined) {
      if (r.encoded.length > MAX_APP_STATE_BYTES) throw new TxFailure('APP_STATE_TOO_LARGE');
      ctx.state.set(stateKey(b.app), r.state.size === 0 ? null : r.encoded);
    }
    for (const t of r.effects.transfers) {
      const from = await getAccount(ctx.state, self);
      // The host checked the balance; the overlay is the same state, so this holds.
      if (from.balance < t.amount) throw new TxFailure('APP_INSUFFICIENT_FUNDS');
      putAccount(ctx.state, self, { ...from, balance: from.balance - t.amount });
      const dest = new Address(t.to);
      const to = await getAccount(ctx.state, dest);
      if (to.balance + t.amount > U256_MAX) throw new TxFailure('AMOUNT_OVERFLOW');
      putAccount(ctx.state, dest, { ...to, balance: to.balance + t.amount });
    }
    return [
      {
        type: 'app-call',
        attributes: [
          ['app', b.app],
          ['method', b.method],
          ['value', r.value === undefined ? '' : String(r.value)],
          ['output', r.effects.output],
          ['gasUsed', String(r.gasUsed)],
        ],
      },
      ...r.effects.events.map((e) => ({
        type: 'app-event',
        attributes: [
          ['app', b.app],
          ['topic', e.topic],
          ['data', e.data],
        ] as [string, Uint8Array][],
      })),
    ];
  },
});

/**
 * A halt as a receipt code: APP_OUT_OF_GAS, APP_STACK_LIMIT, APP_TRAP, or APP_ABORT with the app's own
 * message (deterministic: the guest wrote it) as APP_ABORT:<message>, at most 120 characters.
 */
export function haltCode(r: { halt: string; message?: string }): string {
  const code = `APP_${r.halt.toUpperCase()}`;
  if (r.halt !== 'abort' || !r.message) return code;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return `${code}:${r.message.replace(/[\u0000-\u001f]/g, ' ').slice(0, 120)}`;
}

/**
 * Everything before running a call, cheap checks first: the instance (not hosted-only), its code
 * (compiled, cached), the method (an export) and the args (the export's params); then the app's state.
 */
export async function prepareCall(
  state: { get(key: Uint8Array): Promise<Uint8Array | undefined> },
  id: Uint8Array,
  method: string,
  words: readonly bigint[],
  o: { hosted?: boolean } = {},
): Promise<{
  app: CompiledApp;
  method: string;
  args: (number | bigint)[];
  state: Map<string, Uint8Array>;
  stateBytes: number;
  instance: Instance;
}> {
  const { app, instance } = await loadApp(state, id, o);
  const params = method.startsWith('__vos') || method === '_initialize' ? undefined : app.exports.get(method);
  if (params === undefined) throw new TxFailure('APP_UNKNOWN_METHOD');
  const args = argsFor(params, words);
  if (args === null) throw new TxFailure('APP_BAD_ARGS');
  const bytes = await state.get(stateKey(id));
  return { app, method, args, state: decodeAppState(bytes), stateBytes: bytes?.length ?? 0, instance };
}

/** An instance and its compiled code (hosted-only instances only when `o.hosted`). */
export async function loadApp(
  state: { get(key: Uint8Array): Promise<Uint8Array | undefined> },
  id: Uint8Array,
  o: { hosted?: boolean } = {},
): Promise<{ app: CompiledApp; instance: Instance }> {
  const iv = await state.get(instanceKey(id));
  if (iv === undefined) throw new TxFailure('APP_NOT_FOUND');
  const instance = decodeInstance(iv);
  if (instance.hosted && o.hosted !== true) throw new TxFailure('APP_HOSTED_ONLY');
  const code = await state.get(codeKey(instance.codeHash));
  if (code === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
  return { app: await compiled(instance.codeHash, code), instance };
}

registerRlpTxKind<MigrateBody>(40_000n, {
  kind: AppTxKind.Migrate,
  name: 'app-migrate',
  decode(f) {
    expectFields(f, 2, 'app-migrate');
    return { app: asBytes(f[0], 'app', 32), codeHash: asBytes(f[1], 'codeHash', 32) };
  },
  raw: (b) => [b.app, b.codeHash],
  toJSON: (b) => ({ app: toHex(b.app), codeHash: toHex(b.codeHash) }),
  async execute(ctx: TxContext, tx: Tx, b: MigrateBody): Promise<TxEvent[]> {
    const inst = await instanceOf(ctx, b.app);
    if (!inst.owner.equals(tx.sender)) throw new TxFailure('APP_NOT_OWNER');
    const code = await ctx.state.get(codeKey(b.codeHash));
    if (code === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
    refuseHostedOnly(code, inst.hosted);
    ctx.state.set(instanceKey(b.app), encodeInstance({ ...inst, codeHash: b.codeHash }));
    return [
      {
        type: 'app-migrate',
        attributes: [
          ['app', b.app],
          ['codeHash', b.codeHash],
        ],
      },
    ];
  },
});

export const appPayload = {
  deploy: (code: Uint8Array): TxPayload => modulePayload(AppTxKind.Deploy, { code }),
  create: (codeHash: Uint8Array, hosted = false): TxPayload =>
    modulePayload(AppTxKind.Create, { codeHash, hosted }),
  call: (b: CallBody): TxPayload => modulePayload(AppTxKind.Call, b),
  migrate: (b: MigrateBody): TxPayload => modulePayload(AppTxKind.Migrate, b),
};
