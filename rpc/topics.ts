/**
 * VOS's subscription payloads from a committed block (node/rpc.ts publishes them):
 * - `txs`: each tx with its sender, kind and transfer recipient, the accounts its {account} filter
 *   matches (the same accounts the chain DB's account index lists it under).
 * - `names`: the name changes of the block's name txs, from their receipts' events, and the lazy ones
 *   no tx marks (a name expiring, a pending transfer taking effect): NameSchedule keeps the height at
 *   which each falls due, from every registered name (loaded once, when someone first subscribes).
 */
import { Address } from '../chain/address.js';
import type { Block } from '../chain/block.js';
import { type AttributeValue, type Receipt, ReceiptStatus } from '../chain/receipt.js';
import { txAccounts } from '../chain/store/account-index.js';
import { txKindName } from '../chain/tx/kinds.js';
import type { NameEntry } from '../services/naming/records.js';
import { toHex } from '../util/bytes.js';
import type { NameEventJSON, TxEventJSON } from './methods.js';

export type NameChange = NameEventJSON;
export type NameChangeKind = NameChange['kind'];

/** The txs payloads of a block, each with the accounts it concerns. */
export function txEventsOf(
  block: Block,
  receipts: readonly Receipt[],
): { payload: TxEventJSON; accounts: string[] }[] {
  return block.txs.map((tx, i) => {
    const { sender, recipient } = txAccounts(tx);
    const from = sender.toString();
    const to = recipient?.toString();
    return {
      payload: {
        hash: toHex(tx.hash()),
        height: block.height,
        index: i,
        from,
        kind: txKindName(tx.kind),
        ...(to === undefined ? {} : { to }),
        receipt: receipts[i].toJSON(),
      },
      accounts: to === undefined || to === from ? [from] : [from, to],
    };
  });
}

/** Receipt event types of the naming service (services/naming/state.ts) and what they report. */
const NAME_EVENTS: Record<string, NameChangeKind> = {
  'name-register': 'register',
  'name-update': 'update',
  'name-renew': 'renew',
  'name-transfer': 'transfer',
  'name-transfer-cancel': 'transfer-cancel',
  'name-release': 'release',
};

const text = (v: AttributeValue | undefined) =>
  v instanceof Address ? v.toString() : typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v : '';

/** The name changes of a block's txs, in tx order (only from txs that succeeded). */
export function nameChangesOfTxs(block: Block, receipts: readonly Receipt[]): NameChange[] {
  const out: NameChange[] = [];
  receipts.forEach((r, i) => {
    if (r.status !== ReceiptStatus.Ok) return;
    for (const e of r.events) {
      const kind = NAME_EVENTS[e.type];
      if (kind === undefined) continue;
      const a = new Map(e.attributes);
      const to = a.get('to');
      const effectiveAt = a.get('effectiveAt');
      out.push({
        name: text(a.get('name')),
        owner: text(a.get('owner')),
        height: block.height,
        kind,
        tx: toHex(block.txs[i].hash()),
        expires: Number(text(a.get('expires'))),
        ...(to === undefined ? {} : { to: text(to) }),
        ...(typeof effectiveAt === 'bigint' ? { effectiveAt: Number(effectiveAt) } : {}),
      });
    }
  });
  return out;
}

/** Whether a names event passes a subscriber's filter. */
export function nameMatches(c: NameChange, f: { account?: string; name?: string }): boolean {
  if (f.name !== undefined && c.name !== f.name) return false;
  if (f.account === undefined) return true;
  return c.owner === f.account || c.to === f.account || c.previousOwner === f.account;
}

interface Tracked {
  owner: string;
  expires: number;
  to?: string;
  effectiveAt?: number;
}

/**
 * Where each registered name stands and when its lazy changes fall due: `expire` at expires + 1,
 * `transfer-effective` at effectiveAt + 1; a name is forgotten once free (expires + grace + 1).
 * Memory: one entry per registered name and at most three due heights per change.
 */
export class NameSchedule {
  readonly #names = new Map<string, Tracked>();
  readonly #due = new Map<number, Set<string>>();
  #height = 0;

  constructor(readonly gracePeriod: number) {}

  get size(): number {
    return this.#names.size;
  }

  /** The names as they stand at `height` (the chain DB's mirror). Changes applied since win. */
  load(entries: Iterable<NameEntry>, height: number): void {
    this.#height = Math.max(this.#height, height);
    for (const e of entries) {
      if (this.#names.has(e.name)) continue;
      const moved = e.transfer !== null && height > e.transfer.effectiveAt;
      const t: Tracked = { owner: (moved ? e.transfer!.to : e.owner).toString(), expires: e.expires };
      if (e.transfer !== null && !moved) {
        t.to = e.transfer.to.toString();
        t.effectiveAt = e.transfer.effectiveAt;
      }
      this.#track(e.name, t);
    }
  }

  /**
   * The lazy changes of the heights up to `height` not advanced yet, in height order (call it with
   * each block's height before `apply` of that block's tx changes).
   * PERF: one Map lookup per height; work only for the names due there.
   */
  advance(height: number): NameChange[] {
    const out: NameChange[] = [];
    for (let h = this.#height + 1; h <= height; h++) {
      const due = this.#due.get(h);
      if (due === undefined) continue;
      this.#due.delete(h);
      for (const name of due) {
        const t = this.#names.get(name);
        if (t === undefined) continue;
        if (t.effectiveAt !== undefined && t.to !== undefined && t.effectiveAt + 1 === h) {
          const previousOwner = t.owner;
          t.owner = t.to;
          t.to = undefined;
          t.effectiveAt = undefined;
          out.push({
            name,
            owner: t.owner,
            height: h,
            kind: 'transfer-effective',
            tx: null,
            expires: t.expires,
            previousOwner,
          });
        }
        if (t.expires + 1 === h)
          out.push({ name, owner: t.owner, height: h, kind: 'expire', tx: null, expires: t.expires });
        if (t.expires + this.gracePeriod + 1 <= h) this.#names.delete(name);
      }
    }
    this.#height = Math.max(this.#height, height);
    return out;
  }

  /** Take in the changes of a block's txs. */
  apply(changes: readonly NameChange[]): void {
    for (const c of changes) {
      if (c.kind === 'release') {
        this.#names.delete(c.name);
        continue;
      }
      const cur = this.#names.get(c.name);
      const t: Tracked = { owner: c.owner, expires: c.expires };
      if (c.kind === 'transfer' && c.to !== undefined && c.effectiveAt !== undefined) {
        t.to = c.to;
        t.effectiveAt = c.effectiveAt;
      } else if (c.kind !== 'transfer-cancel' && c.kind !== 'register' && cur?.to !== undefined) {
        t.to = cur.to;
        t.effectiveAt = cur.effectiveAt;
      }
      this.#track(c.name, t);
    }
  }

  #track(name: string, t: Tracked): void {
    this.#names.set(name, t);
    const at = [t.expires + 1, t.expires + this.gracePeriod + 1];
    if (t.effectiveAt !== undefined) at.push(t.effectiveAt + 1);
    for (const h of at) {
      if (h <= this.#height) continue;
      let set = this.#due.get(h);
      if (set === undefined) {
        set = new Set();
        this.#due.set(h, set);
      }
      set.add(name);
    }
  }
}
