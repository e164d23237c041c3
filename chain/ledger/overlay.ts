/**
 * Copy-on-write view over the committed state for executing one block: reads fall through to the
 * tree, writes stay in memory until the block is staged. Checkpoints nest (a stack): the block builder
 * opens one per tx and the tx opens one for its kind-specific part; `rollback()` undoes every write
 * since the innermost open checkpoint, `commitCheckpoint()` keeps them (they can still be undone by
 * an enclosing checkpoint).
 */
import { asBuffer } from '../../util/bytes.js';

export interface StateReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
}

type Entry = { key: Uint8Array; value: Uint8Array | null };

export class StateOverlay {
  readonly #base: StateReader;
  // PERF: latin1 string keys: cheapest stable Map key for byte strings.
  readonly #writes = new Map<string, Entry>();
  /** Previous entry of every write made while a checkpoint is open, oldest first. */
  readonly #journal: Array<[string, Entry | undefined]> = [];
  /** Journal length at each open checkpoint, innermost last. */
  readonly #marks: number[] = [];

  constructor(base: StateReader) {
    this.#base = base;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const e = this.#writes.get(asBuffer(key).toString('latin1'));
    if (e !== undefined) return e.value ?? undefined;
    return this.#base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array | null): void {
    const id = asBuffer(key).toString('latin1');
    if (this.#marks.length > 0) this.#journal.push([id, this.#writes.get(id)]);
    this.#writes.set(id, { key, value });
  }

  delete(key: Uint8Array): void {
    this.set(key, null);
  }

  /** Open a checkpoint: a later rollback() undoes the writes made from here. */
  checkpoint(): void {
    this.#marks.push(this.#journal.length);
  }

  /** Close the innermost checkpoint, keeping its writes. */
  commitCheckpoint(): void {
    if (this.#marks.pop() === undefined) throw new Error('commitCheckpoint without a checkpoint');
    // The outermost checkpoint closed: nothing can undo these writes any more.
    if (this.#marks.length === 0) this.#journal.length = 0;
  }

  /** Undo every write since the innermost checkpoint and close it. */
  rollback(): void {
    const mark = this.#marks.pop();
    if (mark === undefined) throw new Error('rollback without a checkpoint');
    const j = this.#journal;
    for (let i = j.length - 1; i >= mark; i--) {
      const [id, prev] = j[i];
      if (prev === undefined) this.#writes.delete(id);
      else this.#writes.set(id, prev);
    }
    j.length = mark;
  }

  /** Open checkpoints (0 when none). */
  get depth(): number {
    return this.#marks.length;
  }

  changes(): Array<[Uint8Array, Uint8Array | null]> {
    return [...this.#writes.values()].map((e) => [e.key, e.value]);
  }
}
