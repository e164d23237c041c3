/**
 * App lifecycle tx kinds (consensus-critical) and app state in the authenticated state:
 *
 *   app-deploy  = [code]                                   code stored by its sha256 (checked first)
 *   app-create  = [codeHash 32]                            an instance: id = sha256("vos/app/1" | sender | nonce)
 *   app-call    = [appId 32, method, [i64 arg...], gas]    runs the export with `gas` (paid in full)
 *   app-migrate = [appId 32, codeHash 32]                  owner only: new code, same state
 *
 *   app/code/<hash 32>  -> the module bytes
 *   app/inst/<id 32>    -> rlp([codeHash 32, owner 20, createdAt])
 *   app/state/<id 32>   -> rlp([[key, value]...]) sorted by key: the app's whole key-value state, read
 *                          before a call and written after it when it ends ok (WASM cannot wait for a
 *                          state read inside a host call; a state proof of this key proves any entry)
 *
 * A call's halt is its receipt: ok (state written, an `app-call` event with the value and gas used) or
 * a failure code APP_OUT_OF_GAS / APP_STACK_LIMIT / APP_TRAP / APP_ABORT (nothing written).
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
} from '../chain/codec.js';
import type { TxContext } from '../chain/ledger/execute-tx.js';
import { TxFailure } from '../chain/ledger/failure.js';
import type { TxEvent } from '../chain/receipt.js';
import { expectFields, modulePayload, registerRlpTxKind, type TxPayload } from '../chain/tx/kinds.js';
import type { Tx } from '../chain/tx/tx.js';
import { toHex, u64be } from '../util/bytes.js';
import { AppInstance, argsFor, type CompiledApp, compileApp } from './runtime.js';
import { decodeModule } from './wasm/decoder.js';
import { WasmError } from './wasm/errors.js';
import { INSTRUMENTER_VERSION } from './wasm/instrument.js';
import { WASM_LIMITS } from './wasm/limits.js';

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
export const MAX_APP_STATE_BYTES = 1024 * 1024;
const MAX_ARGS = 16;
const DEPLOY_GAS = 100_000n;
const CALL_BASE_GAS = 50_000n;

export interface Instance {
  codeHash: Uint8Array;
  owner: Address;
  createdAt: number;
}

export function decodeInstance(b: Uint8Array): Instance {
  const f = asList(decodeRlp(b, 'app/inst'), 'app/inst', 3);
  return {
    codeHash: asBytes(f[0], 'codeHash', 32),
    owner: new Address(asBytes(f[1], 'owner', ADDRESS_LENGTH)),
    createdAt: Number(asBigint(f[2], 'createdAt')),
  };
}

const encodeInstance = (i: Instance) => encodeRlp([i.codeHash, i.owner.bytes, i.createdAt]);

export function decodeAppState(b: Uint8Array | undefined): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  if (b === undefined) return m;
  for (const [i, it] of asList(decodeRlp(b, 'app/state'), 'app/state').entries()) {
    const f = asList(it, `app/state[${i}]`, 2);
    m.set(Buffer.from(asBytes(f[0], 'key')).toString('latin1'), asBytes(f[1], 'value'));
  }
  return m;
}

export function encodeAppState(m: Map<string, Uint8Array>): Uint8Array {
  const keys = [...m.keys()].sort((a, b) =>
    Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')),
  );
  return encodeRlp(keys.map((k) => [Buffer.from(k, 'latin1'), m.get(k) as Uint8Array]));
}

export function appId(sender: Address, nonce: bigint): Uint8Array {
  return createHash('sha256').update('vos/app/1').update(sender.bytes).update(u64be(nonce)).digest();
}

/** Compiled modules by code hash and instrumenter version (compiling is the expensive part). */
const CACHE = new Map<string, Promise<CompiledApp>>();
const MAX_CACHED = 256;

function compiled(hash: Uint8Array, code: Uint8Array): Promise<CompiledApp> {
  const key = `${INSTRUMENTER_VERSION}/${toHex(hash)}`;
  let p = CACHE.get(key);
  if (p === undefined) {
    if (CACHE.size >= MAX_CACHED) CACHE.delete(CACHE.keys().next().value as string);
    p = compileApp(code);
    CACHE.set(key, p);
  }
  return p;
}

async function instanceOf(ctx: TxContext, id: Uint8Array): Promise<Instance> {
  const v = await ctx.state.get(instanceKey(id));
  if (v === undefined) throw new TxFailure('APP_NOT_FOUND');
  return decodeInstance(v);
}

export interface DeployBody {
  code: Uint8Array;
}
export interface CreateBody {
  codeHash: Uint8Array;
}
export interface CallBody {
  app: Uint8Array;
  method: string;
  args: bigint[];
  gas: bigint;
}
export interface MigrateBody {
  app: Uint8Array;
  codeHash: Uint8Array;
}

registerRlpTxKind<DeployBody>(DEPLOY_GAS, {
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
    try {
      decodeModule(b.code);
    } catch (err) {
      if (err instanceof WasmError) throw new TxFailure(`APP_${err.code}:${err.rule}`);
      throw err;
    }
    // Our decoder leaves operand types to V8: a module V8 refuses is refused here, once, at deploy.
    try {
      await compiled(hash, b.code);
    } catch {
      CACHE.delete(`${INSTRUMENTER_VERSION}/${toHex(hash)}`);
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
    expectFields(f, 1, 'app-create');
    return { codeHash: asBytes(f[0], 'codeHash', 32) };
  },
  raw: (b) => [b.codeHash],
  toJSON: (b) => ({ codeHash: toHex(b.codeHash) }),
  async execute(ctx: TxContext, tx: Tx, b: CreateBody): Promise<TxEvent[]> {
    if ((await ctx.state.get(codeKey(b.codeHash))) === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
    const id = appId(tx.sender, tx.nonce);
    ctx.state.set(
      instanceKey(id),
      encodeInstance({ codeHash: b.codeHash, owner: tx.sender, createdAt: ctx.height }),
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

registerRlpTxKind<CallBody>((b: CallBody) => CALL_BASE_GAS + b.gas, {
  kind: AppTxKind.Call,
  name: 'app-call',
  decode(f) {
    expectFields(f, 4, 'app-call');
    const args = asList(f[2], 'args');
    if (args.length > MAX_ARGS) throw new CodecError('INVALID_FIELD', 'args', `at most ${MAX_ARGS}`);
    return {
      app: asBytes(f[0], 'app', 32),
      method: asString(f[1], 'method', 64),
      args: args.map((a, i) => asBigint(a, `args[${i}]`, (1n << 64n) - 1n)),
      gas: asBigint(f[3], 'gas', MAX_CALL_GAS),
    };
  },
  raw: (b) => [b.app, b.method, b.args, b.gas],
  toJSON: (b) => ({ app: toHex(b.app), method: b.method, args: b.args.map(String), gas: b.gas.toString() }),
  async execute(ctx: TxContext, _tx: Tx, b: CallBody): Promise<TxEvent[]> {
    const inst = await instanceOf(ctx, b.app);
    const code = await ctx.state.get(codeKey(inst.codeHash));
    if (code === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
    const key = stateKey(b.app);
    const state = decodeAppState(await ctx.state.get(key));
    const app = await compiled(inst.codeHash, code);
    // Cheap checks before running anything: the method is an export, the args fit its params.
    const params = b.method.startsWith('__vos') ? undefined : app.exports.get(b.method);
    if (params === undefined) throw new TxFailure('APP_UNKNOWN_METHOD');
    const args = argsFor(params, b.args);
    if (args === null) throw new TxFailure('APP_BAD_ARGS');
    const { instance, init } = await AppInstance.create(app, state, { initGas: b.gas });
    if (init !== null && init.halt !== 'ok') throw new TxFailure(`APP_${init.halt.toUpperCase()}`);
    const r = instance.call(b.method, args, b.gas - (init?.gasUsed ?? 0n));
    if (r.halt !== 'ok') throw new TxFailure(`APP_${r.halt.toUpperCase()}`);
    const bytes = encodeAppState(state);
    if (bytes.length > MAX_APP_STATE_BYTES) throw new TxFailure('APP_STATE_TOO_LARGE');
    ctx.state.set(key, state.size === 0 ? null : bytes);
    return [
      {
        type: 'app-call',
        attributes: [
          ['app', b.app],
          ['method', b.method],
          ['value', r.value === undefined ? '' : String(r.value)],
          ['gasUsed', String(r.gasUsed + (init?.gasUsed ?? 0n))],
        ],
      },
    ];
  },
});

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
    if ((await ctx.state.get(codeKey(b.codeHash))) === undefined) throw new TxFailure('APP_CODE_NOT_FOUND');
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
  create: (codeHash: Uint8Array): TxPayload => modulePayload(AppTxKind.Create, { codeHash }),
  call: (b: CallBody): TxPayload => modulePayload(AppTxKind.Call, b),
  migrate: (b: MigrateBody): TxPayload => modulePayload(AppTxKind.Migrate, b),
};
