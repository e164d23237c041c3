/**
 * Distributed storage on a node (the off-chain part): the view of `prov/` from committed state, the
 * storage protocol's server side, and the work each block brings: register as a provider, prove held
 * shards when an audit epoch begins, record faults of the epoch just closed, repair failed shards, and
 * drop shards nobody placed. Puts and gets for the node's own key (RPC storage_put/storage_get).
 */

import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { exporter } from 'ipfs-unixfs-exporter';
import { CID } from 'multiformats/cid';
import { Address } from '../../chain/address.js';
import type { PrivateKey } from '../../chain/keys.js';
import type { StorageParams } from '../../chain/ledger/params.js';
import type { TxPayload } from '../../chain/tx/kinds.js';
import { peerIdOfPublicKey, type VosHost } from '../../p2p/host.js';
import { hasPrefix, toHex } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { StorageError } from './blockstore.js';
import {
  type EncodedObject,
  encodeToShards,
  geometry,
  plainObject,
  rebuildShard,
  type ShardSink,
} from './distributed.js';
import { MAX_PROOFS_PER_TX, MAX_SHARDS } from './limits.js';
import type { LocalStore } from './local.js';
import { segmentCount, verifySegment } from './merkle.js';
import { chooseProviders, rendezvousOrder } from './placement.js';
import { Op, StorageProtocol } from './protocol.js';
import {
  AUDIT_KEY,
  type AuditEpoch,
  challengeIndex,
  decodeAudit,
  decodePlacement,
  decodeProvider,
  holdMessage,
  objectId,
  type Placement,
  PROV_NODE_PREFIX,
  PROV_OBJ_PREFIX,
  PROV_USE_PREFIX,
  type ProviderRecord,
  ShardStatus,
} from './prov.js';
import { openKey, sealKey } from './seal.js';
import type { ShardStore } from './shards.js';
import { type SegmentProof, storagePayload } from './state.js';

/** A shard nobody placed is dropped after this long (a put that failed or was abandoned). */
const PENDING_TTL_MS = 10 * 60_000;
/** Blocks before a repair of the same shard is tried again. */
const REPAIR_RETRY_BLOCKS = 5;
/** Bytes of proofs per tx (below the 64 KiB tx limit). */
const PROOF_TX_BYTES = 48 * 1024;

export type StorageNetErrorCode =
  | 'NOT_ENOUGH_PROVIDERS'
  | 'QUOTA_EXCEEDED'
  | 'OBJECT_NOT_FOUND'
  | 'NOT_OWNER'
  | 'INVALID_PARAMS'
  | 'NO_NETWORK';
export class StorageNetError extends VosError<{ code: StorageNetErrorCode }> {}

export interface StorageNetOptions {
  chainId: string;
  key: PrivateKey;
  params: StorageParams;
  host: VosHost | undefined;
  /** This node's shard store (a provider), else undefined. */
  shards: ShardStore | undefined;
  capacity: number;
  /** The local content store: its blocks are served to nodes fetching published content. */
  content?: LocalStore;
  send(
    payload: TxPayload,
    opts?: { commit?: boolean },
  ): Promise<{ hash: Uint8Array; committed?: { height: number } }>;
  penalise(peer: PeerId, err: unknown): void;
  /** A peer served this node verified bytes (shards, content blocks): the control module's receipts. */
  served?(peer: PeerId, bytes: number): void;
  /** A served-bytes receipt from a peer this node served; why it is refused, or null. */
  receipt?(peer: PeerId, epoch: number, bytes: number, signature: Uint8Array): Promise<string | null>;
  /** An owner's storage quota in the committed state (the control module's); the base quota without. */
  quotaOf?: (owner: Address) => Promise<number>;
  /** Audit outcomes for metrics: this node as holder (proved, unprovable) or watcher (fault filed). */
  audited?(role: 'holder' | 'watcher', result: 'proved' | 'unprovable' | 'fault'): void;
  logger: Logger;
}

export interface PutOptions {
  k?: number;
  m?: number;
}

export class StorageNet {
  readonly placements = new Map<string, { id: Uint8Array; p: Placement }>();
  readonly providers = new Map<string, ProviderRecord>();
  readonly usage = new Map<string, number>();
  audit: AuditEpoch | undefined;
  height = 0;
  readonly protocol: StorageProtocol | undefined;
  readonly #o: StorageNetOptions;
  readonly #me: string;
  /** Shards placed on this node: shard CID -> where. */
  readonly #held = new Map<string, { id: string; index: number }>();
  /** Shards received and not (yet) placed: CID -> uploader, time. */
  readonly #pending = new Map<string, { peer: string; at: number }>();
  readonly #repairing = new Map<string, number>();
  /** Shards a placement no longer lists here (repaired away, deleted): removed at the next upkeep. */
  readonly #orphans = new Set<string>();
  #provedEpoch = 0;
  #faultedEpoch = 0;
  #registerSentAt = -Infinity;
  #lastGc = 0;
  #ticking = false;
  #again = false;
  #stopped = false;

  constructor(o: StorageNetOptions) {
    this.#o = o;
    this.#me = o.key.address.toString();
    this.protocol =
      o.host === undefined
        ? undefined
        : new StorageProtocol(o.host, o.chainId, {
            shards: o.shards,
            block: async (cid) => o.content?.blocks.getBytes(cid),
            refusePut: (h, op) => this.#refusePut(h, op),
            received: (h, peer) =>
              this.#pending.set(h.cid.toString(), { peer: peer.toString(), at: Date.now() }),
            stored: async (h, op) => {
              if (op === Op.Repair) {
                void this.#o
                  .send(storagePayload.repair({ id: h.id, index: h.index }))
                  .catch((err) =>
                    this.#o.logger.warn({ err: String(err?.message ?? err) }, 'repair tx not sent'),
                  );
                return new Uint8Array(0);
              }
              return this.#o.key.sign(holdMessage(this.#o.chainId, h.id, h.index, h.cid, h.root, h.size));
            },
            mayDrop: (cid, peer) => {
              const p = this.#pending.get(cid.toString());
              return p !== undefined && p.peer === peer.toString() && !this.#held.has(cid.toString());
            },
            dropped: (cid) => this.#pending.delete(cid.toString()),
            penalise: o.penalise,
            served: o.served,
            receipt: o.receipt,
            logger: o.logger,
          });
  }

  async start(): Promise<void> {
    await this.protocol?.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.protocol?.stop();
  }

  /** Committed `prov/` entries (at start: all of them; then each block's changes, null = deleted). */
  apply(changes: Iterable<[Uint8Array, Uint8Array | null]>, height: number): void {
    this.height = height;
    for (const [k, v] of changes) {
      if (hasPrefix(k, PROV_OBJ_PREFIX) && k.length === PROV_OBJ_PREFIX.length + 32) {
        const id = k.subarray(PROV_OBJ_PREFIX.length);
        const key = toHex(id);
        const old = this.placements.get(key);
        if (old !== undefined)
          for (const s of old.p.shards)
            if (s.provider.toString() === this.#me) {
              this.#held.delete(s.cid.toString());
              // Dropped at the next upkeep unless the new placement still lists it here.
              this.#orphans.add(s.cid.toString());
            }
        if (v === null) {
          this.placements.delete(key);
          continue;
        }
        const p = decodePlacement(v);
        this.placements.set(key, { id: Uint8Array.from(id), p });
        p.shards.forEach((s, index) => {
          if (s.provider.toString() !== this.#me) return;
          this.#held.set(s.cid.toString(), { id: key, index });
          this.#pending.delete(s.cid.toString());
        });
      } else if (hasPrefix(k, PROV_NODE_PREFIX)) {
        const a = new Address(k.subarray(PROV_NODE_PREFIX.length)).toString();
        if (v === null) this.providers.delete(a);
        else this.providers.set(a, decodeProvider(v));
      } else if (hasPrefix(k, PROV_USE_PREFIX)) {
        const a = new Address(k.subarray(PROV_USE_PREFIX.length)).toString();
        if (v === null) this.usage.delete(a);
        else this.usage.set(a, Number(Buffer.from(v).readBigUInt64BE(0)));
      } else if (Buffer.from(k).equals(AUDIT_KEY) && v !== null) {
        this.audit = decodeAudit(v);
      }
    }
  }

  async load(entries: AsyncIterable<[Uint8Array, Uint8Array]>, height: number): Promise<void> {
    const batch: [Uint8Array, Uint8Array][] = [];
    for await (const e of entries) batch.push(e);
    this.apply(batch, height);
    // Proofs for the epoch under way may not have been sent before a restart: send them again.
    this.#provedEpoch = 0;
  }

  /** After each committed block: the background work (one run at a time). */
  onBlock(): void {
    if (this.#stopped) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = true;
    void this.#tick()
      .catch((err) => this.#o.logger.warn({ err: String(err?.message ?? err) }, 'storage upkeep failed'))
      .finally(() => {
        this.#ticking = false;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.onBlock();
        }
      });
  }

  async #tick(): Promise<void> {
    await this.#register();
    await this.#prove();
    await this.#faults();
    await this.#repairs();
    await this.#gc();
  }

  async #register(): Promise<void> {
    const cap = this.#o.capacity;
    if (cap <= 0 || this.#o.host === undefined) return;
    const rec = this.providers.get(this.#me);
    const addrs = this.#o.host
      .getMultiaddrs()
      .map((a) => a.toString())
      .slice(0, 8);
    if (rec !== undefined && rec.capacity === cap) return;
    if (this.height - this.#registerSentAt < 10) return;
    this.#registerSentAt = this.height;
    await this.#o.send(storagePayload.register({ capacity: cap, addrs }));
    this.#o.logger.info({ capacity: cap }, 'registering as a storage provider');
  }

  /** When an audit epoch begins: a segment and its path for every shard held since before it. */
  async #prove(): Promise<void> {
    const a = this.audit;
    const store = this.#o.shards;
    if (a === undefined || store === undefined || a.epoch <= this.#provedEpoch) return;
    this.#provedEpoch = a.epoch;
    let batch: SegmentProof[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const proofs = batch;
      batch = [];
      bytes = 0;
      await this.#o.send(storagePayload.proof({ epoch: a.epoch, proofs }));
    };
    for (const [cidText, { id, index }] of this.#held) {
      const entry = this.placements.get(id);
      const s = entry?.p.shards[index];
      if (entry === undefined || s === undefined || s.status !== ShardStatus.Ok || s.provenEpoch >= a.epoch)
        continue;
      const at = challengeIndex(a.seed, entry.id, index, segmentCount(entry.p.shardSize));
      let proof: { segment: Buffer; path: Buffer[] };
      try {
        proof = await store.segmentProof(s.cid, at);
      } catch (err) {
        this.#o.logger.warn(
          { shard: cidText, err: String((err as Error).message) },
          'cannot prove a held shard',
        );
        this.#o.audited?.('holder', 'unprovable');
        continue;
      }
      // A proof that would fail on chain would fail the whole tx with it: check it here first.
      if (!verifySegment(s.root, entry.p.shardSize, at, proof.segment, proof.path)) {
        this.#o.logger.warn({ shard: cidText }, 'a held shard does not match its root: not proven');
        this.#o.audited?.('holder', 'unprovable');
        continue;
      }
      this.#o.audited?.('holder', 'proved');
      batch.push({ id: entry.id, index, segment: proof.segment, path: proof.path });
      bytes += proof.segment.length + 32 * proof.path.length + 48;
      if (batch.length >= MAX_PROOFS_PER_TX || bytes >= PROOF_TX_BYTES) await flush();
    }
    await flush();
  }

  /** In epoch e + 1: a fault for each shard of epoch e not proven (filed by the owner and by the next holder). */
  async #faults(): Promise<void> {
    const a = this.audit;
    if (a === undefined || a.epoch < 2 || this.#faultedEpoch >= a.epoch - 1) return;
    const e = a.epoch - 1;
    this.#faultedEpoch = e;
    const start = e * this.#o.params.auditInterval;
    for (const { id, p } of this.placements.values()) {
      const n = p.shards.length;
      p.shards.forEach((s, i) => {
        if (s.status !== ShardStatus.Ok || s.provenEpoch >= e || s.since > start) return;
        const watcher =
          p.owner.toString() === this.#me || p.shards[(i + 1) % n].provider.toString() === this.#me;
        if (!watcher) return;
        this.#o.logger.info(
          { id: toHex(id), index: i, provider: s.provider.toString(), epoch: e },
          'recording a missed audit',
        );
        this.#o.audited?.('watcher', 'fault');
        void this.#o.send(storagePayload.fault({ id, index: i, epoch: e })).catch(() => undefined);
      });
    }
  }

  /** Failed shards whose repairer is this node (the holder of the lowest-index healthy shard). */
  async #repairs(): Promise<void> {
    if (this.protocol === undefined) return;
    for (const { id, p } of this.placements.values()) {
      const healthy = p.shards.findIndex((s) => s.status === ShardStatus.Ok);
      if (healthy < 0 || p.shards[healthy].provider.toString() !== this.#me) continue;
      for (const [index, s] of p.shards.entries()) {
        if (s.status !== ShardStatus.Failed) continue;
        const key = `${toHex(id)}/${index}`;
        if (this.height - (this.#repairing.get(key) ?? -Infinity) < REPAIR_RETRY_BLOCKS) continue;
        this.#repairing.set(key, this.height);
        await this.#repair(id, p, index).catch((err) =>
          this.#o.logger.warn(
            { id: toHex(id), index, err: String(err?.message ?? err) },
            'repair failed; will retry',
          ),
        );
      }
    }
  }

  async #repair(id: Uint8Array, p: Placement, index: number): Promise<void> {
    const s = p.shards[index];
    const holders = new Set(p.shards.map((x) => x.provider.toString()));
    const seed = Buffer.concat([id, Buffer.of(index)]);
    const order = rendezvousOrder(seed, this.#candidates(), p.shardSize).filter((a) => !a.equals(s.provider));
    // One shard per provider (the chain refuses another shard on a holder of this object).
    const target = order.find((a) => !holders.has(a.toString()));
    if (target === undefined)
      throw new StorageNetError({ code: 'NOT_ENOUGH_PROVIDERS' }, 'no provider to repair onto');
    this.#o.logger.info({ id: toHex(id), index, to: target.toString() }, 'repairing a shard');
    const bytes = rebuildShard(p, index, this.#sources());
    if (target.toString() === this.#me) {
      const store = this.#o.shards as ShardStore;
      const w = await store.writer(p.shardSize, { cid: s.cid, root: s.root });
      try {
        for await (const b of bytes) await w.write(b);
        await w.finish();
      } catch (err) {
        await w.abort();
        throw err;
      }
      await this.#o.send(storagePayload.repair({ id, index }));
      return;
    }
    const sink = await (this.protocol as StorageProtocol).putShard(
      this.peerOf(target.toString()),
      index,
      p.shardSize,
      {
        id,
        cid: s.cid,
        root: s.root,
      },
    );
    try {
      for await (const b of bytes) await sink.write(b);
      await sink.end();
    } catch (err) {
      sink.abort(err as Error);
      throw err;
    }
  }

  /** Shards nobody placed (after PENDING_TTL_MS) or placed elsewhere now (repaired away, deleted). */
  async #gc(): Promise<void> {
    const store = this.#o.shards;
    if (store === undefined) return;
    for (const key of [...this.#orphans]) {
      this.#orphans.delete(key);
      if (this.#held.has(key)) continue;
      await store.remove(CID.parse(key)).catch(() => false);
      this.#o.logger.info({ shard: key }, 'dropped a shard its placement no longer lists here');
    }
    if (Date.now() - this.#lastGc < 10_000) return;
    this.#lastGc = Date.now();
    for (const s of await store.list()) {
      const key = s.cid.toString();
      if (this.#held.has(key)) continue;
      const pending = this.#pending.get(key);
      const since = pending?.at ?? s.mtimeMs;
      if (Date.now() - since < PENDING_TTL_MS) continue;
      await store.remove(s.cid);
      this.#pending.delete(key);
      this.#o.logger.info({ shard: key }, 'dropped a shard no placement lists');
    }
  }

  async #refusePut(
    h: { id: Uint8Array; index: number; cid: CID; root: Uint8Array; size: number },
    op: Op,
  ): Promise<string | null> {
    if (this.#o.shards === undefined) return 'this node is not a storage provider';
    if (op === Op.Repair) {
      const e = this.placements.get(toHex(h.id));
      const s = e?.p.shards[h.index];
      if (e === undefined || s === undefined) return 'no such object or shard';
      if (s.status !== ShardStatus.Failed) return 'that shard is not failed';
      if (
        !s.cid.equals(h.cid) ||
        !Buffer.from(s.root).equals(Buffer.from(h.root)) ||
        e.p.shardSize !== h.size
      )
        return 'not the failed shard on chain';
      if (s.provider.toString() === this.#me) return 'this node is the failed holder';
    }
    return null;
  }

  #candidates() {
    return [...this.providers.entries()].map(([a, r]) => ({
      address: Address.fromString(a),
      free: r.capacity - r.used,
    }));
  }

  peerOf(address: string): PeerId {
    const rec = this.providers.get(address);
    if (rec === undefined)
      throw new StorageNetError({ code: 'NOT_ENOUGH_PROVIDERS' }, `${address} is not a provider`);
    const peer = peerIdOfPublicKey(rec.publicKey);
    const host = this.#o.host;
    if (host !== undefined && host.getConnections(peer).length === 0 && rec.addrs.length > 0)
      void host.peerStore
        .merge(peer, {
          multiaddrs: rec.addrs.flatMap((a) => {
            try {
              return [multiaddr(a)];
            } catch {
              return [];
            }
          }),
        })
        .catch(() => undefined);
    return peer;
  }

  #sources() {
    return {
      protocol: this.protocol as StorageProtocol,
      peerOf: (a: string) => this.peerOf(a),
      local: (a: string, cid: CID, offset: number, length: number) =>
        a === this.#me && this.#o.shards !== undefined ? this.#o.shards.read(cid, offset, length) : undefined,
      logger: this.#o.logger,
    };
  }

  /** The code used for a put: as asked, else the genesis default shrunk (same ratio) to the providers there are. */
  codeFor(opts: PutOptions): { k: number; m: number } {
    const providers = this.providers.size;
    if (opts.k !== undefined || opts.m !== undefined) {
      const k = opts.k ?? this.#o.params.dataShards;
      const m = opts.m ?? this.#o.params.parityShards;
      if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > MAX_SHARDS)
        throw new StorageNetError({ code: 'INVALID_PARAMS' }, `k >= 1, m >= 1 and k + m <= ${MAX_SHARDS}`);
      return { k, m };
    }
    const { dataShards: k, parityShards: m } = this.#o.params;
    if (providers >= k + m || providers < 2) return { k, m };
    const k2 = Math.max(1, Math.round((providers * k) / (k + m)));
    return { k: Math.min(k2, providers - 1), m: providers - Math.min(k2, providers - 1) };
  }

  /**
   * Stores `size` bytes of `source` across providers for this node's key: quota and providers checked
   * before any byte is read; on any failure the shards sent are dropped and nothing is placed.
   */
  async put(source: AsyncIterable<Uint8Array>, size: number, opts: PutOptions = {}) {
    if (this.protocol === undefined)
      throw new StorageNetError({ code: 'NO_NETWORK' }, 'this node has no P2P network');
    const { k, m } = this.codeFor(opts);
    const used = this.usage.get(this.#me) ?? 0;
    const quota = await this.quotaOf(this.#o.key.address);
    if (used + size > quota)
      throw new StorageNetError(
        { code: 'QUOTA_EXCEEDED' },
        `${size} bytes would exceed the storage quota: ${used} of ${quota} bytes used`,
      );
    const g = geometry(size, k);
    const seed = Buffer.from(crypto.getRandomValues(new Uint8Array(32)));
    const targets = chooseProviders(seed, this.#candidates(), k + m, g.shardSize);
    const sent: { address: string; cid?: CID }[] = [];
    const sinks: (ShardSink & { sign(id: Uint8Array): Promise<Uint8Array> })[] = [];
    try {
      for (const [i, t] of targets.entries()) {
        sent.push({ address: t.toString() });
        sinks.push(await this.#sink(t.toString(), i, g.shardSize));
      }
      const enc: EncodedObject = await encodeToShards(source, size, k, m, sinks);
      enc.shards.forEach((s, i) => {
        sent[i].cid = s.cid;
      });
      const id = objectId(
        this.#o.key.address,
        enc.shards.map((s) => s.cid),
      );
      const sigs = await Promise.all(sinks.map((s) => s.sign(id)));
      const { committed } = await this.#o.send(
        storagePayload.place({
          id,
          k,
          m,
          size,
          sealedKey: sealKey(enc.objectKey, this.#o.key.publicKey),
          shardSize: enc.shardSize,
          shards: enc.shards.map((s, i) => ({
            cid: s.cid,
            root: s.root,
            provider: targets[i],
            signature: sigs[i],
          })),
        }),
        { commit: true },
      );
      return { id: toHex(id), cid: enc.cid.toString(), size, k, m, height: committed?.height ?? 0 };
    } catch (err) {
      await Promise.all(sent.map((s) => (s.cid === undefined ? undefined : this.#drop(s.address, s.cid))));
      throw err;
    }
  }

  async #drop(address: string, cid: CID): Promise<void> {
    try {
      if (address === this.#me) {
        await this.#o.shards?.remove(cid);
        this.#pending.delete(cid.toString());
      } else await this.protocol?.dropShard(this.peerOf(address), cid);
    } catch (err) {
      this.#o.logger.debug(
        { cid: cid.toString(), err: String((err as Error).message) },
        'drop failed (it expires)',
      );
    }
  }

  async #sink(address: string, index: number, size: number) {
    if (address !== this.#me)
      return (this.protocol as StorageProtocol).putShard(this.peerOf(address), index, size);
    const store = this.#o.shards as ShardStore;
    const w = await store.writer(size);
    let got: { cid: CID; root: Buffer } | undefined;
    return {
      write: (b: Uint8Array) => w.write(b),
      end: async () => {
        got = await w.finish();
        this.#pending.set(got.cid.toString(), { peer: 'self', at: Date.now() });
        return got;
      },
      sign: async (id: Uint8Array) => {
        const g = got as { cid: CID; root: Buffer };
        return this.#o.key.sign(holdMessage(this.#o.chainId, id, index, g.cid, g.root, size));
      },
      abort: () => void w.abort(),
    };
  }

  /** Tells the DHT this node provides `cid` (best effort: a devnet of few peers may not take it). */
  announce(cid: CID): void {
    const host = this.#o.host;
    if (host === undefined) return;
    void host.contentRouting
      .provide(cid, { signal: AbortSignal.timeout(30_000) })
      .catch((err) =>
        this.#o.logger.debug({ cid: cid.toString(), err: String(err?.message ?? err) }, 'provide failed'),
      );
  }

  /** Peers that may hold `cid`: its DHT providers (a few seconds' search), then every connected peer. */
  async #contentPeers(cid: CID): Promise<PeerId[]> {
    const host = this.#o.host as VosHost;
    const out = new Map<string, PeerId>();
    try {
      for await (const p of host.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(3000) })) {
        if (!p.id.equals(host.peerId)) out.set(p.id.toString(), p.id);
        if (out.size >= 8) break;
      }
    } catch {
      // none found in time: the connected peers below
    }
    for (const p of host.getPeers()) if (!out.has(p.toString())) out.set(p.toString(), p);
    return [...out.values()];
  }

  /**
   * Brings published content stored elsewhere into the local store, block by block from the peers that
   * have it, each block checked against its CID (a peer sending other bytes is penalised and the next
   * one asked); then pins and announces it: this node provides it too.
   */
  async fetchContent(cid: CID): Promise<void> {
    const local = this.#o.content;
    if (local === undefined || this.protocol === undefined)
      throw new StorageNetError({ code: 'NO_NETWORK' }, 'this node has no P2P network');
    if (await local.blocks.has(cid)) return;
    const peers = await this.#contentPeers(cid);
    const protocol = this.protocol;
    const penalise = this.#o.penalise;
    const served = this.#o.served;
    const blocks = {
      async *get(c: CID): AsyncGenerator<Uint8Array> {
        const have = await local.blocks.getBytes(c);
        if (have !== undefined) {
          yield have;
          return;
        }
        for (const peer of peers) {
          let bytes: Uint8Array;
          try {
            bytes = await protocol.getBlock(peer, c);
          } catch {
            continue;
          }
          try {
            await local.blocks.put(c, bytes);
          } catch (err) {
            penalise(peer, err);
            continue;
          }
          served?.(peer, bytes.length);
          yield bytes;
          return;
        }
        throw new StorageError({ code: 'NOT_FOUND', cid: c.toString() }, `no peer has block ${c} of ${cid}`);
      },
      has: async (c: CID) => local.blocks.has(c),
    };
    const entry = await exporter(cid, blocks as never);
    if (entry.type !== 'file' && entry.type !== 'raw')
      throw new StorageError({ code: 'NOT_FOUND', cid: cid.toString() }, `${cid} is not a file`);
    for await (const _ of entry.content({ blockReadConcurrency: 4 })) {
      // the blocks land in the local store as they are read
    }
    await local.pin(cid);
    this.announce(cid);
    this.#o.logger.info(
      { cid: cid.toString(), size: Number(entry.size) },
      'fetched published content from peers',
    );
  }

  /** An owner's storage quota (the control module's: base + k x min(C, T)). */
  async quotaOf(owner: Address): Promise<number> {
    return this.#o.quotaOf === undefined ? this.#o.params.baseQuota : this.#o.quotaOf(owner);
  }

  placement(idHex: string): { id: Uint8Array; p: Placement } | undefined {
    return this.placements.get(`0x${idHex.toLowerCase().replace(/^0x/, '')}`);
  }

  /** The plaintext of one of this node's objects, from any k healthy shards. */
  get(idHex: string): { p: Placement; stream: AsyncGenerator<Buffer> } {
    const e = this.placement(idHex);
    if (e === undefined)
      throw new StorageNetError({ code: 'OBJECT_NOT_FOUND' }, `no distributed object ${idHex}`);
    if (e.p.owner.toString() !== this.#me)
      throw new StorageNetError(
        { code: 'NOT_OWNER' },
        `object ${idHex} belongs to ${e.p.owner}; only its owner's key opens it`,
      );
    if (this.protocol === undefined)
      throw new StorageNetError({ code: 'NO_NETWORK' }, 'this node has no P2P network');
    const key = openKey(e.p.sealedKey, this.#o.key.exportSeed());
    return { p: e.p, stream: plainObject(e.p, this.#sources(), key) };
  }

  /**
   * As get, with the first bytes already read: a failure to reach k holders is an error before an HTTP
   * response starts, not a cut-off body.
   */
  async open(idHex: string): Promise<{ p: Placement; stream: AsyncGenerator<Buffer> }> {
    const { p, stream } = this.get(idHex);
    const first = await stream.next();
    async function* rest(): AsyncGenerator<Buffer> {
      if (first.done) return;
      yield first.value;
      yield* stream;
    }
    return { p, stream: rest() };
  }

  /** Delete one of this node's objects (providers drop the shards when the placement is gone). */
  async delete(idHex: string): Promise<{ height: number }> {
    const e = this.placement(idHex);
    if (e === undefined)
      throw new StorageNetError({ code: 'OBJECT_NOT_FOUND' }, `no distributed object ${idHex}`);
    const { committed } = await this.#o.send(storagePayload.delete(e.id), { commit: true });
    return { height: committed?.height ?? 0 };
  }
}
