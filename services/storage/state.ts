/**
 * Distributed storage tx kinds (module payloads) and the audit epoch (a block hook):
 *
 *   provider-register = [capacity, [multiaddr...]]                 sender becomes (or updates) a provider
 *   storage-place     = [id 32, k, m, size, sealedKey 92, shardSize, [[cid, root 32, provider 20, sig 64]...]]
 *   storage-proof     = [epoch, [[id 32, index, segment, [hash 32...]]...]]   sender = the shards' holder
 *   storage-fault     = [id 32, index, epoch]                      anyone, in the epoch after the missed one
 *   storage-repair    = [id 32, index]                             sender = the new holder of a failed shard
 *   storage-delete    = [id 32]                                    owner only
 *
 * Every shard of a placement is on a distinct provider, that signed that it holds it (prov.ts
 * holdMessage), within its capacity; the owner's objects stay within the quota. Audit epoch e begins at
 * the end of block e x auditInterval with seed sha256(prevHash | height); a shard placed by then must be
 * proven (a segment and its Merkle path) before epoch e + 1 begins, else a fault can be recorded against
 * its holder during epoch e + 1, and the shard is failed until a repair moves it to another provider.
 */
import { createHash } from 'node:crypto';
import type { CID } from 'multiformats/cid';
import { Address } from '../../chain/address.js';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  asString,
  CodecError,
  type RlpItem,
} from '../../chain/codec.js';
import { verifySignature } from '../../chain/keys.js';
import { registerBlockHook } from '../../chain/ledger/block-hooks.js';
import type { TxContext } from '../../chain/ledger/execute-tx.js';
import { TxFailure } from '../../chain/ledger/failure.js';
import type { TxEvent } from '../../chain/receipt.js';
import { expectFields, modulePayload, registerRlpTxKind, type TxPayload } from '../../chain/tx/kinds.js';
import type { Tx } from '../../chain/tx/tx.js';
import { toHex, u64be } from '../../util/bytes.js';
import { credit, quotaOf, sameOwner } from '../control/state.js';
import { geometry } from './geometry.js';
import { MAX_PROOFS_PER_TX, MAX_SHARD_SIZE, MAX_SHARDS, SEGMENT } from './limits.js';
import { segmentCount, verifySegment } from './merkle.js';
import {
  AUDIT_KEY,
  type AuditEpoch,
  challengeIndex,
  decodeAudit,
  decodePlacement,
  decodeProvider,
  encodeAudit,
  encodePlacement,
  encodeProvider,
  holdMessage,
  MAX_PROVIDER_ADDRS,
  objectId,
  ownerUsage,
  type Placement,
  type ProviderRecord,
  placementKey,
  providerKey,
  SEALED_KEY_BYTES,
  ShardStatus,
  setOwnerUsage,
  shardCidField,
} from './prov.js';

export enum StorageTxKind {
  ProviderRegister = 40,
  Place = 41,
  Proof = 42,
  Fault = 43,
  Repair = 44,
  Delete = 45,
}

const STORAGE_GAS = 40_000n;

export interface RegisterBody {
  capacity: number;
  addrs: string[];
}
export interface PlaceShard {
  cid: CID;
  root: Uint8Array;
  provider: Address;
  signature: Uint8Array;
}
export interface PlaceBody {
  id: Uint8Array;
  k: number;
  m: number;
  size: number;
  sealedKey: Uint8Array;
  shardSize: number;
  shards: PlaceShard[];
}
export interface SegmentProof {
  id: Uint8Array;
  index: number;
  segment: Uint8Array;
  path: Uint8Array[];
}
export interface ProofBody {
  epoch: number;
  proofs: SegmentProof[];
}
export interface FaultBody {
  id: Uint8Array;
  index: number;
  epoch: number;
}
export interface ShardRef {
  id: Uint8Array;
  index: number;
}

const idField = (item: RlpItem) => asBytes(item, 'id', 32);

async function getProvider(ctx: TxContext, a: Address): Promise<ProviderRecord | undefined> {
  const v = await ctx.state.get(providerKey(a));
  return v === undefined ? undefined : decodeProvider(v);
}

async function getPlacement(ctx: TxContext, id: Uint8Array): Promise<Placement> {
  const v = await ctx.state.get(placementKey(id));
  if (v === undefined) throw new TxFailure('STORAGE_OBJECT_NOT_FOUND');
  return decodePlacement(v);
}

const getUsage = (ctx: TxContext, a: Address) => ownerUsage(ctx.state, a);
const setUsage = (ctx: TxContext, a: Address, bytes: number) => setOwnerUsage(ctx.state, a, bytes);

export async function getAudit(ctx: Pick<TxContext, 'state'>): Promise<AuditEpoch | undefined> {
  const v = await ctx.state.get(AUDIT_KEY);
  return v === undefined ? undefined : decodeAudit(v);
}

function shardEvent(type: string, id: Uint8Array, index: number, provider: Address): TxEvent[] {
  return [
    {
      type,
      attributes: [
        ['id', id],
        ['index', String(index)],
        ['provider', provider.bytes],
      ],
    },
  ];
}

const module = <B>(m: Parameters<typeof registerRlpTxKind<B>>[1]) => registerRlpTxKind(STORAGE_GAS, m);

module<RegisterBody>({
  kind: StorageTxKind.ProviderRegister,
  name: 'provider-register',
  decode(f) {
    expectFields(f, 2, 'provider-register');
    const addrs = asList(f[1], 'addrs').map((a) => asString(a, 'addr', 256));
    if (addrs.length > MAX_PROVIDER_ADDRS)
      throw new CodecError('INVALID_FIELD', 'addrs', `at most ${MAX_PROVIDER_ADDRS}`);
    return { capacity: asNumber(f[0], 'capacity'), addrs };
  },
  raw: (b) => [b.capacity, b.addrs],
  toJSON: (b) => ({ capacity: b.capacity, addrs: b.addrs }),
  async execute(ctx: TxContext, tx: Tx, b: RegisterBody) {
    if (b.capacity < ctx.params.storage.minCapacity) throw new TxFailure('STORAGE_CAPACITY_TOO_LOW');
    const have = await getProvider(ctx, tx.sender);
    if (have !== undefined && b.capacity < have.used) throw new TxFailure('STORAGE_CAPACITY_BELOW_USED');
    const rec: ProviderRecord = {
      publicKey: tx.signer,
      capacity: b.capacity,
      used: have?.used ?? 0,
      addrs: b.addrs,
      registeredAt: have?.registeredAt ?? ctx.height,
      faults: have?.faults ?? 0,
      proofs: have?.proofs ?? 0,
    };
    ctx.state.set(providerKey(tx.sender), encodeProvider(rec));
    return [
      {
        type: 'provider-register',
        attributes: [
          ['provider', tx.sender.bytes],
          ['capacity', String(b.capacity)],
        ],
      },
    ];
  },
});

module<PlaceBody>({
  kind: StorageTxKind.Place,
  name: 'storage-place',
  decode(f) {
    expectFields(f, 7, 'storage-place');
    const k = asNumber(f[1], 'k', MAX_SHARDS);
    const m = asNumber(f[2], 'm', MAX_SHARDS);
    if (k < 1 || m < 1 || k + m > MAX_SHARDS)
      throw new CodecError('INVALID_FIELD', 'k', `k >= 1, m >= 1, k + m <= ${MAX_SHARDS}`);
    const shards = asList(f[6], 'shards').map((item) => {
      const s = asList(item, 'shard', 4);
      return {
        cid: shardCidField(asBoundedBytes(s[0], 'shard cid', 64)),
        root: asBytes(s[1], 'root', 32),
        provider: new Address(asBytes(s[2], 'provider', 20)),
        signature: asBytes(s[3], 'signature', 64),
      };
    });
    if (shards.length !== k + m) throw new CodecError('INVALID_FIELD', 'shards', `expected k + m = ${k + m}`);
    const shardSize = asNumber(f[5], 'shardSize', MAX_SHARD_SIZE);
    if (shardSize < 1) throw new CodecError('INVALID_FIELD', 'shardSize', 'at least 1');
    return {
      id: idField(f[0]),
      k,
      m,
      size: asNumber(f[3], 'size'),
      sealedKey: asBytes(f[4], 'sealedKey', SEALED_KEY_BYTES),
      shardSize,
      shards,
    };
  },
  raw: (b) => [
    b.id,
    b.k,
    b.m,
    b.size,
    b.sealedKey,
    b.shardSize,
    b.shards.map((s) => [s.cid.bytes, s.root, s.provider.bytes, s.signature]),
  ],
  toJSON: (b) => ({
    id: toHex(b.id),
    k: b.k,
    m: b.m,
    size: b.size,
    shardSize: b.shardSize,
    providers: b.shards.map((s) => s.provider.toString()),
  }),
  async execute(ctx: TxContext, tx: Tx, b: PlaceBody) {
    // Cheap checks first: the id, existence, quota; then each provider's record and signature.
    if (
      !objectId(
        tx.sender,
        b.shards.map((s) => s.cid),
      ).equals(b.id)
    )
      throw new TxFailure('STORAGE_BAD_ID');
    if ((await ctx.state.get(placementKey(b.id))) !== undefined) throw new TxFailure('STORAGE_OBJECT_EXISTS');
    const used = await getUsage(ctx, tx.sender);
    if (used + b.size > (await quotaOf(ctx.state, ctx.params, tx.sender, 'storage')))
      throw new TxFailure('STORAGE_QUOTA_EXCEEDED');
    // The shards' size follows from the object's size and k (geometry.ts): the quota
    // counts `size`, so a placement may not claim more provider bytes than its size needs.
    if (b.shardSize !== geometry(b.size, b.k).shardSize) throw new TxFailure('STORAGE_BAD_SHARD_SIZE');
    const seen = new Set<string>();
    const records: ProviderRecord[] = [];
    for (const [i, s] of b.shards.entries()) {
      const key = s.provider.toString();
      if (seen.has(key)) throw new TxFailure('STORAGE_PROVIDER_TWICE');
      seen.add(key);
      const p = await getProvider(ctx, s.provider);
      if (p === undefined) throw new TxFailure('STORAGE_NOT_A_PROVIDER');
      if (p.used + b.shardSize > p.capacity) throw new TxFailure('STORAGE_PROVIDER_FULL');
      if (
        !verifySignature(
          p.publicKey,
          holdMessage(ctx.chainId, b.id, i, s.cid, s.root, b.shardSize),
          s.signature,
        )
      )
        throw new TxFailure('STORAGE_BAD_HOLD_SIGNATURE');
      records.push(p);
    }
    for (const [i, s] of b.shards.entries())
      ctx.state.set(
        providerKey(s.provider),
        encodeProvider({ ...records[i], used: records[i].used + b.shardSize }),
      );
    setUsage(ctx, tx.sender, used + b.size);
    const placement: Placement = {
      owner: tx.sender,
      k: b.k,
      m: b.m,
      size: b.size,
      sealedKey: b.sealedKey,
      shardSize: b.shardSize,
      shards: b.shards.map((s) => ({
        cid: s.cid,
        root: s.root,
        provider: s.provider,
        status: ShardStatus.Ok,
        since: ctx.height,
        provenEpoch: -1,
      })),
      createdAt: ctx.height,
    };
    ctx.state.set(placementKey(b.id), encodePlacement(placement));
    return [
      {
        type: 'storage-place',
        attributes: [
          ['id', b.id],
          ['owner', tx.sender.bytes],
          ['size', String(b.size)],
        ],
      },
    ];
  },
});

module<ProofBody>({
  kind: StorageTxKind.Proof,
  name: 'storage-proof',
  decode(f) {
    expectFields(f, 2, 'storage-proof');
    const proofs = asList(f[1], 'proofs').map((item) => {
      const p = asList(item, 'proof', 4);
      return {
        id: idField(p[0]),
        index: asNumber(p[1], 'index', MAX_SHARDS - 1),
        segment: asBoundedBytes(p[2], 'segment', SEGMENT),
        path: asList(p[3], 'path').map((h) => asBytes(h, 'path hash', 32)),
      };
    });
    if (proofs.length === 0 || proofs.length > MAX_PROOFS_PER_TX)
      throw new CodecError('INVALID_FIELD', 'proofs', `1-${MAX_PROOFS_PER_TX} proofs`);
    if (proofs.some((p) => p.path.length > 40))
      throw new CodecError('INVALID_FIELD', 'path', 'at most 40 hashes');
    return { epoch: asNumber(f[0], 'epoch'), proofs };
  },
  raw: (b) => [b.epoch, b.proofs.map((p) => [p.id, p.index, p.segment, p.path])],
  toJSON: (b) => ({ epoch: b.epoch, proofs: b.proofs.map((p) => ({ id: toHex(p.id), index: p.index })) }),
  async execute(ctx: TxContext, tx: Tx, b: ProofBody) {
    const audit = await getAudit(ctx);
    if (audit === undefined || audit.epoch !== b.epoch) throw new TxFailure('STORAGE_WRONG_EPOCH');
    const changed = new Map<string, { id: Uint8Array; p: Placement }>();
    let proven = 0;
    let earned = 0n;
    for (const proof of b.proofs) {
      const key = toHex(proof.id);
      const p = changed.get(key)?.p ?? (await getPlacement(ctx, proof.id));
      const s = p.shards[proof.index];
      if (s === undefined || !s.provider.equals(tx.sender)) throw new TxFailure('STORAGE_NOT_HOLDER');
      const segments = segmentCount(p.shardSize);
      const at = challengeIndex(audit.seed, proof.id, proof.index, segments);
      if (!verifySegment(s.root, p.shardSize, at, proof.segment, proof.path))
        throw new TxFailure('STORAGE_BAD_PROOF');
      if (s.provenEpoch < b.epoch) {
        proven++;
        // Held and answered for another owner: contribution (nothing for one's own objects).
        if (!(await sameOwner(ctx.state, p.owner, tx.sender))) earned += BigInt(p.shardSize);
      }
      s.provenEpoch = b.epoch;
      changed.set(key, { id: proof.id, p });
    }
    for (const { id, p } of changed.values()) ctx.state.set(placementKey(id), encodePlacement(p));
    const rec = await getProvider(ctx, tx.sender);
    if (rec !== undefined)
      ctx.state.set(providerKey(tx.sender), encodeProvider({ ...rec, proofs: rec.proofs + proven }));
    if (earned > 0n) await credit(ctx, tx.sender, { storage: earned });
    return [
      {
        type: 'storage-proof',
        attributes: [
          ['provider', tx.sender.bytes],
          ['epoch', String(b.epoch)],
          ['count', String(b.proofs.length)],
        ],
      },
    ];
  },
});

module<FaultBody>({
  kind: StorageTxKind.Fault,
  name: 'storage-fault',
  decode(f) {
    expectFields(f, 3, 'storage-fault');
    return {
      id: idField(f[0]),
      index: asNumber(f[1], 'index', MAX_SHARDS - 1),
      epoch: asNumber(f[2], 'epoch'),
    };
  },
  raw: (b) => [b.id, b.index, b.epoch],
  toJSON: (b) => ({ id: toHex(b.id), index: b.index, epoch: b.epoch }),
  async execute(ctx: TxContext, _tx: Tx, b: FaultBody) {
    const audit = await getAudit(ctx);
    // Only the epoch just closed: its holder had the whole epoch to answer.
    if (audit === undefined || b.epoch !== audit.epoch - 1 || b.epoch < 1)
      throw new TxFailure('STORAGE_WRONG_EPOCH');
    const p = await getPlacement(ctx, b.id);
    const s = p.shards[b.index];
    if (s === undefined) throw new TxFailure('STORAGE_NO_SUCH_SHARD');
    if (s.status !== ShardStatus.Ok) throw new TxFailure('STORAGE_ALREADY_FAILED');
    if (s.provenEpoch >= b.epoch || s.since > b.epoch * ctx.params.storage.auditInterval)
      throw new TxFailure('STORAGE_NOT_FAULTY');
    s.status = ShardStatus.Failed;
    ctx.state.set(placementKey(b.id), encodePlacement(p));
    const rec = await getProvider(ctx, s.provider);
    if (rec !== undefined)
      ctx.state.set(providerKey(s.provider), encodeProvider({ ...rec, faults: rec.faults + 1 }));
    return shardEvent('storage-fault', b.id, b.index, s.provider);
  },
});

module<ShardRef>({
  kind: StorageTxKind.Repair,
  name: 'storage-repair',
  decode(f) {
    expectFields(f, 2, 'storage-repair');
    return { id: idField(f[0]), index: asNumber(f[1], 'index', MAX_SHARDS - 1) };
  },
  raw: (b) => [b.id, b.index],
  toJSON: (b) => ({ id: toHex(b.id), index: b.index }),
  async execute(ctx: TxContext, tx: Tx, b: ShardRef) {
    const p = await getPlacement(ctx, b.id);
    const s = p.shards[b.index];
    if (s === undefined) throw new TxFailure('STORAGE_NO_SUCH_SHARD');
    if (s.status !== ShardStatus.Failed) throw new TxFailure('STORAGE_NOT_FAILED');
    if (s.provider.equals(tx.sender)) throw new TxFailure('STORAGE_SAME_PROVIDER');
    // One shard per provider, as at placement: two on one would fail together.
    if (p.shards.some((x) => x.provider.equals(tx.sender))) throw new TxFailure('STORAGE_PROVIDER_TWICE');
    const rec = await getProvider(ctx, tx.sender);
    if (rec === undefined) throw new TxFailure('STORAGE_NOT_A_PROVIDER');
    if (rec.used + p.shardSize > rec.capacity) throw new TxFailure('STORAGE_PROVIDER_FULL');
    const old = await getProvider(ctx, s.provider);
    if (old !== undefined)
      ctx.state.set(
        providerKey(s.provider),
        encodeProvider({ ...old, used: Math.max(0, old.used - p.shardSize) }),
      );
    ctx.state.set(providerKey(tx.sender), encodeProvider({ ...rec, used: rec.used + p.shardSize }));
    const from = s.provider;
    p.shards[b.index] = {
      ...s,
      provider: tx.sender,
      status: ShardStatus.Ok,
      since: ctx.height,
      provenEpoch: -1,
    };
    ctx.state.set(placementKey(b.id), encodePlacement(p));
    return [
      {
        type: 'storage-repair',
        attributes: [
          ['id', b.id],
          ['index', String(b.index)],
          ['from', from.bytes],
          ['to', tx.sender.bytes],
        ],
      },
    ];
  },
});

module<{ id: Uint8Array }>({
  kind: StorageTxKind.Delete,
  name: 'storage-delete',
  decode(f) {
    expectFields(f, 1, 'storage-delete');
    return { id: idField(f[0]) };
  },
  raw: (b) => [b.id],
  toJSON: (b) => ({ id: toHex(b.id) }),
  async execute(ctx: TxContext, tx: Tx, b: { id: Uint8Array }) {
    const p = await getPlacement(ctx, b.id);
    if (!p.owner.equals(tx.sender)) throw new TxFailure('STORAGE_NOT_OWNER');
    for (const s of p.shards) {
      const rec = await getProvider(ctx, s.provider);
      if (rec !== undefined)
        ctx.state.set(
          providerKey(s.provider),
          encodeProvider({ ...rec, used: Math.max(0, rec.used - p.shardSize) }),
        );
    }
    setUsage(ctx, p.owner, Math.max(0, (await getUsage(ctx, p.owner)) - p.size));
    ctx.state.delete(placementKey(b.id));
    return [
      {
        type: 'storage-delete',
        attributes: [
          ['id', b.id],
          ['owner', tx.sender.bytes],
        ],
      },
    ];
  },
});

/** At the end of block e x auditInterval, audit epoch e begins with a seed from the previous block's hash. */
registerBlockHook('storage/audit', async (ctx) => {
  const interval = ctx.params.storage.auditInterval;
  if (ctx.height % interval !== 0) return;
  const seed = createHash('sha256')
    .update('vos/storage/seed/1')
    .update(ctx.prevHash)
    .update(u64be(BigInt(ctx.height)))
    .digest();
  ctx.state.set(AUDIT_KEY, encodeAudit({ epoch: ctx.height / interval, seed, startHeight: ctx.height }));
});

export const storagePayload = {
  register: (b: RegisterBody): TxPayload => modulePayload(StorageTxKind.ProviderRegister, b),
  place: (b: PlaceBody): TxPayload => modulePayload(StorageTxKind.Place, b),
  proof: (b: ProofBody): TxPayload => modulePayload(StorageTxKind.Proof, b),
  fault: (b: FaultBody): TxPayload => modulePayload(StorageTxKind.Fault, b),
  repair: (b: ShardRef): TxPayload => modulePayload(StorageTxKind.Repair, b),
  delete: (id: Uint8Array): TxPayload => modulePayload(StorageTxKind.Delete, { id }),
};
