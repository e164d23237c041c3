/**
 * The mempool: admission checks (cheap ones first, the signature last, on the worker pool), fee
 * priority, bounds by count and bytes, per-sender nonce queues, and a bounded recheck after each block.
 * Txs wait until they are executable: a sender's txs leave in nonce order starting at its account nonce.
 * When full, the cheapest evictable tx goes: only a sender's highest nonce is evictable, so eviction
 * never leaves a sender's later tx behind a gap. Txs stranded behind a gap expire after a TTL.
 */
import { asBuffer } from '../../util/bytes.js';
import type { Logger } from '../../util/logger.js';
import type { Address } from '../address.js';
import { txGas, txValue } from '../ledger/gas.js';
import type { SignatureVerifier } from '../ledger/verifier.js';
import { TxError } from '../tx/errors.js';
import { MAX_TX_BYTES, type Tx } from '../tx/tx.js';
import { Heap } from './heap.js';

export interface AccountView {
  getAccount(address: Address): Promise<{ nonce: bigint; balance: bigint }>;
}

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
  /** A sender may queue txs with nonces in [accountNonce, accountNonce + nonceWindow). */
  nonceWindow: number;
  /** Max senders rechecked after a block. */
  recheckMax: number;
  /** Per sender, so one sender cannot fill the pool. Default min(nonceWindow, maxTxs / 8). */
  maxTxsPerSender: number;
  /** Per sender. Default maxBytes / 8. */
  maxBytesPerSender: number;
  /**
   * A tx that cannot run because a lower nonce of its sender is missing (a nonce gap) is dropped after
   * waiting this long. Executable txs never expire.
   */
  strandedTtlMs: number;
}

export interface MempoolDeps {
  chainId: string;
  minGasPrice: bigint;
  maxBlockGas?: bigint;
  accounts: AccountView;
  verifier: SignatureVerifier | null;
  limits?: Partial<MempoolLimits>;
  logger?: Logger;
  /** Milliseconds; injected by tests. Default Date.now. */
  now?: () => number;
}

const U256_MAX = (1n << 256n) - 1n;

interface Entry {
  tx: Tx;
  id: string;
  seq: number;
  cost: bigint;
  /** When it became stranded (not executable: a nonce gap below it); undefined while executable. */
  since: number | undefined;
}

interface SenderQueue {
  key: string;
  /** The account nonce as last read from committed state (never moves down). */
  base: bigint;
  byNonce: Map<bigint, Entry>;
  /** The first nonce from base with no pending tx: txs below it are executable, those above stranded. */
  ready: bigint;
  /** The highest nonce: the only tx of this sender that may be evicted (no later tx depends on it). */
  tail: Entry | undefined;
  bytes: number;
  /** Amounts plus max fees of all pending txs. */
  cost: bigint;
  /** Position in the eviction heap, -1 when not in it. */
  heapIdx: number;
}

/** A stranded tx's place in the expiry queue; stale once the tx left or its `since` changed. */
interface StrandedRecord {
  key: string;
  nonce: bigint;
  since: number;
}

interface Evicted {
  e: Entry;
  q: SenderQueue;
}

export type AddResult = { hash: Uint8Array } | { error: TxError };

export class Mempool {
  readonly limits: MempoolLimits;
  readonly #d: MempoolDeps;
  readonly #now: () => number;
  readonly #byId = new Map<string, Entry>();
  readonly #senders = new Map<string, SenderQueue>();
  readonly #listeners = new Set<(tx: Tx) => void>();
  /** Senders by their tail, the cheapest first: the eviction candidates. */
  readonly #evictable = new Heap<SenderQueue>(evictsFirst, (q, i) => {
    q.heapIdx = i;
  });
  /** The sender being admitted while #makeRoom has taken it out of the eviction heap. */
  #pinned: SenderQueue | undefined;
  /** Stranded txs in the order they became stranded (FIFO, lazily cleaned). */
  #stranded: StrandedRecord[] = [];
  #strandedHead = 0;
  #bytes = 0;
  #seq = 0;
  /** Blocks seen by update(): admission re-reads accounts when this moved under it. */
  #commits = 0;

  constructor(deps: MempoolDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    const l = deps.limits ?? {};
    const maxTxs = l.maxTxs ?? 50_000;
    const maxBytes = l.maxBytes ?? 64 * 1024 * 1024;
    const nonceWindow = l.nonceWindow ?? 256;
    this.limits = {
      maxTxs,
      maxBytes,
      nonceWindow,
      recheckMax: l.recheckMax ?? 5_000,
      maxTxsPerSender: l.maxTxsPerSender ?? Math.max(1, Math.min(nonceWindow, Math.floor(maxTxs / 8))),
      maxBytesPerSender: l.maxBytesPerSender ?? Math.max(1, Math.floor(maxBytes / 8)),
      strandedTtlMs: l.strandedTtlMs ?? 10 * 60_000,
    };
    for (const [k, v] of Object.entries(this.limits))
      if (!(v > 0)) throw new RangeError(`mempool limit ${k} must be positive, got ${v}`);
  }

  get size(): number {
    return this.#byId.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(hash: Uint8Array): boolean {
    return this.#byId.has(idOf(hash));
  }

  get(hash: Uint8Array): Tx | undefined {
    return this.#byId.get(idOf(hash))?.tx;
  }

  onAdded(fn: (tx: Tx) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Pending txs of a sender in nonce order. */
  pendingFor(address: Address): Tx[] {
    const q = this.#senders.get(senderKey(address));
    if (q === undefined) return [];
    return [...q.byNonce.values()].sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : 1)).map((e) => e.tx);
  }

  /** The nonce a new tx of this sender should use: after its contiguous pending run. */
  nextNonce(address: Address, accountNonce: bigint): bigint {
    const q = this.#senders.get(senderKey(address));
    let n = q !== undefined && q.base > accountNonce ? q.base : accountNonce;
    while (q?.byNonce.has(n)) n++;
    return n;
  }

  async add(tx: Tx): Promise<{ hash: Uint8Array }> {
    const r = (await this.addMany([tx]))[0];
    if ('error' in r) throw r.error;
    return r;
  }

  /** Admit a batch: stateless checks, one batched signature verification, then insertion in order. */
  async addMany(txs: readonly Tx[]): Promise<AddResult[]> {
    const results: (AddResult | undefined)[] = new Array(txs.length);
    const pending: { i: number; tx: Tx }[] = [];
    for (let i = 0; i < txs.length; i++) {
      try {
        this.#statelessChecks(txs[i]);
        pending.push({ i, tx: txs[i] });
      } catch (err) {
        results[i] = { error: err as TxError };
      }
    }
    const verifier = this.#d.verifier;
    const ok = verifier
      ? await verifier.verifyBatch(
          pending.map(({ tx }) => ({
            publicKey: tx.signer,
            message: tx.signBytes(),
            signature: tx.signature,
          })),
        )
      : pending.map(({ tx }) => tx.verifySignature());
    // Account reads (committed state), once per sender, after the signature checks. If a block was
    // committed while reading (update() ran), read again: inserting on a stale nonce would set the
    // sender's queue base below its committed nonce and strand its txs (seen as 500 txs stuck in the
    // throughput bench once verification moved to the worker pool and commits could interleave).
    let accounts: Map<string, { nonce: bigint; balance: bigint }>;
    for (;;) {
      const version = this.#commits;
      accounts = new Map();
      for (const { tx } of pending) {
        const k = senderKey(tx.sender);
        if (!accounts.has(k)) accounts.set(k, await this.#d.accounts.getAccount(tx.sender));
      }
      if (version === this.#commits) break;
    }
    // Synchronous from here: no interleaving between the stateful checks and the insertion.
    this.expire();
    pending.forEach(({ i, tx }, j) => {
      try {
        if (!ok[j]) throw new TxError('TX_INVALID_SIGNATURE', 'invalid signature');
        this.#insert(tx, accounts.get(senderKey(tx.sender))!);
        results[i] = { hash: tx.hash() };
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
        results[i] = { error: err };
      }
    });
    for (const r of results) if (r !== undefined && 'hash' in r) this.#emit(this.#byId.get(idOf(r.hash))?.tx);
    return results as AddResult[];
  }

  #emit(tx: Tx | undefined): void {
    if (tx !== undefined) for (const fn of this.#listeners) fn(tx);
  }

  #statelessChecks(tx: Tx): void {
    if (this.#byId.has(idOf(tx.hash())))
      throw new TxError('TX_ALREADY_KNOWN', 'tx is already in the mempool');
    if (tx.chainId !== this.#d.chainId) {
      throw new TxError('TX_WRONG_CHAIN', `tx is for chain "${tx.chainId}", this is "${this.#d.chainId}"`);
    }
    if (tx.size > MAX_TX_BYTES)
      throw new TxError('TX_TOO_LARGE', `tx is ${tx.size} bytes, max ${MAX_TX_BYTES}`);
    if (tx.gasPrice < this.#d.minGasPrice) {
      throw new TxError(
        'TX_FEE_TOO_LOW',
        `gas price ${tx.gasPrice} is below the minimum ${this.#d.minGasPrice}`,
      );
    }
    const gas = txGas(tx);
    if (tx.gasLimit < gas)
      throw new TxError('TX_GAS_LIMIT_TOO_LOW', `gas limit ${tx.gasLimit} is below the ${gas} this tx needs`);
    if (this.#d.maxBlockGas !== undefined && tx.gasLimit > this.#d.maxBlockGas) {
      throw new TxError(
        'TX_GAS_LIMIT_TOO_HIGH',
        `gas limit ${tx.gasLimit} exceeds the block gas limit ${this.#d.maxBlockGas}`,
      );
    }
    if (tx.maxFee + txValue(tx) > U256_MAX)
      throw new TxError('TX_AMOUNT_OVERFLOW', 'amount plus maximum fee overflows 256 bits');
  }

  /**
   * The stateful checks and the insertion; refuses with nothing changed, or admits (evicting others
   * if needed). PERF: O(log n) in the pool size; per sender O(1) except rare paths bounded by its
   * pending txs (<= nonceWindow): a replaced or evicted tail's predecessor, a base move.
   */
  #insert(tx: Tx, account: { nonce: bigint; balance: bigint }): void {
    const id = idOf(tx.hash());
    if (this.#byId.has(id)) throw new TxError('TX_ALREADY_KNOWN', 'tx is already in the mempool');
    const sk = senderKey(tx.sender);
    let q = this.#senders.get(sk);
    // State is ahead of the queue (a block committed, update() not run yet): those nonces are used.
    if (q !== undefined && account.nonce > q.base) {
      this.#rebase(q, account.nonce);
      q = this.#senders.get(sk);
    }
    const base = q?.base ?? account.nonce;
    if (tx.nonce < base)
      throw new TxError('TX_NONCE_TOO_LOW', `nonce ${tx.nonce} is below the account nonce ${base}`);
    if (tx.nonce >= base + BigInt(this.limits.nonceWindow)) {
      throw new TxError(
        'TX_NONCE_TOO_HIGH',
        `nonce ${tx.nonce} is too far ahead of the account nonce ${base}`,
      );
    }
    const cost = tx.maxFee + txValue(tx);
    const replaced = q?.byNonce.get(tx.nonce);
    if (replaced !== undefined && tx.gasPrice * 10n < replaced.tx.gasPrice * 11n) {
      throw new TxError('TX_REPLACEMENT_UNDERPRICED', 'a replacement must pay at least 10% more gas price');
    }
    const evicted: Evicted[] = [];
    try {
      this.#fitSender(q, tx, cost, account.balance, replaced, evicted);
      this.#makeRoom(sk, tx, replaced, evicted);
    } catch (err) {
      // All or nothing: a refused tx leaves the pool as it was.
      for (let i = evicted.length - 1; i >= 0; i--) this.#restore(evicted[i]);
      throw err;
    }
    if (evicted.length > 0)
      this.#d.logger?.debug(
        { evicted: evicted.length, gasPrice: tx.gasPrice.toString() },
        'mempool eviction',
      );
    q = this.#senders.get(sk);
    if (q === undefined) {
      q = {
        key: sk,
        base,
        byNonce: new Map(),
        ready: base,
        tail: undefined,
        bytes: 0,
        cost: 0n,
        heapIdx: -1,
      };
      this.#senders.set(sk, q);
    }
    const entry: Entry = { tx, id, seq: this.#seq++, cost, since: undefined };
    if (replaced !== undefined) this.#replace(q, replaced, entry);
    else this.#place(q, entry);
  }

  /**
   * Per-sender bounds: count, bytes, and the balance, which must cover all of the sender's pending txs
   * together (amounts and max fees). A sender over them gives up its own highest-nonce txs for a lower
   * nonce (closer to running; the later ones could not run without it); otherwise the tx is refused.
   * PERF: O(1) per check, running totals per sender.
   */
  #fitSender(
    q: SenderQueue | undefined,
    tx: Tx,
    cost: bigint,
    balance: bigint,
    replaced: Entry | undefined,
    evicted: Evicted[],
  ): void {
    const { maxTxsPerSender, maxBytesPerSender } = this.limits;
    const add = replaced === undefined ? 1 : 0;
    const dBytes = tx.size - (replaced?.tx.size ?? 0);
    const dCost = cost - (replaced?.cost ?? 0n);
    for (;;) {
      const count = q?.byNonce.size ?? 0;
      const bytes = q?.bytes ?? 0;
      const committed = (q?.cost ?? 0n) + dCost;
      const overCount = count + add > maxTxsPerSender || bytes + dBytes > maxBytesPerSender;
      if (!overCount && committed <= balance) return;
      const t = q?.tail;
      if (q === undefined || t === undefined || t.tx.nonce <= tx.nonce) {
        if (committed > balance) {
          throw new TxError(
            'TX_INSUFFICIENT_BALANCE',
            `balance ${balance} cannot cover ${committed} (amounts and max fees of this tx and the sender's pending txs before it)`,
          );
        }
        throw new TxError(
          'MEMPOOL_SENDER_FULL',
          `sender has ${count} pending txs (${bytes} bytes); the per-sender limit is ${maxTxsPerSender} txs, ${maxBytesPerSender} bytes`,
        );
      }
      this.#delete(t);
      evicted.push({ e: t, q });
    }
  }

  /**
   * Evict the cheapest evictable txs while the pool is over its bounds; refuse if the new tx does not
   * pay more than them. Evictable = a sender's highest-nonce tx (its tail), so evicting never strands
   * a later tx of that sender; the new tx's own lower nonces (and the tx it replaces) are never victims.
   * PERF: O(log n) per victim (heap of senders by tail), no scan.
   */
  #makeRoom(sk: string, tx: Tx, replaced: Entry | undefined, evicted: Evicted[]): void {
    const { maxTxs, maxBytes } = this.limits;
    const add = replaced === undefined ? 1 : 0;
    const dBytes = tx.size - (replaced?.tx.size ?? 0);
    if (this.#byId.size + add <= maxTxs && this.#bytes + dBytes <= maxBytes) return;
    try {
      while (this.#byId.size + add > maxTxs || this.#bytes + dBytes > maxBytes) {
        const q = this.#evictable.peek();
        const victim = q?.tail;
        if (q === undefined || victim === undefined) {
          throw new TxError(
            'MEMPOOL_FULL',
            `mempool is full (${this.#byId.size} txs, ${this.#bytes} bytes) and holds no tx this one may evict`,
          );
        }
        if (q.key === sk && victim.tx.nonce <= tx.nonce) {
          this.#evictable.removeAt(q.heapIdx);
          this.#pinned = q;
          continue;
        }
        if (victim.tx.gasPrice >= tx.gasPrice) {
          throw new TxError(
            'MEMPOOL_FULL',
            `mempool is full (${this.#byId.size} txs, ${this.#bytes} bytes); pay a gas price above ${victim.tx.gasPrice}, the cheapest evictable tx's`,
          );
        }
        this.#delete(victim);
        evicted.push({ e: victim, q });
      }
    } finally {
      const p = this.#pinned;
      this.#pinned = undefined;
      if (p !== undefined && this.#senders.get(p.key) === p) this.#reheap(p);
    }
  }

  /** Put an entry into its sender's queue (new, or restored after a rolled-back eviction). */
  #place(q: SenderQueue, e: Entry): void {
    const n = e.tx.nonce;
    if (this.#senders.get(q.key) !== q) this.#senders.set(q.key, q);
    q.byNonce.set(n, e);
    this.#byId.set(e.id, e);
    this.#bytes += e.tx.size;
    q.bytes += e.tx.size;
    q.cost += e.cost;
    if (q.tail === undefined || n > q.tail.tx.nonce) {
      q.tail = e;
      this.#reheap(q);
    }
    if (n === q.ready) this.#advance(q);
    else if (n > q.ready) this.#strand(q, e);
  }

  #restore({ e, q }: Evicted): void {
    this.#place(q, e);
  }

  /** Same sender and nonce; the new tx keeps the old one's stranded time (and expiry record). */
  #replace(q: SenderQueue, old: Entry, e: Entry): void {
    q.byNonce.set(e.tx.nonce, e);
    this.#byId.delete(old.id);
    this.#byId.set(e.id, e);
    const dBytes = e.tx.size - old.tx.size;
    this.#bytes += dBytes;
    q.bytes += dBytes;
    q.cost += e.cost - old.cost;
    e.since = old.since;
    if (q.tail === old) {
      q.tail = e;
      this.#reheap(q);
    }
  }

  #delete(e: Entry): void {
    if (!this.#byId.delete(e.id)) return;
    this.#bytes -= e.tx.size;
    const q = this.#senders.get(senderKey(e.tx.sender));
    const n = e.tx.nonce;
    if (q === undefined || q.byNonce.get(n) !== e) return;
    q.byNonce.delete(n);
    q.bytes -= e.tx.size;
    q.cost -= e.cost;
    if (n >= q.base && n < q.ready) {
      // It was executable: the txs above it now wait on a gap.
      for (let m = n + 1n; m < q.ready; m++) {
        const x = q.byNonce.get(m);
        if (x !== undefined) this.#strand(q, x);
      }
      q.ready = n;
    }
    if (q.byNonce.size === 0) {
      q.tail = undefined;
      if (q.heapIdx >= 0) this.#evictable.removeAt(q.heapIdx);
      this.#senders.delete(q.key);
    } else if (q.tail === e) {
      // PERF: the predecessor is at most nonceWindow nonces below (all of a sender's txs are inside it).
      let m = n - 1n;
      while (!q.byNonce.has(m)) m--;
      q.tail = q.byNonce.get(m);
      this.#reheap(q);
    }
  }

  #reheap(q: SenderQueue): void {
    if (q === this.#pinned) return;
    if (q.heapIdx < 0) this.#evictable.push(q);
    else this.#evictable.update(q.heapIdx);
  }

  /** The account nonce moved up to `base`: drop the txs it used up, then extend the executable run. */
  #rebase(q: SenderQueue, base: bigint): void {
    if (base <= q.base) return;
    const old = q.base;
    q.base = base;
    if (base - old <= BigInt(q.byNonce.size)) {
      for (let m = old; m < base; m++) {
        const e = q.byNonce.get(m);
        if (e !== undefined) this.#delete(e);
      }
    } else {
      for (const e of [...q.byNonce.values()]) if (e.tx.nonce < base) this.#delete(e);
    }
    if (this.#senders.get(q.key) === q) this.#advance(q);
  }

  /** Move `ready` past the txs that now follow the executable run; they are no longer stranded. */
  #advance(q: SenderQueue): void {
    if (q.ready < q.base) q.ready = q.base;
    for (;;) {
      const e = q.byNonce.get(q.ready);
      if (e === undefined) return;
      e.since = undefined;
      q.ready++;
    }
  }

  #strand(q: SenderQueue, e: Entry): void {
    if (e.since !== undefined) return;
    e.since = this.#now();
    this.#stranded.push({ key: q.key, nonce: e.tx.nonce, since: e.since });
    // Stale records (txs that became executable or left) are dropped when more than half are stale.
    if (this.#stranded.length - this.#strandedHead > 2 * this.#byId.size + 1024) {
      this.#stranded = this.#stranded.slice(this.#strandedHead).filter((r) => this.#live(r) !== undefined);
      this.#strandedHead = 0;
    }
  }

  #live(r: StrandedRecord): Entry | undefined {
    const e = this.#senders.get(r.key)?.byNonce.get(r.nonce);
    return e !== undefined && e.since === r.since ? e : undefined;
  }

  /**
   * Drop txs stranded behind a nonce gap for longer than strandedTtlMs; runs on each admission batch
   * and after each block. Returns how many were dropped. PERF: O(1) when none is due (FIFO queue).
   */
  expire(): number {
    const now = this.#now();
    const ttl = this.limits.strandedTtlMs;
    let dropped = 0;
    while (this.#strandedHead < this.#stranded.length) {
      const r = this.#stranded[this.#strandedHead];
      const e = this.#live(r);
      if (e !== undefined) {
        if (now - r.since < ttl) break;
        this.#delete(e);
        dropped++;
      }
      this.#strandedHead++;
    }
    if (this.#strandedHead > 1024 && this.#strandedHead * 2 > this.#stranded.length) {
      this.#stranded = this.#stranded.slice(this.#strandedHead);
      this.#strandedHead = 0;
    }
    if (dropped > 0) this.#d.logger?.debug({ dropped }, 'mempool: dropped txs stranded behind a nonce gap');
    return dropped;
  }

  /** Executable txs, highest gas price first across senders, nonce order within a sender. */
  reap(limits: { maxTxs?: number; maxBytes?: number; maxGas?: bigint } = {}): Tx[] {
    const maxTxs = limits.maxTxs ?? Number.POSITIVE_INFINITY;
    const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    const maxGas = limits.maxGas;
    const heap = new Heap<Entry>(reapsFirst);
    for (const q of this.#senders.values()) {
      const head = q.byNonce.get(q.base);
      if (head !== undefined) heap.push(head);
    }
    const out: Tx[] = [];
    let bytes = 0;
    let gas = 0n;
    // PERF: O(k log s) for k reaped txs over s senders.
    while (out.length < maxTxs) {
      const e = heap.pop();
      if (e === undefined) break;
      const g = txGas(e.tx);
      if (bytes + e.tx.size > maxBytes || (maxGas !== undefined && gas + g > maxGas)) break;
      out.push(e.tx);
      bytes += e.tx.size;
      gas += g;
      const q = this.#senders.get(senderKey(e.tx.sender))!;
      const next = q.byNonce.get(e.tx.nonce + 1n);
      if (next !== undefined) heap.push(next);
    }
    return out;
  }

  /** Remove txs (e.g. found invalid while building a block); the sender's later txs wait (and expire). */
  remove(txs: readonly Tx[]): void {
    for (const tx of txs) {
      const e = this.#byId.get(idOf(tx.hash()));
      if (e !== undefined) this.#delete(e);
    }
  }

  /** After a block: drop committed txs, then recheck the senders they touched (bounded), then expire. */
  async update(committed: readonly Tx[]): Promise<void> {
    this.#commits++;
    const touched = new Map<string, Address>();
    for (const tx of committed) {
      const sk = senderKey(tx.sender);
      touched.set(sk, tx.sender);
      // A committed nonce n means the account is at n + 1 or later: move the queue's base now (no read),
      // so senders past the recheck bound below are not stranded, and drop what can no longer run.
      const q = this.#senders.get(sk);
      if (q !== undefined) this.#rebase(q, tx.nonce + 1n);
    }
    let checked = 0;
    for (const [sk, address] of touched) {
      if (checked++ >= this.limits.recheckMax) break;
      if (!this.#senders.has(sk)) continue;
      const acct = await this.#d.accounts.getAccount(address);
      // Admission may have run during the read: take the queue as it is now.
      const q = this.#senders.get(sk);
      if (q === undefined) continue;
      this.#rebase(q, acct.nonce);
      if (q.cost <= acct.balance) continue;
      // The balance no longer covers them all: keep the affordable prefix in nonce order, drop the
      // first unaffordable tx and every later one (they cannot run before it), highest nonce first so
      // that no kept tx is left behind a gap.
      const sorted = [...q.byNonce.values()].sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : 1));
      let budget = acct.balance;
      let cut = sorted.length;
      for (let i = 0; i < sorted.length; i++) {
        if (sorted[i].cost > budget) {
          cut = i;
          break;
        }
        budget -= sorted[i].cost;
      }
      for (let i = sorted.length - 1; i >= cut; i--) this.#delete(sorted[i]);
    }
    this.expire();
  }

  /** Drop every pending tx. */
  clear(): void {
    this.#byId.clear();
    this.#senders.clear();
    this.#evictable.clear();
    this.#pinned = undefined;
    this.#stranded = [];
    this.#strandedHead = 0;
    this.#bytes = 0;
  }
}

function idOf(hash: Uint8Array): string {
  return asBuffer(hash).toString('latin1');
}

function senderKey(a: Address): string {
  return asBuffer(a.bytes).toString('latin1');
}

/** Reap order: higher gas price first, then arrival order. */
function reapsFirst(x: Entry, y: Entry): boolean {
  return x.tx.gasPrice === y.tx.gasPrice ? x.seq < y.seq : x.tx.gasPrice > y.tx.gasPrice;
}

/** Eviction order of senders by their tail: lower gas price first, then higher nonce, then newer. */
function evictsFirst(a: SenderQueue, b: SenderQueue): boolean {
  const x = (a.tail as Entry).tx;
  const y = (b.tail as Entry).tx;
  if (x.gasPrice !== y.gasPrice) return x.gasPrice < y.gasPrice;
  if (x.nonce !== y.nonce) return x.nonce > y.nonce;
  return (a.tail as Entry).seq > (b.tail as Entry).seq;
}
