/**
 * An app's key-value state (consensus-critical encoding): rlp([[key, value]...]) sorted by key bytes,
 * stored whole under app/state/<id>. In a call it is a MapState: a map, the running size of its keys
 * and values (a call that grows it past MAX_APP_STATE_BYTES halts), whether the call changed it, and a
 * sorted index of its keys for storage_next, built on the first storage_next of a call.
 *
 * Keys are latin1 strings (one byte per code unit), so string order is byte order.
 */
import { asBytes, asList, decodeRlp, encodeRlp } from '../chain/codec.js';
import type { AppState } from './host.js';

/** The most bytes of state an app keeps (its encoding; a call halts when keys + values pass it). */
export const MAX_APP_STATE_BYTES = 1024 * 1024;

/**
 * Gas per byte of the app's encoded state: charged before a call for loading (decoding) it and after
 * one that changed it for writing (encoding) it, so the work a call does on a large state is paid for.
 * PERF: decoding is ~45 ns and encoding ~57 ns per byte of small entries (1 MiB of 35-byte entries on
 * the dev machine), priced like deploy's instrumenting at ~1 ns per gas: a call on a full 1 MiB state
 * pays ~50M gas to load it. Keeping each key in the state tree would make this per key, not per state.
 */
export const STATE_GAS_PER_BYTE = 50n;

const latin1 = (s: string) => Buffer.from(s, 'latin1');

export function decodeAppState(b: Uint8Array | undefined): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  if (b === undefined) return m;
  for (const [i, it] of asList(decodeRlp(b, 'app/state'), 'app/state').entries()) {
    const f = asList(it, `app/state[${i}]`, 2);
    m.set(Buffer.from(asBytes(f[0], 'key')).toString('latin1'), asBytes(f[1], 'value'));
  }
  return m;
}

export function encodeAppState(m: ReadonlyMap<string, Uint8Array>): Uint8Array {
  // PERF: plain sort: latin1 strings compare in byte order, no Buffers per comparison.
  const keys = [...m.keys()].sort();
  return encodeRlp(keys.map((k) => [latin1(k), m.get(k) as Uint8Array]));
}

const CHUNK = 512;

/**
 * Sorted keys in chunks of at most 2 x CHUNK: insert, remove and next are a binary search over the
 * chunks and one within a chunk, so no step costs more than O(CHUNK + log n) whatever came before.
 */
export class SortedKeys {
  readonly #chunks: string[][] = [];

  constructor(keys: Iterable<string>) {
    const all = [...keys].sort();
    for (let i = 0; i < all.length; i += CHUNK) this.#chunks.push(all.slice(i, i + CHUNK));
  }

  /** The first chunk whose last key is >= k (or > k when `strict`); chunks.length when none. */
  #chunkFor(k: string, strict: boolean): number {
    let lo = 0;
    let hi = this.#chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.#chunks[mid];
      const last = c[c.length - 1];
      if (strict ? last <= k : last < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(k: string): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push([k]);
      return;
    }
    const ci = Math.min(this.#chunkFor(k, false), this.#chunks.length - 1);
    const c = this.#chunks[ci];
    const i = firstAtLeast(c, k, false);
    if (c[i] === k) return;
    c.splice(i, 0, k);
    if (c.length > 2 * CHUNK) this.#chunks.splice(ci, 1, c.slice(0, CHUNK), c.slice(CHUNK));
  }

  remove(k: string): void {
    const ci = this.#chunkFor(k, false);
    const c = this.#chunks[ci];
    if (c === undefined) return;
    const i = firstAtLeast(c, k, false);
    if (c[i] !== k) return;
    c.splice(i, 1);
    if (c.length === 0) this.#chunks.splice(ci, 1);
  }

  /** The first key after `after` (null: the first key), or undefined. */
  next(after: string | null): string | undefined {
    if (after === null) return this.#chunks[0]?.[0];
    const c = this.#chunks[this.#chunkFor(after, true)];
    return c?.[firstAtLeast(c, after, true)];
  }
}

/** The index of the first element >= k (> k when `strict`) in sorted `a`. */
function firstAtLeast(a: readonly string[], k: string, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? a[mid] <= k : a[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The app's state in a call: a copy of the state before it, changed by the host calls. */
export class MapState implements AppState {
  readonly map: Map<string, Uint8Array>;
  #sorted: SortedKeys | null = null;
  /** Keys plus values, in bytes. */
  #bytes = 0;
  #changed = false;

  constructor(from?: ReadonlyMap<string, Uint8Array>) {
    this.map = new Map(from);
    for (const [k, v] of this.map) this.#bytes += k.length + v.length;
  }

  /** Keys plus values, in bytes (the encoding adds a few bytes per entry). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether a set or delete happened (an unchanged state is not written back). */
  get changed(): boolean {
    return this.#changed;
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): void {
    const old = this.map.get(key);
    if (old === undefined) {
      this.#sorted?.insert(key);
      this.#bytes += key.length;
    } else this.#bytes -= old.length;
    this.#bytes += value.length;
    this.map.set(key, value);
    this.#changed = true;
  }

  delete(key: string): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.map.delete(key);
    this.#sorted?.remove(key);
    this.#bytes -= key.length + old.length;
    this.#changed = true;
  }

  next(after: string | null): string | undefined {
    this.#sorted ??= new SortedKeys(this.map.keys());
    return this.#sorted.next(after);
  }
}
