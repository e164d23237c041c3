/**
 * The prov/ state encodings (services/storage/prov.ts): placement, provider and audit records
 * round-trip (fast-check, printed seeds) and any truncation or trailing byte is refused; out-of-range
 * fields never decode; the object id, the hold message and the challenge index are deterministic and
 * bind what they should.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import { Address } from '../../../../chain/address.js';
import { encodeRlp } from '../../../../chain/codec.js';
import { MAX_SHARD_SIZE } from '../../../../services/storage/limits.js';
import {
  type AuditEpoch,
  challengeIndex,
  decodeAudit,
  decodePlacement,
  decodeProvider,
  encodeAudit,
  encodePlacement,
  encodeProvider,
  healthyCount,
  holdMessage,
  objectId,
  type Placement,
  type ProviderRecord,
  placementKey,
  placementToJSON,
  providerKey,
  ShardStatus,
  usageKey,
} from '../../../../services/storage/prov.js';
import { shardCid } from '../../../../services/storage/shards.js';
import { propertyParams } from '../../../fc-params.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const address = bytes(20).map((b) => new Address(b));
const cid = bytes(32).map((d) => shardCid(d));
const int = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const shard = fc.record({
  cid,
  root: bytes(32),
  provider: address,
  status: fc.constantFrom(ShardStatus.Ok, ShardStatus.Failed),
  since: int,
  provenEpoch: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER - 1 }),
});
const placementArb: fc.Arbitrary<Placement> = fc.record({
  owner: address,
  k: fc.integer({ min: 0, max: 16 }),
  m: fc.integer({ min: 0, max: 16 }),
  size: int,
  sealedKey: bytes(92),
  shardSize: fc.integer({ min: 0, max: MAX_SHARD_SIZE }),
  shards: fc.array(shard, { maxLength: 16 }),
  createdAt: int,
});
const providerArb: fc.Arbitrary<ProviderRecord> = fc.record({
  publicKey: bytes(32),
  capacity: int,
  used: int,
  addrs: fc.array(fc.string({ maxLength: 60 }), { maxLength: 8 }),
  registeredAt: int,
  faults: int,
  proofs: int,
});
const auditArb: fc.Arbitrary<AuditEpoch> = fc.record({ epoch: int, seed: bytes(32), startHeight: int });

function same(a: Placement, b: Placement): void {
  expect(Buffer.from(encodePlacement(a)).equals(Buffer.from(encodePlacement(b)))).toBe(true);
  expect(b.owner.equals(a.owner)).toBe(true);
  expect({ ...b, owner: 0, sealedKey: 0, shards: 0 }).toEqual({ ...a, owner: 0, sealedKey: 0, shards: 0 });
  expect(b.shards.length).toBe(a.shards.length);
  b.shards.forEach((s, i) => {
    const t = a.shards[i];
    expect(s.cid.equals(t.cid)).toBe(true);
    expect(s.provider.equals(t.provider)).toBe(true);
    expect(Buffer.from(s.root).equals(Buffer.from(t.root))).toBe(true);
    expect([s.status, s.since, s.provenEpoch]).toEqual([t.status, t.since, t.provenEpoch]);
  });
}

/** Every strict prefix and a trailing byte are refused. */
function rejectsMangled(enc: Uint8Array, decode: (b: Uint8Array) => unknown, cutAt: number, extra: number) {
  const b = Buffer.from(enc);
  expect(() => decode(b.subarray(0, cutAt % b.length))).toThrow(
    expect.objectContaining({ code: 'INVALID_RLP' }),
  );
  expect(() => decode(b.subarray(0, b.length - 1))).toThrow(expect.objectContaining({ code: 'INVALID_RLP' }));
  expect(() => decode(Buffer.concat([b, Buffer.from([extra])]))).toThrow(
    expect.objectContaining({ code: 'INVALID_RLP' }),
  );
}

describe('prov encodings (property)', () => {
  it('placements round-trip; truncated or extended encodings are refused', () => {
    fc.assert(
      fc.property(placementArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (p, cutAt, extra) => {
        const enc = encodePlacement(p);
        same(p, decodePlacement(enc));
        rejectsMangled(enc, decodePlacement, cutAt, extra);
      }),
      propertyParams('placement codec', 300),
    );
  });

  it('providers and audit epochs round-trip; truncated or extended encodings are refused', () => {
    fc.assert(
      fc.property(providerArb, auditArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (p, a, cutAt, extra) => {
        const pe = encodeProvider(p);
        const back = decodeProvider(pe);
        expect({ ...back, publicKey: Buffer.from(back.publicKey) }).toEqual({
          ...p,
          publicKey: Buffer.from(p.publicKey),
        });
        rejectsMangled(pe, decodeProvider, cutAt, extra);
        const ae = encodeAudit(a);
        const ab = decodeAudit(ae);
        expect([ab.epoch, ab.startHeight, Buffer.from(ab.seed).toString('hex')]).toEqual([
          a.epoch,
          a.startHeight,
          Buffer.from(a.seed).toString('hex'),
        ]);
        rejectsMangled(ae, decodeAudit, cutAt, extra);
      }),
      propertyParams('provider/audit codec', 300),
    );
  });
});

describe('prov encodings', () => {
  const owner = new Address(Buffer.alloc(20, 1));
  const c = shardCid(Buffer.alloc(32, 2));
  const shardFields = (over: Partial<Record<number, unknown>> = {}) =>
    [c.bytes, Buffer.alloc(32, 3), Buffer.alloc(20, 4), 1, 7, 0].map((f, i) => (i in over ? over[i] : f));
  const fields = (over: Partial<Record<number, unknown>> = {}) =>
    [owner.bytes, 2, 1, 100, Buffer.alloc(92), 64, [shardFields()], 9].map((f, i) =>
      i in over ? over[i] : f,
    );
  const dec = (f: unknown[]) => decodePlacement(encodeRlp(f as Parameters<typeof encodeRlp>[0]));

  it('fields out of range never decode', () => {
    const p = dec(fields());
    expect(p.shards[0]).toMatchObject({ status: ShardStatus.Failed, since: 7, provenEpoch: -1 });
    expect(healthyCount(p)).toBe(0);
    const bad: [string, unknown[]][] = [
      ['owner', fields({ 0: Buffer.alloc(19) })],
      ['k', fields({ 1: 17 })],
      ['m', fields({ 2: 17 })],
      ['sealedKey', fields({ 4: Buffer.alloc(91) })],
      ['shardSize', fields({ 5: MAX_SHARD_SIZE + 1 })],
      ['placement', fields().slice(0, 7)],
      ['placement', [...fields(), 0]],
      ['shards', fields({ 6: Buffer.alloc(3) })],
      ['shard', fields({ 6: [shardFields().slice(0, 5)] })],
      ['shard cid', fields({ 6: [shardFields({ 0: Buffer.from('no cid') })] })],
      ['shard cid', fields({ 6: [shardFields({ 0: Buffer.alloc(65, 1) })] })],
      ['root', fields({ 6: [shardFields({ 1: Buffer.alloc(31) })] })],
      ['provider', fields({ 6: [shardFields({ 2: Buffer.alloc(21) })] })],
      ['status', fields({ 6: [shardFields({ 3: 2 })] })],
      // Integers are canonical: no leading zero byte.
      ['size', fields({ 3: Buffer.from([0, 1]) })],
    ];
    for (const [what, f] of bad) expect(() => dec(f)).toThrow(new RegExp(`^${what}`));
    // A CIDv1 of another codec (dag-pb) or hash is not a shard CID.
    const dagPb = CID.createV1(0x70, c.multihash);
    expect(() => dec(fields({ 6: [shardFields({ 0: dagPb.bytes })] }))).toThrow(
      /must be a CIDv1 raw sha2-256/,
    );
    expect(() => decodeProvider(encodeRlp([Buffer.alloc(32), 1, 0, ['x'.repeat(257)], 0, 0, 0]))).toThrow(
      /^addr/,
    );
  });

  it('object id, hold message, challenge index and keys', () => {
    const other = new Address(Buffer.alloc(20, 9));
    const cids = [1, 2, 3].map((i) => shardCid(Buffer.alloc(32, i)));
    const id = objectId(owner, cids);
    expect(id.length).toBe(32);
    const h = createHash('sha256').update('vos/storage/obj/1').update(owner.bytes);
    for (const x of cids) h.update(x.bytes);
    expect(id.equals(h.digest())).toBe(true);
    // The id binds the owner and the shard CIDs in order.
    expect(objectId(other, cids).equals(id)).toBe(false);
    expect(objectId(owner, [cids[1], cids[0], cids[2]]).equals(id)).toBe(false);
    expect(objectId(owner, cids.slice(0, 2)).equals(id)).toBe(false);

    const root = Buffer.alloc(32, 5);
    const msg = holdMessage('vos-test', id, 1, cids[1], root, 4096);
    expect(msg.length).toBe(32);
    expect(holdMessage('vos-test', id, 1, cids[1], root, 4096).equals(msg)).toBe(true);
    for (const changed of [
      holdMessage('vos-other', id, 1, cids[1], root, 4096),
      holdMessage('vos-test', objectId(other, cids), 1, cids[1], root, 4096),
      holdMessage('vos-test', id, 2, cids[1], root, 4096),
      holdMessage('vos-test', id, 1, cids[2], root, 4096),
      holdMessage('vos-test', id, 1, cids[1], Buffer.alloc(32, 6), 4096),
      holdMessage('vos-test', id, 1, cids[1], root, 4097),
    ])
      expect(changed.equals(msg)).toBe(false);

    const seed = Buffer.alloc(32, 8);
    for (const segments of [1, 2, 3, 1000, 2 ** 30]) {
      for (let i = 0; i < 16; i++) {
        const at = challengeIndex(seed, id, i, segments);
        expect(Number.isInteger(at) && at >= 0 && at < segments).toBe(true);
        expect(challengeIndex(seed, id, i, segments)).toBe(at);
      }
    }
    // Over many seeds the challenge covers every segment.
    const hit = new Set<number>();
    for (let s = 0; s < 200; s++)
      hit.add(challengeIndex(createHash('sha256').update(`${s}`).digest(), id, 0, 7));
    expect(hit.size).toBe(7);

    expect(providerKey(owner).toString('latin1').startsWith('prov/node/')).toBe(true);
    expect(placementKey(id).equals(Buffer.concat([Buffer.from('prov/obj/'), id]))).toBe(true);
    expect(usageKey(owner).length).toBe('prov/use/'.length + 20);
    const json = placementToJSON(id, dec(fields()));
    expect(json).toMatchObject({
      k: 2,
      m: 1,
      size: 100,
      healthy: 0,
      shards: [{ index: 0, status: 'failed' }],
    });
  });
});
