/**
 * Copy-on-write view over the committed state for executing one block: reads fall through to the
 * tree, writes stay in memory until the block is staged. Checkpoints let a failed tx roll back its
 * kind-specific changes while keeping its fee and nonce.
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
  #journal: Array<[string, Entry | undefined]> | null = null;

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
    if (this.#journal !== null) this.#journal.push([id, this.#writes.get(id)]);
    this.#writes.set(id, { key, value });
  }

  delete(key: Uint8Array): void {
    this.set(key, null);
  }

  /** Start recording so that rollback() can undo later writes. */
  checkpoint(): void {
    this.#journal = [];
  }

  commitCheckpoint(): void {
    this.#journal = null;
  }

  rollback(): void {
    const j = this.#journal;
    if (j === null) return;
    for (let i = j.length - 1; i >= 0; i--) {
      const [id, prev] = j[i];
      if (prev === undefined) this.#writes.delete(id);
      else this.#writes.set(id, prev);
    }
    this.#journal = null;
  }

  changes(): Array<[Uint8Array, Uint8Array | null]> {
    return [...this.#writes.values()].map((e) => [e.key, e.value]);
  }
}
