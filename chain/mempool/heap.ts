/**
 * A binary heap ordered by `before(a, b)` (a comes out first). With `index` the heap tells each item its
 * position, so an item can be removed or re-keyed in place: O(log n) instead of a search.
 */
export class Heap<T> {
  readonly #a: T[] = [];
  readonly #before: (a: T, b: T) => boolean;
  readonly #index: ((item: T, i: number) => void) | undefined;

  constructor(before: (a: T, b: T) => boolean, index?: (item: T, i: number) => void) {
    this.#before = before;
    this.#index = index;
  }

  get size(): number {
    return this.#a.length;
  }

  peek(): T | undefined {
    return this.#a[0];
  }

  push(item: T): void {
    this.#a.push(item);
    this.#set(this.#a.length - 1, item);
    this.#up(this.#a.length - 1);
  }

  pop(): T | undefined {
    const a = this.#a;
    if (a.length === 0) return undefined;
    const top = a[0];
    this.removeAt(0);
    return top;
  }

  /** Remove the item at position i (as reported through `index`). */
  removeAt(i: number): void {
    const a = this.#a;
    const gone = a[i];
    const last = a.pop() as T;
    this.#index?.(gone, -1);
    if (i === a.length) return;
    this.#set(i, last);
    this.update(i);
  }

  /** The item at position i changed its key: move it to its place. */
  update(i: number): void {
    this.#down(this.#up(i));
  }

  clear(): void {
    for (const item of this.#a) this.#index?.(item, -1);
    this.#a.length = 0;
  }

  #set(i: number, item: T): void {
    this.#a[i] = item;
    this.#index?.(item, i);
  }

  #up(i: number): number {
    const a = this.#a;
    const item = a[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(item, a[p])) break;
      this.#set(i, a[p]);
      i = p;
    }
    this.#set(i, item);
    return i;
  }

  #down(i: number): void {
    const a = this.#a;
    const item = a[i];
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(a[r], a[l]) ? r : l;
      if (!this.#before(a[c], item)) break;
      this.#set(i, a[c]);
      i = c;
    }
    this.#set(i, item);
  }
}
