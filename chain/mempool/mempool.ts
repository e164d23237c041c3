/**
 * The mempool: admission checks (cheap ones first, the signature last, on the worker pool), fee
 * priority, bounds by count and bytes, per-sender nonce queues, and a bounded recheck after each block.
 * Txs wait until they are executable: a sender's txs leave in nonce order starting at its account nonce.
 */
import { asBuffer } from '../../util/bytes.js';
import type { Logger } from '../../util/logger.js';
import type { Address } from '../address.js';
import { txGas, txValue } from '../ledger/gas.js';
import type { SignatureVerifier } from '../ledger/verifier.js';
import { TxError } from '../tx/errors.js';
import { MAX_TX_BYTES, type Tx } from '../tx/tx.js';

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
}

export interface MempoolDeps {
  chainId: string;
  minGasPrice: bigint;
  maxBlockGas?: bigint;
  accounts: AccountView;
  verifier: SignatureVerifier | null;
  limits?: Partial<MempoolLimits>;
  logger?: Logger;
}

const U256_MAX = (1n << 256n) - 1n;

interface Entry {
  tx: Tx;
  id: string;
  seq: number;
  cost: bigint;
}

interface SenderQueue {
  /** The account nonce as last read from committed state. */
  base: bigint;
  byNonce: Map<bigint, Entry>;
}

export type AddResult = { hash: Uint8Array } | { error: TxError };

export class Mempool {
  readonly limits: MempoolLimits;
  readonly #d: MempoolDeps;
  readonly #byId = new Map<string, Entry>();
  readonly #senders = new Map<string, SenderQueue>();
  readonly #listeners = new Set<(tx: Tx) => void>();
  #bytes = 0;
  #seq = 0;
  /** Blocks seen by update(): admission re-reads accounts when this moved under it. */
  #commits = 0;

  constructor(deps: MempoolDeps) {
    this.#d = deps;
    this.limits = {
      maxTxs: 50_000,
      maxBytes: 64 * 1024 * 1024,
      nonceWindow: 256,
      recheckMax: 5_000,
      ...deps.limits,
    };
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
    let n = accountNonce;
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

  #insert(tx: Tx, account: { nonce: bigint; balance: bigint }): void {
    const id = idOf(tx.hash());
    if (this.#byId.has(id)) throw new TxError('TX_ALREADY_KNOWN', 'tx is already in the mempool');
    const sk = senderKey(tx.sender);
    let q = this.#senders.get(sk);
    const base = q !== undefined && q.base > account.nonce ? q.base : account.nonce;
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
    let committed = cost;
    if (q !== undefined) for (const e of q.byNonce.values()) if (e.tx.nonce < tx.nonce) committed += e.cost;
    if (committed > account.balance) {
      throw new TxError(
        'TX_INSUFFICIENT_BALANCE',
        `balance ${account.balance} cannot cover ${committed} (amounts and max fees)`,
      );
    }
    if (replaced === undefined) this.#makeRoom(tx);
    else this.#delete(replaced);
    q = this.#senders.get(sk);
    if (q === undefined) {
      q = { base, byNonce: new Map() };
      this.#senders.set(sk, q);
    }
    q.base = base;
    const entry: Entry = { tx, id, seq: this.#seq++, cost };
    q.byNonce.set(tx.nonce, entry);
    this.#byId.set(id, entry);
    this.#bytes += tx.size;
  }

  /** Evict the cheapest txs if full; refuse if the new tx does not pay more than them. */
  #makeRoom(tx: Tx): void {
    while (this.#byId.size + 1 > this.limits.maxTxs || this.#bytes + tx.size > this.limits.maxBytes) {
      // PERF: O(n) scan, only when the pool is full.
      let worst: Entry | undefined;
      for (const e of this.#byId.values()) {
        if (
          worst === undefined ||
          e.tx.gasPrice < worst.tx.gasPrice ||
          (e.tx.gasPrice === worst.tx.gasPrice && e.tx.nonce > worst.tx.nonce)
        )
          worst = e;
      }
      if (worst === undefined || worst.tx.gasPrice >= tx.gasPrice) {
        throw new TxError(
          'MEMPOOL_FULL',
          `mempool is full (${this.#byId.size} txs, ${this.#bytes} bytes); pay a higher gas price`,
        );
      }
      this.#delete(worst);
    }
  }

  #delete(e: Entry): void {
    if (!this.#byId.delete(e.id)) return;
    this.#bytes -= e.tx.size;
    const sk = senderKey(e.tx.sender);
    const q = this.#senders.get(sk);
    if (q !== undefined && q.byNonce.get(e.tx.nonce) === e) {
      q.byNonce.delete(e.tx.nonce);
      if (q.byNonce.size === 0) this.#senders.delete(sk);
    }
  }

  /** Executable txs, highest gas price first across senders, nonce order within a sender. */
  reap(limits: { maxTxs?: number; maxBytes?: number; maxGas?: bigint } = {}): Tx[] {
    const maxTxs = limits.maxTxs ?? Number.POSITIVE_INFINITY;
    const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    const maxGas = limits.maxGas;
    const heap = new EntryHeap();
    const cursors = new Map<SenderQueue, bigint>();
    for (const q of this.#senders.values()) {
      const head = q.byNonce.get(q.base);
      if (head !== undefined) {
        heap.push(head);
        cursors.set(q, q.base);
      }
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
      const nextNonce = e.tx.nonce + 1n;
      const next = q.byNonce.get(nextNonce);
      if (next !== undefined) heap.push(next);
    }
    return out;
  }

  /** Remove txs (e.g. found invalid while building a block). */
  remove(txs: readonly Tx[]): void {
    for (const tx of txs) {
      const e = this.#byId.get(idOf(tx.hash()));
      if (e !== undefined) this.#delete(e);
    }
  }

  /** After a block: drop committed txs, then recheck the senders they touched (bounded). */
  async update(committed: readonly Tx[]): Promise<void> {
    this.#commits++;
    const touched = new Map<string, Address>();
    for (const tx of committed) {
      const e = this.#byId.get(idOf(tx.hash()));
      if (e !== undefined) this.#delete(e);
      const sk = senderKey(tx.sender);
      touched.set(sk, tx.sender);
      // A committed nonce n means the account is at n + 1 or later: move the queue's base now (no read),
      // so senders past the recheck bound below are not stranded, and drop what can no longer run.
      const q = this.#senders.get(sk);
      if (q !== undefined && q.base <= tx.nonce) {
        q.base = tx.nonce + 1n;
        for (const stale of [...q.byNonce.values()]) if (stale.tx.nonce < q.base) this.#delete(stale);
      }
    }
    let checked = 0;
    for (const [sk, address] of touched) {
      if (checked++ >= this.limits.recheckMax) break;
      const q = this.#senders.get(sk);
      if (q === undefined) continue;
      const acct = await this.#d.accounts.getAccount(address);
      q.base = acct.nonce;
      let budget = acct.balance;
      for (const e of [...q.byNonce.values()].sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : 1))) {
        if (e.tx.nonce < acct.nonce || e.cost > budget) this.#delete(e);
        else budget -= e.cost;
      }
    }
  }

  clear(): void {
    this.#byId.clear();
    this.#senders.clear();
    this.#bytes = 0;
  }
}

function idOf(hash: Uint8Array): string {
  return asBuffer(hash).toString('latin1');
}

function senderKey(a: Address): string {
  return asBuffer(a.bytes).toString('latin1');
}

/** Max-heap by gas price, then arrival order. */
class EntryHeap {
  readonly #a: Entry[] = [];

  push(e: Entry): void {
    const a = this.#a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): Entry | undefined {
    const a = this.#a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Entry, y: Entry): boolean {
  return x.tx.gasPrice === y.tx.gasPrice ? x.seq < y.seq : x.tx.gasPrice > y.tx.gasPrice;
}
