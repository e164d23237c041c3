/**
 * The communication service of a node (off-chain part): messages sealed end to end to the recipient's
 * on-chain key, delivered directly (dial by DHT peer routing, through a relay when the peer listens
 * only there), else held by the k nodes closest to the recipient in the DHT keyspace until it comes
 * back and collects them; delivered in each sender's order, once; delivery receipts; byte streams
 * for apps.
 *
 * Receive pipeline, cheap checks first: size and shape -> addressed here -> not expired -> id not
 * seen -> open (AES-GCM) -> signature -> claimed name owned by the signing key (a chain read) -> order.
 */
import { createHash } from 'node:crypto';
import type { PeerId, Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { CID } from 'multiformats/cid';
import { Address, addressFromPublicKey } from '../../chain/address.js';
import type { PrivateKey } from '../../chain/keys.js';
import { addressOfPeer, peerIdOfPublicKey, type VosHost } from '../../p2p/host.js';
import { equalBytes, toHex } from '../../util/bytes.js';
import { PeerAction, VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { LocalStore } from '../storage/local.js';
import {
  decryptObject,
  encryptObject,
  newObjectKey,
  type X25519Keys,
  x25519KeysOf,
} from '../storage/seal.js';
import {
  type Attachment,
  CommError,
  decodeEnvelope,
  decodeMessageBody,
  decodeReceiptBody,
  type Envelope,
  encodeMessageBody,
  encodeReceiptBody,
  type Inner,
  Kind,
  openEnvelope,
  sealEnvelope,
  x25519PublicOf,
} from './envelope.js';
import {
  BASE_QUOTA_BYTES,
  BASE_QUOTA_MESSAGES,
  CLOCK_SKEW_MS,
  DEFAULT_TTL_MS,
  MAILBOX_HOLDERS,
  MAX_ATTACHMENT_BYTES,
  MAX_COLLECT,
  MAX_RECEIPT_IDS,
  MAX_TTL_MS,
} from './limits.js';
import { CommProtocol } from './protocol.js';
import { CommStore, type HistoryEntry } from './store.js';

/** A message after a gap in the sender's order waits this long for the missing ones. */
const GAP_WAIT_MS = 3000;
/** A peer that could not be dialled is not tried directly again for this long. */
const UNREACHABLE_MS = 10_000;
const SWEEP_MS = 60_000;

export interface CommTarget {
  address: string;
  publicKey: Uint8Array;
  /** X25519 key to seal to (the name's encryption key, else the Montgomery form of its Ed25519 key). */
  sealTo: Uint8Array;
  name: string | null;
  /** Multiaddrs from the name's endpoint records (dial hints). */
  hints: string[];
}

/** What the node knows from the chain: names, and the public keys of addresses. */
export interface CommDirectory {
  /** An active name's owner key and records, or undefined. */
  resolveName(name: string): Promise<
    | {
        name: string;
        address: string;
        publicKey: Uint8Array;
        encryptionKey: Uint8Array | null;
        endpoints: string[];
      }
    | undefined
  >;
  /** The Ed25519 key of an address when known (validators, providers, its name, connected peers). */
  keyOf(address: string): Promise<Uint8Array | undefined>;
  /** This node's name (its forward-confirmed reverse record), or undefined. */
  ownName(): Promise<string | undefined>;
}

export interface CommMetrics {
  received(via: 'direct' | 'mailbox'): void;
  sent(via: 'direct' | 'mailbox'): void;
  rejected(code: string): void;
  held(count: number): void;
}

export interface CommConfig {
  holders: number;
  quotaMessages: number;
  quotaBytes: number;
  collectIntervalMs: number;
  directTimeoutMs: number;
}

export const DEFAULT_COMM_CONFIG: CommConfig = {
  holders: MAILBOX_HOLDERS,
  quotaMessages: BASE_QUOTA_MESSAGES,
  quotaBytes: BASE_QUOTA_BYTES,
  collectIntervalMs: 15_000,
  directTimeoutMs: 5000,
};

export interface CommServiceOptions {
  chainId: string;
  key: PrivateKey;
  host: VosHost | undefined;
  dir: string;
  directory: CommDirectory;
  config?: Partial<CommConfig>;
  /** The local store: attachments are encrypted into it and fetched into it. */
  content?: LocalStore;
  /** Brings a CID stored elsewhere into the local store (storage network). */
  fetchContent?(cid: CID): Promise<void>;
  /** Announces a CID this node provides. */
  announce?(cid: CID): void;
  penalise(peer: PeerId, err: unknown): void;
  /** A depositor's mailbox quota from the chain (the control module's); the config's base without. */
  quotaOf?(address: string): Promise<{ messages: number; bytes: number }>;
  metrics?: CommMetrics;
  logger: Logger;
}

export type CommEvent =
  | ({ type: 'message' } & HistoryEntry)
  | { type: 'receipt'; id: string; peer: string; peerName: string | null; deliveredAt: number };

export interface SendOptions {
  ttlMs?: number;
  /** Local objects (CIDs in this node's store) to attach: encrypted and sealed into the message. */
  attachments?: { cid: string; name?: string; mime?: string }[];
}

export interface SendResult {
  id: string;
  to: string;
  address: string;
  seq: number;
  status: 'delivered' | 'held';
  via: 'direct' | 'mailbox';
  holders: number;
}

interface Opened {
  envelope: Envelope;
  inner: Inner;
  sender: string;
  senderName: string | null;
  /** The decoded body: a message's text and attachments, or the ids a receipt acknowledges. */
  body:
    | { kind: 'message'; text: string; attachments: HistoryEntry['attachments'] }
    | { kind: 'receipt'; ids: Uint8Array[] };
}

/** Refuses an envelope that has expired or claims to live longer than any message may. */
function checkLifetime(e: Envelope, now: number): void {
  if (e.expiresAt <= now) throw new CommError({ code: 'COMM_EXPIRED' }, 'the message has expired');
  if (e.expiresAt > now + MAX_TTL_MS + CLOCK_SKEW_MS)
    throw new CommError({ code: 'COMM_BAD_TTL' }, `the message would live over ${MAX_TTL_MS} ms`);
}

interface Pending {
  o: Opened;
  via: 'direct' | 'mailbox';
  resolve(): void;
  reject(err: unknown): void;
}

type Deferred = { promise: Promise<void>; resolve(): void; reject(err: unknown): void };
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const kadKey = (peer: PeerId) => createHash('sha256').update(peer.toMultihash().bytes).digest();

function xorCompare(target: Buffer, a: Buffer, b: Buffer): number {
  for (let i = 0; i < target.length; i++) {
    const x = a[i] ^ target[i];
    const y = b[i] ^ target[i];
    if (x !== y) return x - y;
  }
  return 0;
}

export class CommService {
  store!: CommStore;
  readonly protocol: CommProtocol | undefined;
  readonly config: CommConfig;
  readonly #o: CommServiceOptions;
  readonly #me: string;
  /** This node's X25519 keys (computed once: every envelope is opened with them). */
  readonly #keys: X25519Keys;
  readonly #listeners = new Set<(e: CommEvent) => void>();
  readonly #streamHandlers = new Map<
    string,
    (s: Stream, from: { peer: PeerId; address: string; name: string | null }) => void
  >();
  readonly #unreachable = new Map<string, number>();
  /** Mailbox holders found per recipient (a DHT query is seconds when the recipient is down). */
  readonly #holderCache = new Map<string, { peers: PeerId[]; until: number }>();
  /** Per sender (key hex): highest seq delivered, and what waits behind a gap. */
  readonly #order = new Map<
    string,
    { last: number; pending: Map<number, Pending>; timer: NodeJS.Timeout | null }
  >();
  readonly #pendingIds = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #collecting: Promise<number> | null = null;
  #collectAgain = false;
  #collectTimer: NodeJS.Timeout | null = null;
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #ownName: { name: string | undefined; at: number } | undefined;

  constructor(o: CommServiceOptions) {
    this.#o = o;
    this.#me = o.key.address.toString();
    this.#keys = x25519KeysOf(o.key.exportSeed());
    this.config = { ...DEFAULT_COMM_CONFIG, ...o.config };
    this.protocol =
      o.host === undefined
        ? undefined
        : new CommProtocol(o.host, o.chainId, {
            deliver: (bytes) => this.#receive(bytes, 'direct'),
            deposit: (bytes, peer) => this.#deposit(bytes, peer),
            collect: async (peer) => {
              const a = addressOfPeer(peer);
              if (a === undefined) return [];
              return (await this.store.held(a, MAX_COLLECT)).map((h) => h.bytes);
            },
            ack: async (ids, peer) => {
              const a = addressOfPeer(peer);
              if (a !== undefined && (await this.store.drop(a, ids)) > 0)
                o.metrics?.held(this.store.heldMessages);
            },
            stream: (topic, name, peer) => this.#acceptStream(topic, name, peer),
            penalise: o.penalise,
            logger: o.logger,
          });
  }

  get address(): string {
    return this.#me;
  }

  /** The X25519 key messages to this node are sealed to (a name's encryptionKey record should be it). */
  get encryptionKey(): Uint8Array {
    return this.#keys.publicKey;
  }

  async open(): Promise<void> {
    this.store = await CommStore.open(this.#o.dir);
    this.#o.metrics?.held(this.store.heldMessages);
  }

  async start(): Promise<void> {
    await this.protocol?.start();
    const host = this.#o.host;
    if (host === undefined) return;
    // Whenever a peer is identified, what it holds for this node may be collected.
    host.addEventListener('peer:identify', this.#onIdentify);
    this.#timers.push(
      setInterval(() => this.collectSoon(0), this.config.collectIntervalMs),
      setInterval(() => void this.#sweep(), SWEEP_MS),
    );
    for (const t of this.#timers) t.unref();
    this.collectSoon(500);
  }

  readonly #onIdentify = () => this.collectSoon(1000);

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.host?.removeEventListener('peer:identify', this.#onIdentify);
    for (const t of this.#timers) clearInterval(t);
    if (this.#collectTimer !== null) clearTimeout(this.#collectTimer);
    for (const st of this.#order.values()) if (st.timer !== null) clearTimeout(st.timer);
    await this.protocol?.stop();
    await this.#collecting?.catch(() => undefined);
    await this.#queue.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  onEvent(f: (e: CommEvent) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  #emit(e: CommEvent): void {
    for (const f of this.#listeners) {
      try {
        f(e);
      } catch (err) {
        this.#o.logger.warn({ err: String((err as Error)?.message ?? err) }, 'comm listener failed');
      }
    }
  }

  // ---- targets ----

  async #ownNameCached(): Promise<string> {
    const now = Date.now();
    if (this.#ownName === undefined || now - this.#ownName.at > 10_000)
      this.#ownName = { name: await this.#o.directory.ownName().catch(() => undefined), at: now };
    return this.#ownName.name ?? '';
  }

  /** A name or an address -> its keys and dial hints. Throws COMM_UNKNOWN_RECIPIENT. */
  async resolveTarget(to: string): Promise<CommTarget> {
    if (Address.isValid(to)) {
      const key = await this.#o.directory.keyOf(to);
      if (key === undefined)
        throw new CommError(
          { code: 'COMM_UNKNOWN_RECIPIENT' },
          `no public key is known for ${to} (no name, validator or provider record, not a connected peer): send to its name`,
        );
      return { address: to, publicKey: key, sealTo: x25519PublicOf(key), name: null, hints: [] };
    }
    const r = await this.#o.directory.resolveName(to);
    if (r === undefined)
      throw new CommError(
        { code: 'COMM_UNKNOWN_RECIPIENT' },
        `the name ${to} is not registered (or has expired)`,
      );
    return {
      address: r.address,
      publicKey: r.publicKey,
      sealTo: r.encryptionKey ?? x25519PublicOf(r.publicKey),
      name: r.name,
      hints: r.endpoints,
    };
  }

  #requireNetwork(): { host: VosHost; protocol: CommProtocol } {
    if (this.#o.host === undefined || this.protocol === undefined)
      throw new CommError({ code: 'COMM_NO_NETWORK' }, 'this node has no P2P network');
    return { host: this.#o.host, protocol: this.protocol };
  }

  /** Makes sure libp2p can dial `peer`: dial hints into the peer store, else DHT peer routing. */
  async #locate(peer: PeerId, hints: string[]): Promise<void> {
    const { host } = this.#requireNetwork();
    if (host.getConnections(peer).some((c) => c.status === 'open')) return;
    const addrs = hints.flatMap((h) => {
      try {
        const m = multiaddr(h);
        return [m.getComponents().some((c) => c.name === 'p2p') ? m : m.encapsulate(`/p2p/${peer}`)];
      } catch {
        return [];
      }
    });
    if (addrs.length > 0) await host.peerStore.merge(peer, { multiaddrs: addrs }).catch(() => undefined);
    const known = await host.peerStore.get(peer).catch(() => undefined);
    if (known !== undefined && known.addresses.length > 0) return;
    try {
      await host.peerRouting.findPeer(peer, {
        signal: AbortSignal.timeout(Math.min(3000, this.config.directTimeoutMs)),
      });
    } catch {
      // not found in time: the dial fails and the message goes to the mailbox
    }
  }

  // ---- sending ----

  async send(to: string, text: string, opts: SendOptions = {}): Promise<SendResult> {
    const { protocol } = this.#requireNetwork();
    const target = await this.resolveTarget(to);
    if (target.address === this.#me)
      throw new CommError({ code: 'COMM_UNKNOWN_RECIPIENT' }, 'that is this node itself');
    const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TTL_MS)
      throw new CommError({ code: 'COMM_BAD_TTL' }, `ttl must be 1..${MAX_TTL_MS} ms`);
    const attachments = await this.#sealAttachments(opts.attachments ?? []);
    const body = encodeMessageBody({ text, attachments });
    const now = Date.now();
    const seq = await this.store.nextSeq(Address.fromString(target.address));
    const { envelope, bytes } = sealEnvelope({
      chainId: this.#o.chainId,
      sender: this.#o.key,
      senderName: await this.#ownNameCached(),
      recipient: Address.fromString(target.address),
      recipientX25519: target.sealTo,
      kind: Kind.Message,
      seq,
      sentAt: now,
      expiresAt: now + ttl,
      body,
    });
    const id = toHex(envelope.id);
    const entry: HistoryEntry = {
      id,
      direction: 'out',
      peer: target.address,
      peerName: target.name,
      kind: 'message',
      text,
      attachments: attachments.map(attachmentJSON),
      seq,
      sentAt: now,
      at: now,
      expiresAt: envelope.expiresAt,
      status: 'sending',
    };
    await this.store.addHistory(entry);
    const peer = peerIdOfPublicKey(target.publicKey);
    const result = { id, to, address: target.address, seq };
    if (await this.#tryDirect(protocol, peer, target.hints, bytes)) {
      const deliveredAt = Date.now();
      await this.store.updateHistory(envelope.id, (e) => {
        e.status = 'delivered';
        e.deliveredAt = deliveredAt;
        e.via = 'direct';
      });
      this.#o.metrics?.sent('direct');
      this.#emit({ type: 'receipt', id, peer: target.address, peerName: target.name, deliveredAt });
      return { ...result, status: 'delivered', via: 'direct', holders: 0 };
    }
    const holders = await this.#depositAtHolders(peer, bytes);
    await this.store.updateHistory(envelope.id, (e) => {
      e.status = holders > 0 ? 'held' : 'failed';
      e.holders = holders;
      e.via = 'mailbox';
    });
    if (holders === 0)
      throw new CommError(
        { code: 'COMM_UNREACHABLE' },
        `${to} is unreachable and no mailbox holder took the message`,
      );
    this.#o.metrics?.sent('mailbox');
    return { ...result, status: 'held', via: 'mailbox', holders };
  }

  /** True when the recipient took it; a refusal by the recipient (bad message, ...) is thrown. */
  async #tryDirect(
    protocol: CommProtocol,
    peer: PeerId,
    hints: string[],
    bytes: Uint8Array,
  ): Promise<boolean> {
    const key = peer.toString();
    if ((this.#unreachable.get(key) ?? 0) > Date.now()) return false;
    try {
      await this.#locate(peer, hints);
      await protocol.deliver(peer, bytes, this.config.directTimeoutMs + 5000);
      this.#unreachable.delete(key);
      return true;
    } catch (err) {
      const code = err instanceof VosError ? String(err.code) : '';
      if (code.startsWith('COMM_') && code !== 'COMM_UNREACHABLE') throw err;
      this.#unreachable.set(key, Date.now() + UNREACHABLE_MS);
      this.#o.logger.debug(
        { peer: key, err: String((err as Error)?.message ?? err) },
        'direct delivery failed',
      );
      return false;
    }
  }

  /** Peers closest to `target` in the DHT keyspace (a bounded query plus the connected peers). */
  async #closest(target: PeerId, count: number): Promise<PeerId[]> {
    const { host } = this.#requireNetwork();
    const found = new Map<string, PeerId>();
    try {
      for await (const p of host.peerRouting.getClosestPeers(target.toMultihash().bytes, {
        signal: AbortSignal.timeout(2000),
      })) {
        found.set(p.id.toString(), p.id);
        if (found.size >= count * 2) break;
      }
    } catch {
      // the query ran out of time: what was found, and the connected peers
    }
    for (const p of host.getPeers()) found.set(p.toString(), p);
    found.delete(target.toString());
    found.delete(host.peerId.toString());
    const t = kadKey(target);
    const keyed = [...found.values()].map((p) => ({ p, k: kadKey(p) }));
    keyed.sort((a, b) => xorCompare(t, a.k, b.k));
    return keyed.map((x) => x.p);
  }

  /** Deposits at the k closest peers that take it (and here, when fewer did). Returns how many hold it. */
  async #depositAtHolders(recipient: PeerId, bytes: Uint8Array): Promise<number> {
    const { protocol } = this.#requireNetwork();
    const k = this.config.holders;
    let held = 0;
    let lastErr: unknown;
    const cached = this.#holderCache.get(recipient.toString());
    const candidates =
      cached !== undefined && cached.until > Date.now() ? cached.peers : await this.#closest(recipient, k);
    const took: PeerId[] = [];
    for (const p of candidates) {
      if (held >= k) break;
      try {
        await protocol.deposit(p, bytes, 8000);
        held++;
        took.push(p);
      } catch (err) {
        lastErr = err;
        if (err instanceof CommError && err.code === 'COMM_QUOTA' && held === 0) {
          // A holder refusing for quota: the others would too (same base quota).
          throw err;
        }
      }
    }
    if (took.length > 0)
      this.#holderCache.set(recipient.toString(), { peers: took, until: Date.now() + 60_000 });
    else this.#holderCache.delete(recipient.toString());
    if (held < k) {
      try {
        await this.#deposit(bytes, undefined);
        held++;
      } catch (err) {
        lastErr = err;
      }
    }
    if (held === 0 && lastErr instanceof CommError && lastErr.code === 'COMM_QUOTA') throw lastErr;
    return held;
  }

  async #sealAttachments(list: NonNullable<SendOptions['attachments']>): Promise<Attachment[]> {
    if (list.length === 0) return [];
    const content = this.#o.content;
    if (content === undefined)
      throw new CommError({ code: 'COMM_ATTACHMENT' }, 'this node has no local store');
    const out: Attachment[] = [];
    for (const a of list) {
      let cid: CID;
      try {
        cid = CID.parse(a.cid);
      } catch {
        throw new CommError({ code: 'COMM_ATTACHMENT' }, `attachment ${a.cid} is not a CID`);
      }
      const stat = await content.stat(cid).catch(() => undefined);
      if (stat === undefined)
        throw new CommError({ code: 'COMM_ATTACHMENT' }, `attachment ${a.cid} is not in this node's store`);
      if (stat.size > MAX_ATTACHMENT_BYTES)
        throw new CommError(
          { code: 'COMM_ATTACHMENT' },
          `attachment ${a.cid} is over ${MAX_ATTACHMENT_BYTES} bytes`,
        );
      const parts: Uint8Array[] = [];
      for await (const c of content.get(cid)) parts.push(c);
      const key = newObjectKey();
      const sealed = encryptObject(Buffer.concat(parts), key);
      const put = await content.putBytes(sealed);
      this.#o.announce?.(put.cid);
      out.push({ cid: put.cid.bytes, key, name: a.name ?? '', mime: a.mime ?? '', size: stat.size });
    }
    return out;
  }

  // ---- mailbox (holding for others) ----

  /** The config's base quota, raised by the control module's contribution term. */
  async #quotaOf(depositor: string): Promise<{ messages: number; bytes: number }> {
    const base = { messages: this.config.quotaMessages, bytes: this.config.quotaBytes };
    const q = await this.#o.quotaOf?.(depositor);
    if (q === undefined) return base;
    return { messages: Math.max(base.messages, q.messages), bytes: Math.max(base.bytes, q.bytes) };
  }

  /** `peer` undefined: this node deposits for itself as a holder. */
  async #deposit(bytes: Uint8Array, peer: PeerId | undefined): Promise<void> {
    const depositor = peer === undefined ? this.#me : addressOfPeer(peer);
    if (depositor === undefined) throw new CommError({ code: 'COMM_MALFORMED' }, 'depositor has no address');
    try {
      const e = decodeEnvelope(bytes);
      const now = Date.now();
      checkLifetime(e, now);
      if (e.recipient.toString() === depositor)
        throw new CommError({ code: 'COMM_MALFORMED' }, 'a node does not deposit for itself');
      const u = this.store.usage.get(depositor) ?? { messages: 0, bytes: 0 };
      const q = await this.#quotaOf(depositor);
      if (u.messages + 1 > q.messages || u.bytes + bytes.length > q.bytes)
        throw new CommError(
          { code: 'COMM_QUOTA' },
          `the sender holds ${u.messages} messages / ${u.bytes} bytes here, its quota is ` +
            `${q.messages} / ${q.bytes}`,
        );
      await this.store.hold(
        { id: e.id, recipient: e.recipient.toString(), depositor, bytes },
        e.expiresAt,
        now,
      );
      this.#o.metrics?.held(this.store.heldMessages);
    } catch (err) {
      if (err instanceof VosError) this.#o.metrics?.rejected(String(err.code));
      throw err;
    }
  }

  async #sweep(): Promise<void> {
    if (this.#stopped) return;
    try {
      const n = await this.store.sweep(Date.now());
      if (n > 0) {
        this.#o.metrics?.held(this.store.heldMessages);
        this.#o.logger.debug({ expired: n }, 'mailbox: dropped expired messages');
      }
    } catch (err) {
      this.#o.logger.warn({ err: String((err as Error)?.message ?? err) }, 'mailbox sweep failed');
    }
  }

  // ---- receiving ----

  /** The name `name` (normalized) when its on-chain key is `key`; else COMM_NOT_NAME_OWNER. */
  async #confirmName(name: string, key: Uint8Array, who: string): Promise<string> {
    const r = await this.#o.directory.resolveName(name).catch(() => undefined);
    if (r === undefined || !equalBytes(r.publicKey, key))
      throw new CommError(
        { code: 'COMM_NOT_NAME_OWNER' },
        `${who} claims the name ${name}, whose on-chain key is ${
          r === undefined ? 'none (not registered)' : toHex(r.publicKey)
        }`,
        { peerAction: PeerAction.Reject },
      );
    return r.name;
  }

  /** Checks, opens and decodes an envelope addressed here; throws CommError on anything wrong. */
  async #open(bytes: Uint8Array): Promise<Opened> {
    const e = decodeEnvelope(bytes);
    if (e.recipient.toString() !== this.#me)
      throw new CommError({ code: 'COMM_NOT_FOR_ME' }, `the message is for ${e.recipient}`, {
        peerAction: PeerAction.Reject,
      });
    checkLifetime(e, Date.now());
    if (this.#pendingIds.has(toHex(e.id)) || (await this.store.seen(e.id)))
      throw new CommError({ code: 'COMM_REPLAY' }, `message ${toHex(e.id)} was already received`);
    const inner = openEnvelope(this.#o.chainId, e, this.#keys);
    const sender = addressFromPublicKey(inner.senderKey).toString();
    const senderName =
      inner.senderName === ''
        ? null
        : await this.#confirmName(inner.senderName, inner.senderKey, `the sender ${sender}`);
    let body: Opened['body'];
    try {
      if (inner.kind === Kind.Receipt) body = { kind: 'receipt', ids: decodeReceiptBody(inner.body) };
      else {
        const m = decodeMessageBody(inner.body);
        body = { kind: 'message', text: m.text, attachments: m.attachments.map(attachmentJSON) };
      }
    } catch (err) {
      throw new CommError({ code: 'COMM_MALFORMED' }, `malformed body: ${(err as Error).message}`, {
        peerAction: PeerAction.Reject,
      });
    }
    return { envelope: e, inner, sender, senderName, body };
  }

  async #receive(bytes: Uint8Array, via: 'direct' | 'mailbox'): Promise<void> {
    let o: Opened;
    try {
      o = await this.#open(bytes);
    } catch (err) {
      if (err instanceof VosError) this.#o.metrics?.rejected(String(err.code));
      throw err;
    }
    if (o.body.kind === 'receipt') await this.#onReceipt(o, o.body.ids);
    else await this.#ordered(o, via);
  }

  /** Delivers in the sender's order: a message after a gap waits (bounded) for the ones before it. */
  #ordered(o: Opened, via: 'direct' | 'mailbox'): Promise<void> {
    const d = deferred();
    const idHex = toHex(o.envelope.id);
    this.#pendingIds.add(idHex);
    this.#queue = this.#queue.then(async () => {
      const key = toHex(o.inner.senderKey);
      let st = this.#order.get(key);
      if (st === undefined) {
        st = { last: await this.store.lastSeq(o.inner.senderKey), pending: new Map(), timer: null };
        this.#order.set(key, st);
      }
      const seq = o.inner.seq;
      if (seq > st.last + 1 && !st.pending.has(seq)) {
        st.pending.set(seq, { o, via, resolve: d.resolve, reject: d.reject });
        if (st.timer === null) {
          const s = st;
          s.timer = setTimeout(() => {
            s.timer = null;
            this.#queue = this.#queue.then(() => this.#flush(s, true));
          }, GAP_WAIT_MS);
        }
        this.collectSoon(0);
        return;
      }
      try {
        await this.#deliver(o, via, st.last);
        if (seq > st.last) st.last = seq;
        d.resolve();
      } catch (err) {
        d.reject(err);
      }
      await this.#flush(st, false);
    });
    return d.promise.finally(() => this.#pendingIds.delete(idHex));
  }

  /** Delivers what waits: the consecutive ones, or (after the wait) all of them in seq order. */
  async #flush(
    st: { last: number; pending: Map<number, Pending>; timer: NodeJS.Timeout | null },
    all: boolean,
  ) {
    const seqs = [...st.pending.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      if (!all && seq !== st.last + 1) break;
      const p = st.pending.get(seq) as Pending;
      st.pending.delete(seq);
      try {
        await this.#deliver(p.o, p.via, st.last);
        if (seq > st.last) st.last = seq;
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
    if (st.pending.size === 0 && st.timer !== null) {
      clearTimeout(st.timer);
      st.timer = null;
    }
  }

  /** Records and announces a message; `last` is the sender's highest seq delivered so far. */
  async #deliver(o: Opened, via: 'direct' | 'mailbox', last: number): Promise<void> {
    // A second copy may have passed #open while the first waited in the queue.
    if (o.body.kind !== 'message' || (await this.store.seen(o.envelope.id))) return;
    const at = Date.now();
    const entry: HistoryEntry = {
      id: toHex(o.envelope.id),
      direction: 'in',
      peer: o.sender,
      peerName: o.senderName,
      kind: 'message',
      text: o.body.text,
      attachments: o.body.attachments,
      seq: o.inner.seq,
      sentAt: o.inner.sentAt,
      at,
      expiresAt: o.envelope.expiresAt,
      status: 'delivered',
      deliveredAt: at,
      via,
    };
    const advance = o.inner.seq > last ? { senderKey: o.inner.senderKey, seq: o.inner.seq } : undefined;
    await this.store.recordDelivered(o.envelope.id, o.envelope.expiresAt, entry, advance);
    this.#o.metrics?.received(via);
    this.#emit({ type: 'message', ...entry });
  }

  async #onReceipt(o: Opened, ids: Uint8Array[]): Promise<void> {
    await this.store.markSeen(o.envelope.id, o.envelope.expiresAt);
    const deliveredAt = o.inner.sentAt;
    for (const id of ids) {
      const e = await this.store.updateHistory(id, (h) => {
        // Only the recipient of a message can acknowledge it.
        if (h.direction === 'out' && h.peer === o.sender && h.status !== 'delivered') {
          h.status = 'delivered';
          h.deliveredAt = deliveredAt;
        }
      });
      if (e !== undefined && e.direction === 'out' && e.peer === o.sender)
        this.#emit({ type: 'receipt', id: e.id, peer: e.peer, peerName: e.peerName, deliveredAt });
    }
  }

  /** Receipts for messages delivered from a mailbox, to their sender (directly, else its mailbox). */
  async #sendReceipt(senderKey: Uint8Array, ids: Uint8Array[]): Promise<void> {
    const { protocol } = this.#requireNetwork();
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const now = Date.now();
      const { bytes } = sealEnvelope({
        chainId: this.#o.chainId,
        sender: this.#o.key,
        senderName: '',
        recipient: addressFromPublicKey(senderKey),
        recipientX25519: x25519PublicOf(senderKey),
        kind: Kind.Receipt,
        seq: 0,
        sentAt: now,
        expiresAt: now + DEFAULT_TTL_MS,
        body: encodeReceiptBody(ids.slice(i, i + MAX_RECEIPT_IDS)),
      });
      const peer = peerIdOfPublicKey(senderKey);
      if (!(await this.#tryDirect(protocol, peer, [], bytes).catch(() => false)))
        await this.#depositAtHolders(peer, bytes).catch(() => 0);
    }
  }

  // ---- collecting from mailbox holders ----

  /** Collects soon (debounced); collections never overlap. */
  collectSoon(delayMs: number): void {
    if (this.#stopped || this.#o.host === undefined) return;
    if (this.#collectTimer !== null) return;
    this.#collectTimer = setTimeout(() => {
      this.#collectTimer = null;
      void this.collect().catch((err) =>
        this.#o.logger.debug({ err: String((err as Error)?.message ?? err) }, 'mailbox collection failed'),
      );
    }, delayMs);
    this.#collectTimer.unref();
  }

  /** Collects from the nodes that may hold messages for this node; returns how many were delivered. */
  async collect(): Promise<number> {
    if (this.#collecting !== null) {
      this.#collectAgain = true;
      return this.#collecting;
    }
    this.#collecting = this.#collectOnce().finally(() => {
      this.#collecting = null;
      if (this.#collectAgain && !this.#stopped) {
        this.#collectAgain = false;
        this.collectSoon(0);
      }
    });
    return this.#collecting;
  }

  async #collectOnce(): Promise<number> {
    const { host, protocol } = this.#requireNetwork();
    const holders = (await this.#closest(host.peerId, this.config.holders)).slice(0, 16);
    const got = await Promise.all(
      holders.map(async (p) => ({ p, list: await protocol.collect(p).catch(() => [] as Uint8Array[]) })),
    );
    // One copy of each id, opened; then in each sender's order.
    const byId = new Map<string, { bytes: Uint8Array; holders: PeerId[] }>();
    for (const { p, list } of got)
      for (const bytes of list) {
        let id: string;
        try {
          id = toHex(decodeEnvelope(bytes).id);
        } catch (err) {
          this.#o.penalise(p, err);
          continue;
        }
        const seen = byId.get(id);
        if (seen === undefined) byId.set(id, { bytes, holders: [p] });
        else seen.holders.push(p);
      }
    if (byId.size === 0) return 0;
    const opened: { o: Opened; holders: PeerId[] }[] = [];
    const done = new Map<string, Uint8Array[]>();
    const drop = (holders: PeerId[], id: Uint8Array) => {
      for (const h of holders) {
        const k = h.toString();
        done.set(k, [...(done.get(k) ?? []), id]);
      }
    };
    for (const [idHex, { bytes, holders: hs }] of byId) {
      try {
        opened.push({ o: await this.#open(bytes), holders: hs });
      } catch (err) {
        const code = err instanceof VosError ? String(err.code) : '';
        if (code !== 'COMM_REPLAY') {
          this.#o.metrics?.rejected(code || 'COMM_MALFORMED');
          this.#o.logger.debug({ id: idHex, code }, 'mailbox message refused');
        }
        // Delivered before, expired, or not openable: the holders drop it either way.
        drop(hs, Buffer.from(idHex.slice(2), 'hex'));
      }
    }
    opened.sort((a, b) => {
      const k = Buffer.compare(Buffer.from(a.o.inner.senderKey), Buffer.from(b.o.inner.senderKey));
      return k !== 0 ? k : a.o.inner.seq - b.o.inner.seq;
    });
    let delivered = 0;
    const receipts = new Map<string, { key: Uint8Array; ids: Uint8Array[] }>();
    await Promise.all(
      opened.map(async ({ o, holders: hs }) => {
        try {
          if (o.body.kind === 'receipt') await this.#onReceipt(o, o.body.ids);
          else {
            await this.#ordered(o, 'mailbox');
            delivered++;
            const k = toHex(o.inner.senderKey);
            const r = receipts.get(k) ?? { key: o.inner.senderKey, ids: [] };
            r.ids.push(o.envelope.id);
            receipts.set(k, r);
          }
        } catch (err) {
          this.#o.logger.debug(
            { err: String((err as Error)?.message ?? err) },
            'mailbox message not delivered',
          );
        }
        drop(hs, o.envelope.id);
      }),
    );
    await Promise.all(
      [...done].map(([k, ids]) => {
        const p = holders.find((h) => h.toString() === k);
        return p === undefined ? undefined : protocol.ack(p, ids).catch(() => undefined);
      }),
    );
    for (const r of receipts.values()) void this.#sendReceipt(r.key, r.ids).catch(() => undefined);
    if (delivered > 0) this.#o.logger.info({ delivered }, 'mailbox: messages collected');
    return delivered;
  }

  // ---- history and attachments ----

  async history(o: { peer?: string; limit?: number; before?: number }): Promise<HistoryEntry[]> {
    let peer = o.peer;
    if (peer !== undefined && !Address.isValid(peer)) peer = (await this.resolveTarget(peer)).address;
    return this.store.history({ peer, limit: Math.min(o.limit ?? 50, 1000), before: o.before });
  }

  /**
   * An attachment of a received (or sent) message, decrypted into the local store: fetched from the
   * nodes that provide its ciphertext. Returns the plaintext's local CID.
   */
  async attachment(
    messageId: string,
    index: number,
  ): Promise<{ cid: string; size: number; name: string; mime: string }> {
    const content = this.#o.content;
    if (content === undefined)
      throw new CommError({ code: 'COMM_ATTACHMENT' }, 'this node has no local store');
    const idBytes = Buffer.from(messageId.replace(/^0x/, ''), 'hex');
    if (idBytes.length !== 16)
      throw new CommError({ code: 'COMM_ATTACHMENT' }, 'a message id is 16 bytes of hex');
    const e = await this.store.getHistory(idBytes);
    const a = e?.attachments[index];
    if (e === undefined || a === undefined)
      throw new CommError({ code: 'COMM_ATTACHMENT' }, `no attachment ${index} of message ${messageId} here`);
    const cid = CID.parse(a.cid);
    if (!(await content.blocks.has(cid))) {
      if (this.#o.fetchContent === undefined)
        throw new CommError({ code: 'COMM_NO_NETWORK' }, 'no storage network');
      await this.#o.fetchContent(cid);
    }
    const parts: Uint8Array[] = [];
    for await (const c of content.get(cid)) parts.push(c);
    let plain: Buffer;
    try {
      plain = decryptObject(Buffer.concat(parts), Buffer.from(a.key.slice(2), 'hex'));
    } catch (err) {
      throw new CommError(
        { code: 'COMM_ATTACHMENT' },
        `attachment ${index} does not decrypt: ${(err as Error).message}`,
      );
    }
    const put = await content.putBytes(plain);
    return { cid: put.cid.toString(), size: put.size, name: a.name, mime: a.mime };
  }

  // ---- streams ----

  /** Accepts streams for `topic` (an app's protocol over comm). */
  handleStream(
    topic: string,
    handler: (s: Stream, from: { peer: PeerId; address: string; name: string | null }) => void,
  ): () => void {
    this.#streamHandlers.set(topic, handler);
    return () => this.#streamHandlers.delete(topic);
  }

  async #acceptStream(topic: string, name: string, peer: PeerId) {
    const handler = this.#streamHandlers.get(topic);
    if (handler === undefined)
      throw new CommError({ code: 'COMM_NO_HANDLER' }, `no stream handler for ${topic}`);
    const address = addressOfPeer(peer);
    if (address === undefined) throw new CommError({ code: 'COMM_MALFORMED' }, 'the peer has no Ed25519 key');
    let confirmed: string | null = null;
    if (name !== '') {
      try {
        confirmed = await this.#confirmName(name, peer.publicKey?.raw ?? new Uint8Array(0), 'the peer');
      } catch (err) {
        this.#o.metrics?.rejected('COMM_NOT_NAME_OWNER');
        throw err;
      }
    }
    return (s: Stream, p: PeerId) => handler(s, { peer: p, address, name: confirmed });
  }

  /** A full-duplex byte stream to a node (by name or address) for `topic`, authenticated both ways. */
  async openStream(to: string, topic: string): Promise<Stream> {
    const { protocol } = this.#requireNetwork();
    const target = await this.resolveTarget(to);
    const peer = peerIdOfPublicKey(target.publicKey);
    await this.#locate(peer, target.hints);
    return protocol.openStream(peer, topic, await this.#ownNameCached(), this.config.directTimeoutMs + 5000);
  }
}

function attachmentJSON(a: Attachment) {
  return { cid: CID.decode(a.cid).toString(), key: toHex(a.key), name: a.name, mime: a.mime, size: a.size };
}
