/**
 * The host API an app imports from "env". Every call is charged base + per byte BEFORE the work (a
 * call it cannot pay halts the app with out_of_gas and does nothing). App state is a synchronous
 * key-value view (the caller loads it before the call and writes its changes after): WASM cannot wait
 * for a promise inside a host call.
 *
 *   storage_get(key, keyLen, out, cap) -> len | -1     copies min(len, cap) bytes when len <= cap
 *   storage_set(key, keyLen, value, valueLen)
 *   storage_delete(key, keyLen)
 *   abort(msg, file, line, col)                        AssemblyScript's abort: halts with `abort`
 */
import { VosError } from '../util/errors.js';

/** Gas of host calls (consensus rules, with the instrumenter's version). */
export const HOST_GAS = {
  base: 200n,
  perByte: 1n,
  /** Writing is dearer than reading: it costs state-tree work at commit. */
  setBase: 2_000n,
  setPerByte: 10n,
};

export const MAX_KEY_BYTES = 256;
export const MAX_VALUE_BYTES = 64 * 1024;

export interface AppState {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

/** Thrown by a host function to halt the app: the runtime turns it into a result. */
export class HostHalt extends VosError<{ code: 'OUT_OF_GAS' | 'HOST_ERROR' }> {}

export interface HostContext {
  memory(): Uint8Array;
  /** Takes gas from the app's budget; throws HostHalt OUT_OF_GAS when it is not there. */
  charge(gas: bigint): void;
  state: AppState;
}

function bytesAt(h: HostContext, ptr: number, len: number, max: number, what: string): Uint8Array {
  if (len > max) throw new HostHalt({ code: 'HOST_ERROR' }, `${what} of ${len} bytes (at most ${max})`);
  const mem = h.memory();
  if (ptr < 0 || len < 0 || ptr + len > mem.length)
    throw new HostHalt({ code: 'HOST_ERROR' }, `${what} out of the app's memory`);
  return mem.subarray(ptr, ptr + len);
}

const keyOf = (b: Uint8Array) => Buffer.from(b).toString('latin1');

export function hostFunctions(h: HostContext) {
  return {
    storage_get: (k: number, kl: number, out: number, cap: number): number => {
      h.charge(HOST_GAS.base + HOST_GAS.perByte * BigInt(Math.max(0, kl)));
      const v = h.state.get(keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key')));
      if (v === undefined) return -1;
      h.charge(HOST_GAS.perByte * BigInt(v.length));
      if (v.length <= cap) bytesAt(h, out, v.length, MAX_VALUE_BYTES, 'a value').set(v);
      return v.length;
    },
    storage_set: (k: number, kl: number, v: number, vl: number): void => {
      h.charge(HOST_GAS.setBase + HOST_GAS.setPerByte * BigInt(Math.max(0, kl) + Math.max(0, vl)));
      const key = keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key'));
      h.state.set(key, Uint8Array.from(bytesAt(h, v, vl, MAX_VALUE_BYTES, 'a value')));
    },
    storage_delete: (k: number, kl: number): void => {
      h.charge(HOST_GAS.setBase + HOST_GAS.perByte * BigInt(Math.max(0, kl)));
      h.state.delete(keyOf(bytesAt(h, k, kl, MAX_KEY_BYTES, 'a key')));
    },
  };
}
