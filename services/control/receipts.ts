/**
 * Served-bytes receipts off chain (the evidence behind `served` in a node's contribution):
 *
 * - as a client, the node counts the bytes each peer served it in the current epoch (shards, content
 *   blocks) and, a moment after each burst, signs a cumulative receipt and sends it to that peer;
 * - as a server, it keeps the largest valid receipt per client per epoch (signature checked on
 *   arrival, before it is kept) and, once the next epoch is half over (late receipts have come in),
 *   submits them in `control-receipts` txs of at most MAX_RECEIPTS_PER_TX (retried while that epoch
 *   lasts). Receipts are checked on arrival as the chain would (epoch, cap, signature, funded client of
 *   another owner), so one bad receipt does not sit in a tx; the chain still skips any it refuses.
 *
 * The chain refuses what earns nothing (state.ts): a receipt of the server itself, of the same owner,
 * replayed, of another epoch, from an unfunded client.
 */
import type { PeerId } from '@libp2p/interface';
import { type Address, addressFromPublicKey } from '../../chain/address.js';
import type { PrivateKey } from '../../chain/keys.js';
import { verifySignature } from '../../chain/keys.js';
import type { TxPayload } from '../../chain/tx/kinds.js';
import type { Logger } from '../../util/logger.js';
import { receiptMessage, type ServedReceipt, signReceipt } from './receipt.js';
import { controlPayload, MAX_RECEIPTS_PER_TX } from './state.js';

/** Clients a server keeps receipts of per epoch (beyond: new clients are refused). */
const MAX_CLIENTS_PER_EPOCH = 4096;
const FLUSH_MS = 1000;

export interface ReceiptsOptions {
  chainId: string;
  key: PrivateKey;
  epochLength: number;
  /** The genesis cap of what one client attests per epoch (receipts above it are refused). */
  maxReceiptBytes: number;
  /** Whether the chain would count a receipt of this client (funded, another owner): checked on arrival. */
  admit(client: Address): Promise<boolean>;
  /** The height the node has committed. */
  height(): number;
  /** Sends a signed receipt to the peer that served the bytes. */
  deliver(peer: PeerId, r: ServedReceipt): Promise<void>;
  submit(payload: TxPayload): Promise<unknown>;
  logger: Logger;
}

export class ServedReceipts {
  readonly #o: ReceiptsOptions;
  /** Client side: epoch -> server peer -> bytes received. */
  readonly #received = new Map<number, Map<string, { peer: PeerId; bytes: number }>>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  /** Server side: epoch -> client address -> best receipt. */
  readonly #kept = new Map<number, Map<string, ServedReceipt>>();
  #submitted = 0;
  #sending = false;

  constructor(o: ReceiptsOptions) {
    this.#o = o;
  }

  get #epoch(): number {
    return Math.floor(this.#o.height() / this.#o.epochLength) + 1;
  }

  /** Client side: `peer` served this node `bytes` (verified content). */
  received(peer: PeerId, bytes: number): void {
    if (bytes <= 0 || peer.publicKey === undefined) return;
    const epoch = this.#epoch;
    let m = this.#received.get(epoch);
    if (m === undefined) {
      m = new Map();
      this.#received.set(epoch, m);
      for (const e of this.#received.keys()) if (e < epoch - 1) this.#received.delete(e);
    }
    const id = peer.toString();
    const have = m.get(id) ?? { peer, bytes: 0 };
    have.bytes += bytes;
    m.set(id, have);
    this.#dirty.add(`${epoch}/${id}`);
    this.#timer ??= setTimeout(() => void this.#flush(), FLUSH_MS);
    this.#timer.unref?.();
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const due = [...this.#dirty];
    this.#dirty.clear();
    for (const k of due) {
      const [e, id] = [Number(k.slice(0, k.indexOf('/'))), k.slice(k.indexOf('/') + 1)];
      const r = this.#received.get(e)?.get(id);
      if (r?.peer.publicKey === undefined) continue;
      const server = addressFromPublicKey(r.peer.publicKey.raw);
      const bytes = Math.min(r.bytes, this.#o.maxReceiptBytes);
      const receipt = signReceipt(this.#o.key, this.#o.chainId, e, server, bytes);
      await this.#o
        .deliver(r.peer, receipt)
        .catch((err) =>
          this.#o.logger.debug({ peer: id, err: String(err?.message ?? err) }, 'receipt not delivered'),
        );
    }
  }

  /**
   * Server side: a receipt from `client` (authenticated by the connection) for bytes this node served.
   * Returns why it is refused, or null when kept. Cheap checks first, the signature last.
   */
  async accept(client: PeerId, epoch: number, bytes: number, signature: Uint8Array): Promise<string | null> {
    if (client.publicKey === undefined) return 'the client has no Ed25519 key';
    const now = this.#epoch;
    if (epoch !== now && epoch !== now - 1) return `epoch ${epoch} is not the current or the last one`;
    if (epoch <= this.#submitted) return `the receipts of epoch ${epoch} are submitted already`;
    if (bytes > this.#o.maxReceiptBytes)
      return `over the ${this.#o.maxReceiptBytes} bytes a client attests per epoch`;
    const me = this.#o.key.address;
    const from = addressFromPublicKey(client.publicKey.raw);
    if (from.equals(me)) return 'a receipt of this node itself';
    const m = this.#kept.get(epoch);
    const have = m?.get(from.toHex());
    if (have !== undefined && have.bytes >= bytes) return null; // an older one of the same client
    if (m !== undefined && have === undefined && m.size >= MAX_CLIENTS_PER_EPOCH)
      return 'too many clients this epoch';
    const r: ServedReceipt = { client: client.publicKey.raw, epoch, bytes, signature };
    if (!verifySignature(r.client, receiptMessage(this.#o.chainId, epoch, me, bytes), signature))
      return 'bad signature';
    if (!(await this.#o.admit(from))) return 'the chain would not count this client (unfunded or same owner)';
    let kept = this.#kept.get(epoch);
    if (kept === undefined) {
      kept = new Map();
      this.#kept.set(epoch, kept);
    }
    kept.set(from.toHex(), r);
    return null;
  }

  /**
   * After each block: once the epoch after a kept one is half over (late receipts have come in), submit
   * that epoch's receipts; what could not be sent is tried again at the next block of that epoch.
   */
  async onBlock(): Promise<void> {
    const h = this.#o.height();
    const now = this.#epoch;
    const e = now - 1;
    for (const old of this.#kept.keys()) if (old < e) this.#kept.delete(old);
    if (e < 1 || e <= this.#submitted || this.#sending) return;
    if (h - (now - 1) * this.#o.epochLength < Math.floor(this.#o.epochLength / 2)) return;
    const kept = this.#kept.get(e);
    if (kept === undefined || kept.size === 0) {
      this.#submitted = e;
      return;
    }
    this.#sending = true;
    try {
      const all = [...kept.entries()];
      for (let i = 0; i < all.length; i += MAX_RECEIPTS_PER_TX) {
        const part = all.slice(i, i + MAX_RECEIPTS_PER_TX);
        await this.#o.submit(controlPayload.receipts({ epoch: e, receipts: part.map(([, r]) => r) }));
        for (const [k] of part) kept.delete(k);
        this.#o.logger.info({ epoch: e, receipts: part.length }, 'served-bytes receipts submitted');
      }
      this.#submitted = e;
      this.#kept.delete(e);
    } catch (err) {
      this.#o.logger.warn({ epoch: e, err: String((err as Error)?.message ?? err) }, 'receipts tx not sent');
    } finally {
      this.#sending = false;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
