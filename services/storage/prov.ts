/**
 * Distributed storage in the state tree (module `prov/`; provable), canonically encoded:
 *
 *   prov/node/<addr 20>   -> provider = rlp([publicKey 32, capacity, used, [multiaddr...], registeredAt, faults, proofs])
 *   prov/obj/<id 32>      -> placement = rlp([owner 20, k, m, size, sealedKey 92, shardSize, [shard...], createdAt])
 *                            shard = rlp([cid bytes, root 32, provider 20, status, since, provenEpoch])
 *   prov/use/<owner 20>   -> u64 bytes of the owner's objects (the quota counts them)
 *   prov/audit            -> rlp([epoch, seed 32, startHeight]): the current audit epoch
 *
 * id = sha256("vos/storage/obj/1" | owner | shard CIDs...): the client computes it before placing.
 * A provider signs that it holds a shard: sha256("vos/storage/hold/1" | chainId | id | index | cid | root | shardSize).
 */
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import { ADDRESS_LENGTH, Address } from '../../chain/address.js';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
} from '../../chain/codec.js';
import { toHex } from '../../util/bytes.js';
import { MAX_SHARD_SIZE, MAX_SHARDS } from './limits.js';

const enc = (s: string) => Buffer.from(s, 'latin1');
export const PROV_PREFIX = enc('prov/');
export const PROV_NODE_PREFIX = enc('prov/node/');
export const PROV_OBJ_PREFIX = enc('prov/obj/');
export const PROV_USE_PREFIX = enc('prov/use/');
export const AUDIT_KEY = enc('prov/audit');

export const providerKey = (a: Address): Buffer => Buffer.concat([PROV_NODE_PREFIX, a.bytes]);
export const placementKey = (id: Uint8Array): Buffer => Buffer.concat([PROV_OBJ_PREFIX, id]);
export const usageKey = (a: Address): Buffer => Buffer.concat([PROV_USE_PREFIX, a.bytes]);

export const MAX_PROVIDER_ADDRS = 8;

interface StateRW {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  set(key: Uint8Array, value: Uint8Array | null): void;
}

/** Bytes counted against an owner's storage quota: its distributed objects and what it published. */
export async function ownerUsage(state: Pick<StateRW, 'get'>, a: Address): Promise<number> {
  const v = await state.get(usageKey(a));
  return v === undefined ? 0 : Number(Buffer.from(v).readBigUInt64BE(0));
}

export function setOwnerUsage(state: StateRW, a: Address, bytes: number): void {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, bytes)));
  state.set(usageKey(a), bytes <= 0 ? null : b);
}
export const SEALED_KEY_BYTES = 92;

export enum ShardStatus {
  Ok = 0,
  /** Missed an audit (a fault tx recorded it): repair moves it to another provider. */
  Failed = 1,
}

export interface ProviderRecord {
  publicKey: Uint8Array;
  capacity: number;
  used: number;
  addrs: string[];
  registeredAt: number;
  faults: number;
  proofs: number;
}

export interface ShardEntry {
  /** CIDv1 raw sha2-256 of the shard's bytes. */
  cid: CID;
  /** Merkle root over its segments (merkle.ts): audits prove against it. */
  root: Uint8Array;
  provider: Address;
  status: ShardStatus;
  /** Height it was placed on this provider (audit epochs that began before it do not count). */
  since: number;
  /** The last audit epoch it was proven in (-1: none yet). */
  provenEpoch: number;
}

export interface Placement {
  owner: Address;
  k: number;
  m: number;
  /** Bytes of the object (plaintext). */
  size: number;
  /** The object key sealed to the owner's key (seal.ts). */
  sealedKey: Uint8Array;
  shardSize: number;
  shards: ShardEntry[];
  createdAt: number;
}

export interface AuditEpoch {
  epoch: number;
  seed: Uint8Array;
  startHeight: number;
}

export function objectId(owner: Address, shardCids: readonly CID[]): Buffer {
  const h = createHash('sha256').update('vos/storage/obj/1').update(owner.bytes);
  for (const c of shardCids) h.update(c.bytes);
  return h.digest();
}

export function holdMessage(
  chainId: string,
  id: Uint8Array,
  index: number,
  cid: CID,
  root: Uint8Array,
  shardSize: number,
): Buffer {
  return createHash('sha256')
    .update('vos/storage/hold/1')
    .update(chainId)
    .update(id)
    .update(encodeRlp([index, cid.bytes, root, shardSize]))
    .digest();
}

export function shardCidField(b: Uint8Array): CID {
  let cid: CID;
  try {
    cid = CID.decode(b);
  } catch (err) {
    throw new CodecError('INVALID_FIELD', 'shard cid', `not a CID (${(err as Error).message})`);
  }
  if (cid.version !== 1 || cid.code !== 0x55 || cid.multihash.code !== 0x12)
    throw new CodecError('INVALID_FIELD', 'shard cid', 'must be a CIDv1 raw sha2-256');
  return cid;
}

export function encodeProvider(p: ProviderRecord): Uint8Array {
  return encodeRlp([p.publicKey, p.capacity, p.used, p.addrs, p.registeredAt, p.faults, p.proofs]);
}

export function decodeProvider(b: Uint8Array): ProviderRecord {
  const f = asList(decodeRlp(b, 'provider'), 'provider', 7);
  return {
    publicKey: asBytes(f[0], 'publicKey', 32),
    capacity: asNumber(f[1], 'capacity'),
    used: asNumber(f[2], 'used'),
    addrs: asList(f[3], 'addrs').map((a) => asString(a, 'addr', 256)),
    registeredAt: asNumber(f[4], 'registeredAt'),
    faults: asNumber(f[5], 'faults'),
    proofs: asNumber(f[6], 'proofs'),
  };
}

export function encodePlacement(p: Placement): Uint8Array {
  return encodeRlp([
    p.owner.bytes,
    p.k,
    p.m,
    p.size,
    p.sealedKey,
    p.shardSize,
    p.shards.map((s) => [s.cid.bytes, s.root, s.provider.bytes, s.status, s.since, s.provenEpoch + 1]),
    p.createdAt,
  ]);
}

export function decodePlacement(b: Uint8Array): Placement {
  const f = asList(decodeRlp(b, 'placement'), 'placement', 8);
  const shards = asList(f[6], 'shards').map((item) => {
    const s = asList(item, 'shard', 6);
    return {
      cid: shardCidField(asBoundedBytes(s[0], 'shard cid', 64)),
      root: asBytes(s[1], 'root', 32),
      provider: new Address(asBytes(s[2], 'provider', ADDRESS_LENGTH)),
      status: asNumber(s[3], 'status', 1) as ShardStatus,
      since: asNumber(s[4], 'since'),
      provenEpoch: asNumber(s[5], 'provenEpoch') - 1,
    };
  });
  return {
    owner: new Address(asBytes(f[0], 'owner', ADDRESS_LENGTH)),
    k: asNumber(f[1], 'k', MAX_SHARDS),
    m: asNumber(f[2], 'm', MAX_SHARDS),
    size: asNumber(f[3], 'size'),
    sealedKey: asBytes(f[4], 'sealedKey', SEALED_KEY_BYTES),
    shardSize: asNumber(f[5], 'shardSize', MAX_SHARD_SIZE),
    shards,
    createdAt: asNumber(f[7], 'createdAt'),
  };
}

export function encodeAudit(a: AuditEpoch): Uint8Array {
  return encodeRlp([a.epoch, a.seed, a.startHeight]);
}

export function decodeAudit(b: Uint8Array): AuditEpoch {
  const f = asList(decodeRlp(b, 'audit'), 'audit', 3);
  return {
    epoch: asNumber(f[0], 'epoch'),
    seed: asBytes(f[1], 'seed', 32),
    startHeight: asNumber(f[2], 'start'),
  };
}

/** The segment of a shard an epoch's challenge asks for. */
export function challengeIndex(seed: Uint8Array, id: Uint8Array, index: number, segments: number): number {
  const h = createHash('sha256')
    .update('vos/storage/challenge/1')
    .update(seed)
    .update(id)
    .update(encodeRlp(index))
    .digest();
  return Number(h.readBigUInt64BE(0) % BigInt(segments));
}

/** Healthy shards: those not failed. */
export const healthyCount = (p: Placement): number =>
  p.shards.filter((s) => s.status === ShardStatus.Ok).length;

export function placementToJSON(id: Uint8Array, p: Placement) {
  return {
    id: toHex(id),
    owner: p.owner.toString(),
    k: p.k,
    m: p.m,
    size: p.size,
    shardSize: p.shardSize,
    healthy: healthyCount(p),
    createdAt: p.createdAt,
    shards: p.shards.map((s, i) => ({
      index: i,
      cid: s.cid.toString(),
      root: toHex(s.root),
      provider: s.provider.toString(),
      status: s.status === ShardStatus.Ok ? 'ok' : 'failed',
      since: s.since,
      provenEpoch: s.provenEpoch,
    })),
  };
}

export function providerToJSON(a: Address, p: ProviderRecord) {
  return {
    address: a.toString(),
    capacity: p.capacity,
    used: p.used,
    addrs: p.addrs,
    registeredAt: p.registeredAt,
    faults: p.faults,
    proofs: p.proofs,
  };
}
