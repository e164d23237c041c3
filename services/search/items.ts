/**
 * The indexed items by number (flexsearch's id: small integers keep its lists compact; freed numbers
 * are reused), with what ranking reads per number in typed arrays: an order key of the id, and scratch
 * space for a query (word marks, level sums, candidates). PERF: the ranking loops touch no objects.
 */
import type { Terms } from './postings.js';

export interface Item extends Terms {
  id: string;
  kind: string;
  title: string;
  owner: string;
  cid: string;
  mime: string;
  at: number;
}

export class Items {
  readonly list: (Item | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #byId = new Map<string, number>();
  /** idKey(list[n].id). */
  key = new Float64Array(1024);
  /** The stamp of the last query word that matched n (see `stamps`). */
  mark = new Uint32Array(1024);
  /** The sum of the matched words' levels in n. */
  acc = new Uint32Array(1024);
  /** Candidate numbers, a prefix of it in use. */
  cand = new Int32Array(1024);
  #stamp = 0;

  get size(): number {
    return this.#byId.size;
  }

  numberOf(id: string): number | undefined {
    return this.#byId.get(id);
  }

  /** A number for a new item (then `set` it). */
  alloc(): number {
    const n = this.#free.pop() ?? this.list.length;
    if (n >= this.key.length) this.#grow(2 * this.key.length);
    return n;
  }

  set(n: number, item: Item): void {
    this.list[n] = item;
    this.key[n] = idKey(item.id);
    this.#byId.set(item.id, n);
  }

  /** Frees an item's number; returns it, or undefined when the id is not indexed. */
  delete(id: string): number | undefined {
    const n = this.#byId.get(id);
    if (n === undefined) return undefined;
    this.list[n] = undefined;
    this.#byId.delete(id);
    this.#free.push(n);
    return n;
  }

  *live(): Iterable<Item> {
    for (const it of this.list) if (it !== undefined) yield it;
  }

  /** m fresh stamps s..s+m-1 for a query's words, none of them in `mark` yet. */
  stamps(m: number): number {
    if (this.#stamp + m + 1 >= 0xffffffff) {
      this.mark.fill(0);
      this.#stamp = 0;
    }
    const s = this.#stamp + 1;
    this.#stamp += m;
    return s;
  }

  #grow(size: number): void {
    const grown = <T extends Float64Array | Uint32Array | Int32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.key = grown(this.key, new Float64Array(size));
    this.mark = grown(this.mark, new Uint32Array(size));
    this.acc = new Uint32Array(size);
    this.cand = new Int32Array(size);
  }
}

/**
 * A number that orders like the id (a < b implies idKey(a) <= idKey(b)): its first 7 UTF-16 units in
 * base 128, cut at the first unit above 126. Equal keys fall back to comparing the ids.
 */
export function idKey(id: string): number {
  let k = 0;
  for (let i = 0; i < 7; i++) {
    const c = i < id.length ? id.charCodeAt(i) : 0;
    if (c >= 127) return (k * 128 + 127) * 128 ** (6 - i);
    k = k * 128 + c;
  }
  return k;
}
