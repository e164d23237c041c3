// The VOS guest SDK: typed helpers over the host API (env.ts).
import { storage_delete, storage_get, storage_set } from "./env";

export namespace Storage {
  /** The bytes stored under `key`, or null. */
  export function get(key: string): Uint8Array | null {
    const k = String.UTF8.encode(key);
    let out = new Uint8Array(64);
    let n = storage_get(changetype<usize>(k), k.byteLength, out.dataStart, out.length);
    if (n < 0) return null;
    if (n > out.length) {
      out = new Uint8Array(n);
      n = storage_get(changetype<usize>(k), k.byteLength, out.dataStart, out.length);
    }
    return out.subarray(0, n);
  }

  export function set(key: string, value: Uint8Array): void {
    const k = String.UTF8.encode(key);
    storage_set(changetype<usize>(k), k.byteLength, value.dataStart, value.length);
  }

  export function remove(key: string): void {
    const k = String.UTF8.encode(key);
    storage_delete(changetype<usize>(k), k.byteLength);
  }

  /** A u64 stored little-endian under `key` (0 when absent). */
  export function getU64(key: string): u64 {
    const v = get(key);
    if (v === null || v.length < 8) return 0;
    return load<u64>(v.dataStart);
  }

  export function setU64(key: string, n: u64): void {
    const v = new Uint8Array(8);
    store<u64>(v.dataStart, n);
    set(key, v);
  }
}
