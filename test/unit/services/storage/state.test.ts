/**
 * The distributed storage state machine on a real ledger (tx kinds 40-45 and the storage/audit block
 * hook), with blocks: providers register (capacity floor, not below what they hold); a placement with
 * every provider's hold signature commits and counts against the providers' capacity and the owner's
 * quota (a bad id, signature, a provider twice, a full provider, the quota refused); audit epochs begin
 * every auditInterval blocks; a proof of the challenged segment records the epoch (a wrong segment or
 * a non-holder refused); an unproven shard is faulted in the next epoch and repaired by another
 * provider; the owner alone deletes, which frees the bytes. Payloads that break the limits never decode.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { CID } from 'multiformats/cid';
import { asList, decodeRlp, encodeRlp } from '../../../../chain/codec.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { DEFAULT_STORAGE_PARAMS, type StorageParams } from '../../../../chain/ledger/params.js';
import { createTxFromRlp, Tx, type TxPayload } from '../../../../chain/tx/index.js';
import { txKindModule } from '../../../../chain/tx/kinds.js';
import { SEGMENT } from '../../../../services/storage/limits.js';
import { leavesOf, pathOf, rootOf, segmentCount } from '../../../../services/storage/merkle.js';
import {
  AUDIT_KEY,
  challengeIndex,
  decodeAudit,
  decodePlacement,
  decodeProvider,
  holdMessage,
  objectId,
  type Placement,
  placementKey,
  providerKey,
  ShardStatus,
  usageKey,
} from '../../../../services/storage/prov.js';
import { shardCid } from '../../../../services/storage/shards.js';
import {
  type PlaceBody,
  type SegmentProof,
  StorageTxKind,
  storagePayload,
} from '../../../../services/storage/state.js';
import { u64be } from '../../../../util/bytes.js';
import { BlockRunner, openTestChain, type TestChain } from '../../../helpers/chain.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(51));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(52));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(53));
const [p1, p2, p3, p4, p5] = [54, 55, 56, 57, 58].map((b) => PrivateKey.fromSeed(new Uint8Array(32).fill(b)));
const storage: StorageParams = {
  ...DEFAULT_STORAGE_PARAMS,
  auditInterval: 4,
  minCapacity: 2000,
  baseQuota: 20_000,
};
const CHAIN_ID = 'vos-test';

let chain: TestChain | undefined;
let run: BlockRunner;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

async function open(): Promise<TestChain> {
  chain = await openTestChain([validator], {
    params: { storage },
    extraAccounts: [alice, bob, p1, p2, p3, p4, p5].map((k) => ({
      address: k.address,
      balance: 100_000_000n,
    })),
  });
  run = new BlockRunner(chain, CHAIN_ID);
  return chain;
}

const tx = (key: PrivateKey, payload: TxPayload): Tx => run.tx(key, payload);
/** Commit one block with these txs; returns each tx's receipt error ('' = ok). */
const block = (...txs: Tx[]): Promise<string[]> => run.block(...txs);
const blocksUpTo = async (height: number) => {
  while (chain!.ledger.head.height < height) expect(await block()).toEqual([]);
};

interface TestObject {
  shards: Buffer[];
  cids: CID[];
  roots: Buffer[];
  shardSize: number;
}
function object(n: number, shardSize: number): TestObject {
  const shards = Array.from({ length: n }, () => randomBytes(shardSize));
  return {
    shards,
    cids: shards.map((s) => shardCid(createHash('sha256').update(s).digest())),
    roots: shards.map((s) => rootOf(s)),
    shardSize,
  };
}

/** A placement of `o` by `owner` on `holders` (shard i on holders[i]), each holder's hold signature. */
function place(
  owner: PrivateKey,
  o: TestObject,
  holders: PrivateKey[],
  opts: { size?: number; k?: number; id?: Uint8Array; signers?: PrivateKey[] } = {},
): PlaceBody {
  const id = opts.id ?? objectId(owner.address, o.cids);
  const k = opts.k ?? o.shards.length - 1;
  return {
    id,
    k,
    m: o.shards.length - k,
    // The size whose geometry (services/storage/geometry.ts) gives this shard size: one stripe.
    size: opts.size ?? k * o.shardSize - 24,
    sealedKey: randomBytes(92),
    shardSize: o.shardSize,
    shards: o.cids.map((cid, i) => ({
      cid,
      root: o.roots[i],
      provider: holders[i].address,
      signature: (opts.signers?.[i] ?? holders[i]).sign(
        holdMessage(CHAIN_ID, id, i, cid, o.roots[i], o.shardSize),
      ),
    })),
  };
}

async function placement(id: Uint8Array): Promise<Placement | undefined> {
  const v = await chain!.ledger.getState(placementKey(id));
  return v === undefined ? undefined : decodePlacement(v);
}
async function provider(key: PrivateKey) {
  const v = await chain!.ledger.getState(providerKey(key.address));
  return v === undefined ? undefined : decodeProvider(v);
}
async function usage(key: PrivateKey): Promise<number | undefined> {
  const v = await chain!.ledger.getState(usageKey(key.address));
  return v === undefined ? undefined : Number(Buffer.from(v).readBigUInt64BE(0));
}
async function audit() {
  const v = await chain!.ledger.getState(AUDIT_KEY);
  return v === undefined ? undefined : decodeAudit(v);
}
const used = async (...keys: PrivateKey[]) => Promise.all(keys.map(async (k) => (await provider(k))?.used));

/** The answer to this epoch's challenge for shard `index` of object `id` (segment + path). */
async function proofOf(o: TestObject, id: Uint8Array, index: number): Promise<SegmentProof> {
  const a = (await audit())!;
  const at = challengeIndex(a.seed, id, index, segmentCount(o.shardSize));
  const shard = o.shards[index];
  return {
    id,
    index,
    segment: shard.subarray(at * SEGMENT, (at + 1) * SEGMENT),
    path: pathOf(leavesOf(shard), at),
  };
}

describe('storage state machine', () => {
  it('register, place, prove, fault, repair, delete', async () => {
    await open();
    // Providers register: at least minCapacity.
    expect(
      await block(
        ...[p1, p2, p3, p4].map((p) =>
          tx(p, storagePayload.register({ capacity: 10_000, addrs: ['/ip4/1.2.3.4/tcp/1'] })),
        ),
        tx(p5, storagePayload.register({ capacity: 5000, addrs: [] })),
        tx(bob, storagePayload.register({ capacity: storage.minCapacity - 1, addrs: [] })),
      ),
    ).toEqual(['', '', '', '', '', 'STORAGE_CAPACITY_TOO_LOW']);
    expect(await provider(p1)).toMatchObject({
      capacity: 10_000,
      used: 0,
      addrs: ['/ip4/1.2.3.4/tcp/1'],
      registeredAt: 1,
      faults: 0,
      proofs: 0,
    });
    expect(Buffer.from((await provider(p1))!.publicKey).equals(Buffer.from(p1.publicKey))).toBe(true);
    expect(await provider(bob)).toBeUndefined();
    expect(await audit()).toBeUndefined();

    // Placements: 3 shards of 3000 bytes (3 segments each), k = 2.
    const o1 = object(3, 3000);
    const id1 = objectId(alice.address, o1.cids);
    const good = place(alice, o1, [p1, p2, p3]);
    const other = object(3, 3000);
    const full = object(3, 6000);
    expect(
      await block(
        tx(alice, storagePayload.place({ ...good, id: randomBytes(32) })),
        tx(alice, storagePayload.place(place(alice, o1, [p1, p2, p3], { signers: [p1, p3, p3] }))),
        tx(alice, storagePayload.place(place(alice, o1, [p1, p1, p2]))),
        tx(alice, storagePayload.place(place(alice, o1, [p1, bob, p2]))),
        tx(alice, storagePayload.place(place(alice, full, [p1, p2, p5]))),
        tx(alice, storagePayload.place(place(alice, o1, [p1, p2, p3], { size: storage.baseQuota + 1 }))),
        tx(bob, storagePayload.place(good)),
        tx(alice, storagePayload.place(good)),
        tx(alice, storagePayload.place(good)),
        // The quota counts what the owner already placed (5,976 of 20,000).
        tx(alice, storagePayload.place(place(alice, other, [p1, p2, p3], { size: 15_001 }))),
      ),
    ).toEqual([
      'STORAGE_BAD_ID',
      'STORAGE_BAD_HOLD_SIGNATURE',
      'STORAGE_PROVIDER_TWICE',
      'STORAGE_NOT_A_PROVIDER',
      'STORAGE_PROVIDER_FULL',
      'STORAGE_QUOTA_EXCEEDED',
      // bob's id is not his (the id binds the owner).
      'STORAGE_BAD_ID',
      '',
      'STORAGE_OBJECT_EXISTS',
      'STORAGE_QUOTA_EXCEEDED',
    ]);
    const placed = (await placement(id1))!;
    expect(placed).toMatchObject({ k: 2, m: 1, size: 5976, shardSize: 3000, createdAt: 2 });
    expect(placed.owner.equals(alice.address)).toBe(true);
    expect(Buffer.from(placed.sealedKey).equals(Buffer.from(good.sealedKey))).toBe(true);
    placed.shards.forEach((s, i) => {
      expect(s.cid.equals(o1.cids[i])).toBe(true);
      expect(Buffer.from(s.root).equals(o1.roots[i])).toBe(true);
      expect(s.provider.equals([p1, p2, p3][i].address)).toBe(true);
      expect(s).toMatchObject({ status: ShardStatus.Ok, since: 2, provenEpoch: -1 });
    });
    expect(await used(p1, p2, p3, p4, p5)).toEqual([3000, 3000, 3000, 0, 0]);
    expect(await usage(alice)).toBe(5976);
    expect(await usage(bob)).toBeUndefined();

    // Audit epoch 1 begins at the end of block 4, seeded by block 3's hash.
    await blocksUpTo(3);
    expect(await audit()).toBeUndefined();
    const prevHash = chain!.ledger.head.hash;
    await blocksUpTo(4);
    const a1 = (await audit())!;
    expect(a1).toMatchObject({ epoch: 1, startHeight: 4 });
    const seed = createHash('sha256')
      .update('vos/storage/seed/1')
      .update(prevHash)
      .update(u64be(4n))
      .digest();
    expect(Buffer.from(a1.seed).equals(seed)).toBe(true);

    // Epoch 1: p1 and p3 prove their shards; p2 does not.
    const proof0 = await proofOf(o1, id1, 0);
    const wrongSegment = Buffer.from(proof0.segment);
    wrongSegment[7] ^= 0x20;
    const at0 = challengeIndex(a1.seed, id1, 0, 3);
    const elsewhere = (at0 + 1) % 3;
    expect(
      await block(
        tx(p2, storagePayload.proof({ epoch: 1, proofs: [proof0] })),
        tx(p1, storagePayload.proof({ epoch: 1, proofs: [{ ...proof0, segment: wrongSegment }] })),
        // A real segment and its path, but not the one challenged.
        tx(
          p1,
          storagePayload.proof({
            epoch: 1,
            proofs: [
              {
                ...proof0,
                segment: o1.shards[0].subarray(elsewhere * SEGMENT, (elsewhere + 1) * SEGMENT),
                path: pathOf(leavesOf(o1.shards[0]), elsewhere),
              },
            ],
          }),
        ),
        tx(p1, storagePayload.proof({ epoch: 2, proofs: [proof0] })),
        tx(p1, storagePayload.proof({ epoch: 1, proofs: [{ ...proof0, id: randomBytes(32) }] })),
        tx(p1, storagePayload.proof({ epoch: 1, proofs: [proof0] })),
        tx(p3, storagePayload.proof({ epoch: 1, proofs: [await proofOf(o1, id1, 2)] })),
        // No fault yet for the epoch under way (nor for epoch 0).
        tx(bob, storagePayload.fault({ id: id1, index: 1, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id1, index: 1, epoch: 0 })),
      ),
    ).toEqual([
      'STORAGE_NOT_HOLDER',
      'STORAGE_BAD_PROOF',
      'STORAGE_BAD_PROOF',
      'STORAGE_WRONG_EPOCH',
      'STORAGE_OBJECT_NOT_FOUND',
      '',
      '',
      'STORAGE_WRONG_EPOCH',
      'STORAGE_WRONG_EPOCH',
    ]);
    expect((await placement(id1))!.shards.map((s) => s.provenEpoch)).toEqual([1, -1, 1]);
    expect((await provider(p1))!.proofs).toBe(1);
    expect((await provider(p2))!.proofs).toBe(0);

    // A second object placed during epoch 1 (after it began): not due until epoch 2.
    const o2 = object(3, 1000);
    const id2 = objectId(alice.address, o2.cids);
    expect(await block(tx(alice, storagePayload.place(place(alice, o2, [p1, p3, p4]))))).toEqual(['']);
    expect(await used(p1, p2, p3, p4)).toEqual([4000, 3000, 4000, 1000]);
    expect(await usage(alice)).toBe(7952);
    // One tx proves shards of two objects; a provider may not shrink below what it holds.
    expect(
      await block(
        tx(
          p3,
          storagePayload.proof({ epoch: 1, proofs: [await proofOf(o1, id1, 2), await proofOf(o2, id2, 1)] }),
        ),
        tx(p1, storagePayload.register({ capacity: 3999, addrs: [] })),
        tx(p1, storagePayload.register({ capacity: 12_000, addrs: ['/dns4/p1/tcp/2'] })),
      ),
    ).toEqual(['', 'STORAGE_CAPACITY_BELOW_USED', '']);
    expect((await provider(p3))!.proofs).toBe(2);
    expect((await placement(id2))!.shards.map((s) => s.provenEpoch)).toEqual([-1, 1, -1]);
    // Re-registering keeps what it holds and when it registered.
    expect(await provider(p1)).toMatchObject({ capacity: 12_000, used: 4000, registeredAt: 1, proofs: 1 });

    // Epoch 2 begins at the end of block 8: faults for epoch 1.
    await blocksUpTo(8);
    expect(await audit()).toMatchObject({ epoch: 2, startHeight: 8 });
    expect(
      await block(
        tx(bob, storagePayload.fault({ id: id1, index: 1, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id1, index: 0, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id1, index: 1, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id1, index: 5, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id2, index: 0, epoch: 1 })),
        tx(bob, storagePayload.fault({ id: id1, index: 1, epoch: 2 })),
        // Proofs for the epoch that closed come too late.
        tx(p2, storagePayload.proof({ epoch: 1, proofs: [proof0] })),
      ),
    ).toEqual([
      '',
      'STORAGE_NOT_FAULTY',
      'STORAGE_ALREADY_FAILED',
      'STORAGE_NO_SUCH_SHARD',
      'STORAGE_NOT_FAULTY',
      'STORAGE_WRONG_EPOCH',
      'STORAGE_WRONG_EPOCH',
    ]);
    let now = (await placement(id1))!;
    expect(now.shards.map((s) => s.status)).toEqual([ShardStatus.Ok, ShardStatus.Failed, ShardStatus.Ok]);
    expect((await provider(p2))!.faults).toBe(1);
    expect((await provider(p1))!.faults).toBe(0);

    // Repair: by another provider with room; not by the failed holder, a non-provider, or of a healthy shard.
    expect(
      await block(
        tx(p4, storagePayload.repair({ id: id1, index: 0 })),
        tx(p2, storagePayload.repair({ id: id1, index: 1 })),
        tx(bob, storagePayload.repair({ id: id1, index: 1 })),
        tx(p4, storagePayload.repair({ id: id1, index: 7 })),
        tx(p4, storagePayload.repair({ id: randomBytes(32), index: 1 })),
        tx(p4, storagePayload.repair({ id: id1, index: 1 })),
        tx(p5, storagePayload.repair({ id: id1, index: 1 })),
      ),
    ).toEqual([
      'STORAGE_NOT_FAILED',
      'STORAGE_SAME_PROVIDER',
      'STORAGE_NOT_A_PROVIDER',
      'STORAGE_NO_SUCH_SHARD',
      'STORAGE_OBJECT_NOT_FOUND',
      '',
      'STORAGE_NOT_FAILED',
    ]);
    now = (await placement(id1))!;
    expect(now.shards[1].provider.equals(p4.address)).toBe(true);
    expect(now.shards[1]).toMatchObject({ status: ShardStatus.Ok, since: 10, provenEpoch: -1 });
    expect(now.shards[1].cid.equals(o1.cids[1])).toBe(true);
    expect(await used(p1, p2, p3, p4, p5)).toEqual([4000, 0, 4000, 4000, 0]);
    expect(await usage(alice)).toBe(7952);

    // Delete: the owner only; frees the providers' bytes and the owner's quota.
    expect(await block(tx(bob, storagePayload.delete(id1)), tx(alice, storagePayload.delete(id1)))).toEqual([
      'STORAGE_NOT_OWNER',
      '',
    ]);
    expect(await placement(id1)).toBeUndefined();
    expect(await used(p1, p2, p3, p4, p5)).toEqual([1000, 0, 1000, 1000, 0]);
    expect(await usage(alice)).toBe(1976);
    expect(await block(tx(alice, storagePayload.delete(id1)), tx(alice, storagePayload.delete(id2)))).toEqual(
      ['STORAGE_OBJECT_NOT_FOUND', ''],
    );
    expect(await used(p1, p2, p3, p4, p5)).toEqual([0, 0, 0, 0, 0]);
    expect(await usage(alice)).toBeUndefined();
    // The same shards may be placed again once deleted (and the quota is free again).
    expect(await block(tx(alice, storagePayload.place(place(alice, o1, [p1, p2, p3]))))).toEqual(['']);
    expect(await usage(alice)).toBe(5976);
  });

  it('audit epochs begin at every multiple of auditInterval, each with a fresh seed', async () => {
    await open();
    const seen: { epoch: number; startHeight: number; seed: string }[] = [];
    for (let h = 1; h <= 13; h++) {
      await block();
      const a = await audit();
      if (h < 4) expect(a).toBeUndefined();
      else {
        expect(a).toMatchObject({ epoch: Math.floor(h / 4), startHeight: Math.floor(h / 4) * 4 });
        if (seen.at(-1)?.epoch !== a!.epoch)
          seen.push({
            epoch: a!.epoch,
            startHeight: a!.startHeight,
            seed: Buffer.from(a!.seed).toString('hex'),
          });
      }
    }
    expect(seen.map((s) => s.startHeight)).toEqual([4, 8, 12]);
    expect(new Set(seen.map((s) => s.seed)).size).toBe(3);
  });

  it('payloads that break the limits never decode; a storage tx round-trips through its wire bytes', () => {
    const decode = (kind: StorageTxKind, fields: unknown[]) =>
      txKindModule(kind)!.decode(
        asList(decodeRlp(encodeRlp(fields as Parameters<typeof encodeRlp>[0]), 'p'), 'p'),
      );
    const o = object(3, 1000);
    const body = place(alice, o, [p1, p2, p3]);
    const shardFields = body.shards.map((s) => [s.cid.bytes, s.root, s.provider.bytes, s.signature]);
    const fields = (over: Partial<Record<number, unknown>> = {}) =>
      [body.id, 2, 1, 5000, body.sealedKey, 1000, shardFields].map((f, i) => (i in over ? over[i] : f));
    const placed = decode(StorageTxKind.Place, fields()) as PlaceBody;
    expect(placed).toMatchObject({ k: 2, m: 1, size: 5000, shardSize: 1000 });
    expect(placed.shards.map((s) => s.provider.toString())).toEqual(
      [p1, p2, p3].map((p) => p.address.toString()),
    );
    const bad: [string, unknown[]][] = [
      ['k', fields({ 1: 0 })],
      ['k', fields({ 2: 0 })],
      ['k', fields({ 1: 10, 2: 7 })],
      ['k', fields({ 1: 17 })],
      ['shards', fields({ 1: 3 })],
      ['shardSize', fields({ 5: 0 })],
      ['shardSize', fields({ 5: 2 ** 40 + 1 })],
      ['sealedKey', fields({ 4: randomBytes(91) })],
      ['id', fields({ 0: randomBytes(31) })],
      [
        'shard cid',
        fields({ 6: [[Buffer.from('not a cid'), ...shardFields[0].slice(1)], ...shardFields.slice(1)] }),
      ],
      [
        'signature',
        fields({ 6: [[...shardFields[0].slice(0, 3), randomBytes(63)], ...shardFields.slice(1)] }),
      ],
      ['tx.payload', fields().slice(0, 6)],
    ];
    for (const [what, f] of bad) expect(() => decode(StorageTxKind.Place, f)).toThrow(new RegExp(`^${what}`));
    // A CIDv1 of the dag-pb codec is not a shard CID.
    const dagPbCid = Buffer.from(`01701220${'11'.repeat(32)}`, 'hex');
    expect(() =>
      decode(
        StorageTxKind.Place,
        fields({ 6: [[dagPbCid, ...shardFields[0].slice(1)], ...shardFields.slice(1)] }),
      ),
    ).toThrow(/^shard cid: must be a CIDv1 raw sha2-256/);

    const proof = [body.id, 0, randomBytes(SEGMENT), [randomBytes(32)]];
    expect(decode(StorageTxKind.Proof, [1, [proof]])).toMatchObject({ epoch: 1 });
    expect(() => decode(StorageTxKind.Proof, [1, []])).toThrow(/^proofs/);
    expect(() => decode(StorageTxKind.Proof, [1, Array(25).fill(proof)])).toThrow(/^proofs/);
    expect(() => decode(StorageTxKind.Proof, [1, [[body.id, 0, randomBytes(SEGMENT + 1), []]]])).toThrow(
      /^segment/,
    );
    expect(() => decode(StorageTxKind.Proof, [1, [[body.id, 16, randomBytes(10), []]]])).toThrow(/^index/);
    expect(() =>
      decode(StorageTxKind.Proof, [1, [[body.id, 0, randomBytes(10), Array(41).fill(randomBytes(32))]]]),
    ).toThrow(/^path/);
    expect(() =>
      decode(StorageTxKind.Proof, [1, [[body.id, 0, randomBytes(10), [randomBytes(31)]]]]),
    ).toThrow(/^path hash/);
    expect(() => decode(StorageTxKind.ProviderRegister, [5000, Array(9).fill('/ip4/1.1.1.1/tcp/1')])).toThrow(
      /^addrs/,
    );
    expect(() => decode(StorageTxKind.ProviderRegister, [5000])).toThrow(/^tx.payload/);
    expect(() => decode(StorageTxKind.Fault, [body.id, 16, 1])).toThrow(/^index/);
    expect(() => decode(StorageTxKind.Repair, [body.id.subarray(1), 0])).toThrow(/^id/);
    expect(() => decode(StorageTxKind.Delete, [body.id, 1])).toThrow(/^tx.payload/);

    for (const payload of [
      storagePayload.register({ capacity: 5000, addrs: ['/ip4/1.2.3.4/tcp/1'] }),
      storagePayload.place(body),
      storagePayload.proof({
        epoch: 3,
        proofs: [{ id: body.id, index: 1, segment: randomBytes(100), path: [] }],
      }),
      storagePayload.fault({ id: body.id, index: 2, epoch: 3 }),
      storagePayload.repair({ id: body.id, index: 2 }),
      storagePayload.delete(body.id),
    ]) {
      const signed = Tx.sign(
        { chainId: CHAIN_ID, nonce: 7n, payload, gasLimit: 200_000n, gasPrice: 1n },
        alice,
      );
      expect(createTxFromRlp(signed.serialize()).hash()).toEqual(signed.hash());
    }
    expect([40, 41, 42, 43, 44, 45]).toEqual([
      StorageTxKind.ProviderRegister,
      StorageTxKind.Place,
      StorageTxKind.Proof,
      StorageTxKind.Fault,
      StorageTxKind.Repair,
      StorageTxKind.Delete,
    ]);
  });
});
