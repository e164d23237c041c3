/**
 * What the comm service keeps on disk (`<home>/data/comm`, LevelDB):
 *   q/<recipient 20>             next seq this node uses towards a recipient
 *   l/<sender key 32>            highest seq delivered from a sender (the receiver's order)
 *   s/<id 16>                    ids seen (delivered or refused as replays), until they expire
 *   e/<expiresAt 8><id 16>       seen ids by expiry (swept)
 *   h/<time 8><id 16>            history: messages sent and received (JSON), newest last
 *   i/<id 16>                    -> its h/ key (receipts update the entry)
 *   m/<recipient 20><at 8><id>   mailbox: envelopes held for others, [depositor address, envelope]
 *   d/<id 16>                    -> its m/ key (one copy per id; acks delete by id)
 *   x/<expiresAt 8><id 16>       -> its m/ key (expired envelopes are swept)
 * Mailbox bytes per depositor are counted in memory (rebuilt at open) for the quota.
 */
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { Address } from '../../chain/address.js';
import { asBytes, asList, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { concatBytes, fromUtf8, hasPrefix, prefixRange, readU64be, u64be, utf8 } from '../../util/bytes.js';

const P = {
  seq: utf8('q/'),
  last: utf8('l/'),
  seen: utf8('s/'),
  seenExpiry: utf8('e/'),
  history: utf8('h/'),
  historyIndex: utf8('i/'),
  mailbox: utf8('m/'),
  mailboxId: utf8('d/'),
  expiry: utf8('x/'),
};

type Batch = ReturnType<ClassicLevel<Uint8Array, Uint8Array>['batch']>;

export interface HistoryEntry {
  id: string;
  direction: 'in' | 'out';
  /** The other side: its address, and its name when it claimed one the chain confirms (or we sent to). */
  peer: string;
  peerName: string | null;
  kind: 'message';
  text: string;
  attachments: { cid: string; key: string; name: string; mime: string; size: number }[];
  seq: number;
  sentAt: number;
  /** Out: when the node sent it; in: when it was delivered here. */
  at: number;
  expiresAt: number;
  /** Out: sent (direct attempt failed, not held yet), held (in mailboxes), delivered; in: delivered. */
  status: 'sending' | 'held' | 'delivered' | 'failed';
  holders?: number;
  deliveredAt?: number;
  via?: 'direct' | 'mailbox';
}

export interface HeldEnvelope {
  id: Uint8Array;
  recipient: string;
  depositor: string;
  bytes: Uint8Array;
}

export class CommStore {
  readonly #db: ClassicLevel<Uint8Array, Uint8Array>;
  /** Mailbox use per depositor: messages and bytes. */
  readonly usage = new Map<string, { messages: number; bytes: number }>();
  #heldMessages = 0;
  /** History keys are strictly increasing in time (entries of one ms keep their order). */
  #lastAt = 0;

  private constructor(db: ClassicLevel<Uint8Array, Uint8Array>) {
    this.#db = db;
  }

  static async open(dir: string): Promise<CommStore> {
    await mkdir(dir, { recursive: true });
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const store = new CommStore(db);
    for await (const k of db.keys({ ...prefixRange(P.history), reverse: true, limit: 1 }))
      store.#lastAt = Number(readU64be(k, P.history.length));
    for await (const [, v] of db.iterator(prefixRange(P.mailbox))) {
      const { depositor, bytes } = decodeHeld(v);
      store.#count(depositor, 1, bytes.length);
    }
    return store;
  }

  get heldMessages(): number {
    return this.#heldMessages;
  }

  #count(depositor: string, messages: number, bytes: number): void {
    const u = this.usage.get(depositor) ?? { messages: 0, bytes: 0 };
    u.messages += messages;
    u.bytes += bytes;
    this.#heldMessages += messages;
    if (u.messages <= 0) this.usage.delete(depositor);
    else this.usage.set(depositor, u);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  // ---- order ----

  /** The next seq towards `recipient` (1, 2, ...), persisted before it is used. */
  async nextSeq(recipient: Address): Promise<number> {
    const key = concatBytes(P.seq, recipient.bytes);
    const v = await this.#db.get(key);
    const next = v === undefined ? 1 : Number(readU64be(v)) + 1;
    await this.#db.put(key, u64be(next));
    return next;
  }

  async lastSeq(senderKey: Uint8Array): Promise<number> {
    const v = await this.#db.get(concatBytes(P.last, senderKey));
    return v === undefined ? 0 : Number(readU64be(v));
  }

  // ---- seen ids ----

  async seen(id: Uint8Array): Promise<boolean> {
    return (await this.#db.get(concatBytes(P.seen, id))) !== undefined;
  }

  /**
   * A delivered message: its seen id, the history entry and, when it advances the sender's order,
   * the sender's highest seq, in one batch.
   */
  async recordDelivered(
    id: Uint8Array,
    expiresAt: number,
    entry: HistoryEntry,
    advance?: { senderKey: Uint8Array; seq: number },
  ): Promise<void> {
    const b = this.#db.batch();
    this.#putSeen(b, id, expiresAt);
    if (advance !== undefined) b.put(concatBytes(P.last, advance.senderKey), u64be(advance.seq));
    this.#putHistory(b, entry);
    await b.write();
  }

  /** A seen id only (a receipt: no history entry). */
  async markSeen(id: Uint8Array, expiresAt: number): Promise<void> {
    const b = this.#db.batch();
    this.#putSeen(b, id, expiresAt);
    await b.write();
  }

  #putSeen(b: Batch, id: Uint8Array, expiresAt: number): void {
    b.put(concatBytes(P.seen, id), u64be(expiresAt));
    b.put(concatBytes(P.seenExpiry, u64be(expiresAt), id), new Uint8Array(0));
  }

  // ---- history ----

  #putHistory(b: Batch, e: HistoryEntry): void {
    const id = Buffer.from(e.id.slice(2), 'hex');
    if (e.at <= this.#lastAt) e.at = this.#lastAt + 1;
    this.#lastAt = e.at;
    const key = concatBytes(P.history, u64be(e.at), id);
    b.put(key, utf8(JSON.stringify(e)));
    b.put(concatBytes(P.historyIndex, id), key);
  }

  async addHistory(e: HistoryEntry): Promise<void> {
    const b = this.#db.batch();
    this.#putHistory(b, e);
    await b.write();
  }

  /** Updates an entry; undefined when there is none. */
  async updateHistory(id: Uint8Array, f: (e: HistoryEntry) => void): Promise<HistoryEntry | undefined> {
    const key = await this.#db.get(concatBytes(P.historyIndex, id));
    if (key === undefined) return undefined;
    const v = await this.#db.get(key);
    if (v === undefined) return undefined;
    const e = JSON.parse(fromUtf8(v)) as HistoryEntry;
    f(e);
    await this.#db.put(key, utf8(JSON.stringify(e)));
    return e;
  }

  async getHistory(id: Uint8Array): Promise<HistoryEntry | undefined> {
    const key = await this.#db.get(concatBytes(P.historyIndex, id));
    const v = key === undefined ? undefined : await this.#db.get(key);
    return v === undefined ? undefined : (JSON.parse(fromUtf8(v)) as HistoryEntry);
  }

  /** Newest first: entries with `at` < before, of one peer (address) when given. */
  async history(o: { peer?: string; limit: number; before?: number }): Promise<HistoryEntry[]> {
    const r = prefixRange(P.history);
    const lt = o.before === undefined ? r.lt : concatBytes(P.history, u64be(o.before));
    const out: HistoryEntry[] = [];
    for await (const v of this.#db.values({ gte: r.gte, lt, reverse: true })) {
      const e = JSON.parse(fromUtf8(v)) as HistoryEntry;
      if (o.peer !== undefined && e.peer !== o.peer) continue;
      out.push(e);
      if (out.length >= o.limit) break;
    }
    return out;
  }

  // ---- mailbox (held for others) ----

  /** Holds an envelope; false when this id is already held. */
  async hold(h: HeldEnvelope, expiresAt: number, now: number): Promise<boolean> {
    const dKey = concatBytes(P.mailboxId, h.id);
    if ((await this.#db.get(dKey)) !== undefined) return false;
    const mKey = concatBytes(P.mailbox, Address.fromString(h.recipient).bytes, u64be(now), h.id);
    const b = this.#db.batch();
    b.put(mKey, encodeRlp([Address.fromString(h.depositor).bytes, h.bytes]));
    b.put(dKey, mKey);
    b.put(concatBytes(P.expiry, u64be(expiresAt), h.id), mKey);
    await b.write();
    this.#count(h.depositor, 1, h.bytes.length);
    return true;
  }

  /** What is held for `recipient`, oldest first. */
  async held(recipient: string, limit: number): Promise<HeldEnvelope[]> {
    const out: HeldEnvelope[] = [];
    for await (const [k, v] of this.#db.iterator(
      prefixRange(concatBytes(P.mailbox, Address.fromString(recipient).bytes)),
    )) {
      const { depositor, bytes } = decodeHeld(v);
      out.push({ id: k.subarray(k.length - 16), recipient, depositor, bytes });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Drops held envelopes by id, only those held for `recipient`. Returns how many were dropped. */
  async drop(recipient: string, ids: Uint8Array[]): Promise<number> {
    const prefix = concatBytes(P.mailbox, Address.fromString(recipient).bytes);
    let n = 0;
    for (const id of ids) {
      const mKey = await this.#db.get(concatBytes(P.mailboxId, id));
      if (mKey === undefined || !hasPrefix(mKey, prefix)) continue;
      if (await this.#remove(mKey, id)) n++;
    }
    return n;
  }

  async #remove(mKey: Uint8Array, id: Uint8Array): Promise<boolean> {
    const v = await this.#db.get(mKey);
    if (v === undefined) return false;
    const { depositor, bytes } = decodeHeld(v);
    const b = this.#db.batch();
    b.del(mKey);
    b.del(concatBytes(P.mailboxId, id));
    await b.write();
    this.#count(depositor, -1, -bytes.length);
    return true;
  }

  /** Drops what expired by `now` from the mailbox, and seen ids past their expiry. */
  async sweep(now: number): Promise<number> {
    let n = 0;
    const r = prefixRange(P.expiry);
    for await (const [k, mKey] of this.#db.iterator({ gte: r.gte, lt: concatBytes(P.expiry, u64be(now)) })) {
      const id = k.subarray(k.length - 16);
      if (await this.#remove(mKey, id)) n++;
      await this.#db.del(k);
    }
    const e = prefixRange(P.seenExpiry);
    const dead: Uint8Array[] = [];
    for await (const k of this.#db.keys({ gte: e.gte, lt: concatBytes(P.seenExpiry, u64be(now)) }))
      dead.push(k, concatBytes(P.seen, k.subarray(k.length - 16)));
    if (dead.length > 0) await this.#db.batch(dead.map((key) => ({ type: 'del' as const, key })));
    return n;
  }
}

function decodeHeld(v: Uint8Array): { depositor: string; bytes: Uint8Array } {
  const f = asList(decodeRlp(v, 'held envelope'), 'held envelope', 2);
  return {
    depositor: new Address(asBytes(f[0], 'depositor', 20)).toString(),
    bytes: asBytes(f[1], 'envelope'),
  };
}
