/**
 * The search boost of every owner, from the committed `ctrl/` state (the node feeds it each block's
 * changes): factor = 1 + boost of the owner's record in the last finished epoch, 1 for anyone else.
 * Off chain, but derived only from committed state, so every node ranks the same.
 */
import { Address } from '../../chain/address.js';
import { hasPrefix } from '../../util/bytes.js';
import type { Boost } from '../search/index.js';
import { boostFactor } from './formula.js';
import { CTRL_EPOCH_KEY, CTRL_NODE_PREFIX, decodeEpoch, decodeNode } from './layout.js';

export class BoostTable implements Boost {
  #epoch = 0;
  readonly #byOwner = new Map<string, { epoch: number; factor: number }>();
  #max: number | null = 1;

  async load(entries: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<void> {
    const all: [Uint8Array, Uint8Array][] = [];
    for await (const e of entries) all.push(e);
    this.apply(all);
  }

  apply(changes: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>): void {
    for (const [k, v] of changes) {
      if (Buffer.from(k).equals(CTRL_EPOCH_KEY)) {
        if (v !== null) this.#epoch = decodeEpoch(v).epoch;
        this.#max = null;
      } else if (hasPrefix(k, CTRL_NODE_PREFIX)) {
        const owner = new Address(k.subarray(CTRL_NODE_PREFIX.length)).toString();
        if (v === null) this.#byOwner.delete(owner);
        else {
          const r = decodeNode(v);
          this.#byOwner.set(owner, { epoch: r.epoch, factor: boostFactor(r.boostPpm) });
        }
        this.#max = null;
      }
    }
  }

  of(_id: string, owner: string): number {
    const r = this.#byOwner.get(owner);
    return r !== undefined && r.epoch === this.#epoch ? r.factor : 1;
  }

  get max(): number {
    if (this.#max === null) {
      let m = 1;
      for (const r of this.#byOwner.values()) if (r.epoch === this.#epoch && r.factor > m) m = r.factor;
      this.#max = m;
    }
    return this.#max;
  }
}
