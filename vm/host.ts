/**
 * The host API an app imports from "env". Every call is charged base + per byte BEFORE the work (a
 * call it cannot pay halts the app with out_of_gas and does nothing). WASM cannot wait for a promise
 * inside a host call, so everything a host call reads is synchronous:
 * - the app's own state is a key-value view loaded before the call and written after it;
 * - chain state outside the app (a name's owner, a publish record, the app's balance) comes through
 *   `read`, which answers from what was read before or throws NeedRead: the caller (call.ts) then reads
 *   the key and runs the call again from the start, so every run sees the same values in the same order.
 *
 * On chain and off chain (scope `chain`):
 *   storage_get(key, keyLen, out, cap) -> len | -1     copies the value when len <= cap
 *   storage_set(key, keyLen, value, valueLen)          storage_delete(key, keyLen)   (keys not empty;
 *                                                      a state past MAX_APP_STATE_BYTES halts)
 *   storage_next(key, keyLen, out, cap) -> len | -1    the first key after `key` in byte order ("" = first)
 *   input_len() -> len                                 input_read(out, cap) -> len (copies min(len, cap))
 *   output(ptr, len)                                   the call's result bytes (the last call wins)
 *   caller(out20)   self(out32)   block_height() -> i64   block_time() -> i64 (Unix ms)
 *   emit(topic, topicLen, data, dataLen)               an event in the receipt (kept only if the call is ok)
 *   log(ptr, len)                                      debug text: returned by queries and hosted calls
 *   name_owner(name, nameLen, out20) -> 1 | 0          the owner of an active name
 *   publish_field(id32, field, fieldLen, out, cap) -> len | -1   a field of a publish record, as text
 *   balance() -> i64                                   the app account's balance (minus its transfers)
 *   transfer(to20, amount) -> 0 | 1                    from the app's account; 1: not enough balance
 *                                                      (on chain only: a hosted call halts; a query
 *                                                      reports what it would transfer)
 *   abort(msg, file, line, col)                        AssemblyScript's abort: halts with `abort`
 * Off chain only (scope `hosted`; a module importing them cannot be created on chain):
 *   dstore_put(data, len, out, cap) -> len             distributed storage put: the id (CID text)
 *   dstore_get(id, idLen, out, cap) -> len | -1        comm_send(to, toLen, text, textLen) -> 0 | 1
 *   search(q, qLen, out, cap) -> len                   the publish index: JSON [{id, title, kind, owner}]
 */
import { ADDRESS_LENGTH } from '../chain/address.js';
import { VosError } from '../util/errors.js';
import { MAX_APP_STATE_BYTES } from './app-state.js';
import { lookups } from './lookups.js';
import { I32, I64 } from './wasm/opcodes.js';

/** Gas of host calls (consensus rules, with the instrumenter's version). */
export const HOST_GAS = {
  base: 200n,
  perByte: 1n,
  /** Writing is dearer than reading: it costs state-tree work at commit. */
  setBase: 2_000n,
  setPerByte: 10n,
  /** A read of chain state outside the app (it may cost a re-run of the call: call.ts). */
  chainRead: 5_000n,
  event: 1_000n,
  transfer: 10_000n,
  /** Off-chain host calls do network work. */
  hosted: 50_000n,
};

export const MAX_KEY_BYTES = 256;
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_OUTPUT_BYTES = 16 * 1024;
export const MAX_EVENTS = 16;
export const MAX_TOPIC_BYTES = 64;
export const MAX_EVENT_BYTES = 1024;
export const MAX_LOG_LINES = 64;
export const MAX_TRANSFERS = 16;
export const MAX_HOSTED_BYTES = 1024 * 1024;

export type Scope = 'chain' | 'hosted';
export interface HostSignature {
  params: readonly number[];
  results: readonly number[];
  scope: Scope;
}

const sig = (params: number[], results: number[], scope: Scope = 'chain'): HostSignature => ({
  params,
  results,
  scope,
});

/** Every import an app may name (module "env"), with its type: checked at deploy. */
export const HOST_IMPORTS: Readonly<Record<string, HostSignature>> = {
  abort: sig([I32, I32, I32, I32], []),
  storage_get: sig([I32, I32, I32, I32], [I32]),
  storage_set: sig([I32, I32, I32, I32], []),
  storage_delete: sig([I32, I32], []),
  storage_next: sig([I32, I32, I32, I32], [I32]),
  input_len: sig([], [I32]),
  input_read: sig([I32, I32], [I32]),
  output: sig([I32, I32], []),
  caller: sig([I32], []),
  self: sig([I32], []),
  block_height: sig([], [I64]),
  block_time: sig([], [I64]),
  emit: sig([I32, I32, I32, I32], []),
  log: sig([I32, I32], []),
  name_owner: sig([I32, I32, I32], [I32]),
  publish_field: sig([I32, I32, I32, I32, I32], [I32]),
  balance: sig([], [I64]),
  transfer: sig([I32, I64], [I32]),
  dstore_put: sig([I32, I32, I32, I32], [I32], 'hosted'),
  dstore_get: sig([I32, I32, I32, I32], [I32], 'hosted'),
  comm_send: sig([I32, I32, I32, I32], [I32], 'hosted'),
  search: sig([I32, I32, I32, I32], [I32], 'hosted'),
};

export type HostedOp = 'dstore_put' | 'dstore_get' | 'comm_send' | 'search';

export interface AppState {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
  /** The first key after `after` in byte order (null: the first key), or undefined at the end. */
  next(after: string | null): string | undefined;
  /** Keys plus values, in bytes. */
  readonly bytes: number;
}

/** Who calls, in which app, at which block, with which input. */
export interface CallEnv {
  caller: Uint8Array;
  self: Uint8Array;
  /** The app account (transfers come from it). */
  account: Uint8Array;
  height: number;
  time: number;
  input: Uint8Array;
}

/** What a call did besides its state: kept only when it ends ok. */
export interface Effects {
  events: { topic: Uint8Array; data: Uint8Array }[];
  output: Uint8Array;
  transfers: { to: Uint8Array; amount: bigint }[];
  logs: string[];
}

export const newEffects = (): Effects => ({ events: [], output: new Uint8Array(0), transfers: [], logs: [] });

/** Thrown by a host function to halt the app: the runtime turns it into a result. */
export class HostHalt extends VosError<{ code: 'OUT_OF_GAS' | 'HOST_ERROR' }> {}

/** A host call needs chain state not read yet: the call runs again once it is (call.ts). */
export class NeedRead extends Error {
  constructor(readonly key: Uint8Array) {
    super('a chain read not loaded yet');
  }
}

export interface HostContext {
  memory(): Uint8Array;
  /** Takes gas from the app's budget; throws HostHalt OUT_OF_GAS when it is not there. */
  charge(gas: bigint): void;
  state: AppState;
  env: CallEnv;
  /** Chain state outside the app: throws NeedRead when the key was not read before this run. */
  read(key: Uint8Array): Uint8Array | undefined;
  /** The app account's balance before this call. */
  balance(): bigint;
  effects: Effects;
  /** Off-chain hosting only: does a hosted op synchronously (a worker waiting on the node's thread). */
  hosted?: (op: HostedOp, args: Uint8Array[]) => Uint8Array | null;
}

const hostError = (message: string) => new HostHalt({ code: 'HOST_ERROR' }, message);

function bytesAt(h: HostContext, ptr: number, len: number, max: number, what: string): Uint8Array {
  if (len > max) throw hostError(`${what} of ${len} bytes (at most ${max})`);
  const mem = h.memory();
  if (ptr < 0 || len < 0 || ptr + len > mem.length) throw hostError(`${what} out of the app's memory`);
  return mem.subarray(ptr, ptr + len);
}

/** Copy `v` to `out` when it fits `cap`; the length either way (the guest retries with more room). */
function give(h: HostContext, v: Uint8Array, out: number, cap: number): number {
  h.charge(HOST_GAS.perByte * BigInt(v.length));
  if (v.length <= cap) bytesAt(h, out, v.length, Math.max(cap, 0), 'an output buffer').set(v);
  return v.length;
}

const keyOf = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const I64_MAX = (1n << 63n) - 1n;

export function hostFunctions(h: HostContext) {
  const charge = (base: bigint, bytes = 0) => h.charge(base + HOST_GAS.perByte * BigInt(Math.max(0, bytes)));
  const spent = () => h.effects.transfers.reduce((a, t) => a + t.amount, 0n);
  const hosted = (op: HostedOp, args: Uint8Array[]): Uint8Array | null => {
    if (h.hosted === undefined) throw hostError(`env.${op} exists only for apps hosted off chain`);
    h.charge(HOST_GAS.hosted);
    return h.hosted(op, args);
  };
  return {
    storage_get: (k: number, kl: number, out: number, cap: number): number => {
      charge(HOST_GAS.base, kl);
      const v = h.state.get(keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key')));
      return v === undefined ? -1 : give(h, v, out, cap);
    },
    storage_set: (k: number, kl: number, v: number, vl: number): void => {
      h.charge(HOST_GAS.setBase + HOST_GAS.setPerByte * BigInt(Math.max(0, kl) + Math.max(0, vl)));
      const key = keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key'));
      // "" is storage_next's "before the first key": it cannot be a key itself.
      if (key === '') throw hostError('an empty key');
      h.state.set(key, Uint8Array.from(bytesAt(h, v, vl, MAX_VALUE_BYTES, 'a value')));
      if (h.state.bytes > MAX_APP_STATE_BYTES)
        throw hostError(`the app state would pass ${MAX_APP_STATE_BYTES} bytes`);
    },
    storage_delete: (k: number, kl: number): void => {
      charge(HOST_GAS.setBase, kl);
      const key = keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key'));
      if (key === '') throw hostError('an empty key');
      h.state.delete(key);
    },
    storage_next: (k: number, kl: number, out: number, cap: number): number => {
      charge(HOST_GAS.base, kl);
      const after = kl === 0 ? null : keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key'));
      const key = h.state.next(after);
      return key === undefined ? -1 : give(h, latin1(key), out, cap);
    },
    input_len: (): number => {
      charge(HOST_GAS.base);
      return h.env.input.length;
    },
    input_read: (out: number, cap: number): number => {
      charge(HOST_GAS.base);
      const n = Math.min(h.env.input.length, Math.max(0, cap));
      h.charge(HOST_GAS.perByte * BigInt(n));
      bytesAt(h, out, n, MAX_HOSTED_BYTES, 'an input buffer').set(h.env.input.subarray(0, n));
      return h.env.input.length;
    },
    output: (p: number, len: number): void => {
      charge(HOST_GAS.base, len);
      h.effects.output = Uint8Array.from(bytesAt(h, p, len, MAX_OUTPUT_BYTES, 'an output'));
    },
    caller: (out: number): void => {
      charge(HOST_GAS.base);
      bytesAt(h, out, ADDRESS_LENGTH, ADDRESS_LENGTH, 'an address buffer').set(h.env.caller);
    },
    self: (out: number): void => {
      charge(HOST_GAS.base);
      bytesAt(h, out, 32, 32, 'an app id buffer').set(h.env.self);
    },
    block_height: (): bigint => {
      charge(HOST_GAS.base);
      return BigInt(h.env.height);
    },
    block_time: (): bigint => {
      charge(HOST_GAS.base);
      return BigInt(h.env.time);
    },
    emit: (t: number, tl: number, d: number, dl: number): void => {
      charge(HOST_GAS.event, tl + dl);
      if (h.effects.events.length >= MAX_EVENTS) throw hostError(`more than ${MAX_EVENTS} events`);
      const topic = Uint8Array.from(bytesAt(h, t, tl, MAX_TOPIC_BYTES, 'an event topic'));
      h.effects.events.push({
        topic,
        data: Uint8Array.from(bytesAt(h, d, dl, MAX_EVENT_BYTES, 'event data')),
      });
    },
    log: (p: number, len: number): void => {
      charge(HOST_GAS.base, len);
      const line = text(bytesAt(h, p, len, MAX_EVENT_BYTES, 'a log line'));
      if (h.effects.logs.length < MAX_LOG_LINES) h.effects.logs.push(line);
    },
    name_owner: (n: number, nl: number, out: number): number => {
      charge(HOST_GAS.chainRead, nl);
      const name = text(bytesAt(h, n, nl, 255, 'a name'));
      const key = lookups.nameKey(name);
      if (key === null) return 0;
      const v = h.read(key);
      const owner = v === undefined ? null : lookups.nameOwner(v, h.env.height);
      if (owner === null) return 0;
      bytesAt(h, out, ADDRESS_LENGTH, ADDRESS_LENGTH, 'an address buffer').set(owner);
      return 1;
    },
    publish_field: (id: number, f: number, fl: number, out: number, cap: number): number => {
      charge(HOST_GAS.chainRead, fl);
      const key = lookups.publishKey(bytesAt(h, id, 32, 32, 'a publish id'));
      const field = text(bytesAt(h, f, fl, 64, 'a field name'));
      const v = h.read(key);
      const value = v === undefined ? null : lookups.publishField(v, field);
      return value === null ? -1 : give(h, utf8(value), out, cap);
    },
    balance: (): bigint => {
      charge(HOST_GAS.base);
      const b = h.balance() - spent();
      return b > I64_MAX ? I64_MAX : b;
    },
    transfer: (to: number, amount: bigint): number => {
      charge(HOST_GAS.transfer);
      // Funds move only in a block: a hosted call has none to put them in.
      if (h.hosted !== undefined)
        throw hostError('env.transfer exists only on chain (a hosted call moves no funds)');
      const dest = Uint8Array.from(bytesAt(h, to, ADDRESS_LENGTH, ADDRESS_LENGTH, 'an address'));
      if (amount <= 0n) throw hostError('a transfer of a non-positive amount');
      if (h.effects.transfers.length >= MAX_TRANSFERS)
        throw hostError(`more than ${MAX_TRANSFERS} transfers`);
      if (h.balance() - spent() < amount) return 1;
      h.effects.transfers.push({ to: dest, amount });
      return 0;
    },
    dstore_put: (d: number, dl: number, out: number, cap: number): number => {
      charge(0n, dl);
      const id = hosted('dstore_put', [Uint8Array.from(bytesAt(h, d, dl, MAX_HOSTED_BYTES, 'data'))]);
      return give(h, id ?? new Uint8Array(0), out, cap);
    },
    dstore_get: (i: number, il: number, out: number, cap: number): number => {
      charge(0n, il);
      const v = hosted('dstore_get', [Uint8Array.from(bytesAt(h, i, il, 256, 'an id'))]);
      return v === null ? -1 : give(h, v, out, cap);
    },
    comm_send: (t: number, tl: number, m: number, ml: number): number => {
      charge(0n, tl + ml);
      const to = Uint8Array.from(bytesAt(h, t, tl, 255, 'a recipient'));
      const r = hosted('comm_send', [to, Uint8Array.from(bytesAt(h, m, ml, MAX_VALUE_BYTES, 'a message'))]);
      return r === null ? 1 : 0;
    },
    search: (q: number, ql: number, out: number, cap: number): number => {
      charge(0n, ql);
      const r = hosted('search', [Uint8Array.from(bytesAt(h, q, ql, 256, 'a query'))]);
      return give(h, r ?? utf8('[]'), out, cap);
    },
  };
}
