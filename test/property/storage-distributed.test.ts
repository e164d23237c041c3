/**
 * Distributed objects (services/storage/distributed.ts) end to end in memory, fast-check with printed
 * seeds: encodeToShards into in-memory sinks (each computes its shard's CID and Merkle root itself, as
 * a provider's ShardWriter does), then plainObject from any k healthy shards gives the bytes back
 * (failed shards never read; a holder that breaks midway replaced by the next healthy one), fewer than
 * k is NOT_ENOUGH_SHARDS, rebuildShard(i) gives shard i's bytes from the others, the object CID is the
 * IPFS importer's, and no 16 bytes of a structured plaintext appear in any shard.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { PeerId } from '@libp2p/interface';
import fc from 'fast-check';
import { importer } from 'ipfs-unixfs-importer';
import type { CID } from 'multiformats/cid';
import { Address } from '../../chain/address.js';
import {
  type EncodedObject,
  encodeToShards,
  geometry,
  plainObject,
  rebuildShard,
  type ShardSink,
  type ShardSources,
  sealedObject,
} from '../../services/storage/distributed.js';
import { PIECE } from '../../services/storage/limits.js';
import { IMPORT_OPTIONS, LocalStore } from '../../services/storage/local.js';
import { MerkleBuilder, rootOf } from '../../services/storage/merkle.js';
import type { StorageProtocol } from '../../services/storage/protocol.js';
import { type Placement, ShardStatus } from '../../services/storage/prov.js';
import { decryptObject, SEAL_CHUNK, sealedSizeOf } from '../../services/storage/seal.js';
import { shardCid } from '../../services/storage/shards.js';
import { propertyParams } from '../fc-params.js';

/** Deterministic pseudo-random bytes from a seed (AES-CTR keystream: fast, reproducible from VOS_SEED). */
function bytesOf(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeInt32BE(seed | 0, 0);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** A seeded shuffle (mulberry32) of 0..n-1. */
function shuffled(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function* pieces(bytes: Buffer, cut: number): AsyncGenerator<Uint8Array> {
  // Cut sizes vary (cut, cut/3, ...) and include empty pieces.
  let i = 0;
  let step = 0;
  while (i < bytes.length) {
    const n = step % 5 === 4 ? 0 : Math.max(1, Math.floor(cut / (1 + (step % 3))));
    yield bytes.subarray(i, i + n);
    i += n;
    step++;
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '';
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  }
}

/** What a provider does with a shard it is sent: keeps the bytes, computes their CID and root itself. */
class MemorySink implements ShardSink {
  readonly parts: Buffer[] = [];
  readonly #hash = createHash('sha256');
  readonly #tree = new MerkleBuilder();
  aborted: Error | undefined;
  constructor(
    readonly lie = false,
    readonly failWrite = false,
  ) {}
  async write(bytes: Uint8Array): Promise<void> {
    if (this.failWrite) throw new Error('disk full');
    // A copy: a sink must not depend on the encoder keeping its buffers.
    this.parts.push(Buffer.from(bytes));
    this.#hash.update(bytes);
    this.#tree.update(bytes);
  }
  async end(): Promise<{ cid: CID; root: Uint8Array }> {
    const digest = this.#hash.digest();
    if (this.lie) digest[0] ^= 1;
    return { cid: shardCid(digest), root: this.#tree.digest() };
  }
  abort(err: Error): void {
    this.aborted = err;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The CID the IPFS importer gives the same bytes with the same settings (blocks dropped). */
async function importerCid(bytes: Buffer): Promise<CID> {
  let root: CID | undefined;
  for await (const e of importer(
    [{ content: [bytes] }],
    { put: async (c: CID) => c } as never,
    IMPORT_OPTIONS,
  ))
    root = e.cid;
  return root!;
}

const providerOf = (i: number) => new Address(Buffer.alloc(20, i + 1));

function placementOf(enc: EncodedObject, size: number, k: number, m: number, ok: Set<number>): Placement {
  return {
    owner: new Address(Buffer.alloc(20, 0xee)),
    k,
    m,
    size,
    sealedKey: Buffer.alloc(92),
    shardSize: enc.shardSize,
    shards: enc.shards.map((s, i) => ({
      cid: s.cid,
      root: s.root,
      provider: providerOf(i),
      status: ok.has(i) ? ShardStatus.Ok : ShardStatus.Failed,
      since: 0,
      provenEpoch: -1,
    })),
    createdAt: 0,
  };
}

/** Ranges asked that do not run from a piece boundary to the end of the shard (must stay empty). */
const wrong: string[] = [];

/**
 * Holders serving in-memory shards by CID, in uneven chunks from the offset asked; a holder in
 * `breakAt` fails once it reaches that byte of its shard. Records which holders were asked.
 */
function sourcesOf(
  shards: Buffer[],
  cids: CID[],
  opts: { chunk?: number; breakAt?: Map<number, number> } = {},
): { src: ShardSources; asked: Set<number>; peers: Set<string> } {
  const byPeer = new Map(cids.map((_, i) => [`peer:${providerOf(i)}`, i]));
  const asked = new Set<number>();
  const peers = new Set<string>();
  const chunk = opts.chunk ?? 40_000;
  const protocol = {
    async *getShard(peer: PeerId, cid: CID, offset: number, length: number): AsyncGenerator<Uint8Array> {
      // By holder (with k = 1 every shard is the same bytes, so the same CID): it must ask for its own.
      const i = byPeer.get(String(peer));
      if (i === undefined) throw new Error(`no holder ${String(peer)}`);
      if (!cid.equals(cids[i])) wrong.push(`${i}: asked for ${cid}`);
      asked.add(i);
      peers.add(String(peer));
      const bytes = shards[i];
      if (offset + length !== bytes.length || offset % 8 !== 0) wrong.push(`${i}: ${offset}+${length}`);
      const stop = opts.breakAt?.get(i);
      let at = offset;
      let step = 0;
      while (at < offset + length) {
        const n = Math.min(offset + length - at, Math.max(1, chunk >> (step % 4)));
        if (stop !== undefined && at + n > stop) {
          if (stop > at) yield bytes.subarray(at, stop);
          throw new Error(`holder of shard ${i} went away at ${stop}`);
        }
        yield bytes.subarray(at, at + n);
        at += n;
        step++;
      }
    },
  };
  const src: ShardSources = {
    protocol: protocol as unknown as StorageProtocol,
    peerOf: (address: string) => `peer:${address}` as unknown as PeerId,
  };
  return { src, asked, peers };
}

async function encode(bytes: Buffer, k: number, m: number, cut: number) {
  const sinks = Array.from({ length: k + m }, () => new MemorySink());
  const enc = await encodeToShards(pieces(bytes, cut), bytes.length, k, m, sinks);
  return { enc, sinks, shards: sinks.map((s) => s.bytes) };
}

/** The full check for one object: encoding, reads from k (and fewer), rebuilds, the CID. */
async function checkObject(bytes: Buffer, k: number, m: number, cut: number, seed: number): Promise<void> {
  const n = k + m;
  const size = bytes.length;
  const { enc, sinks, shards } = await encode(bytes, k, m, cut);
  const g = geometry(size, k);
  // Geometry: every sink got shardSize bytes; the shards hold the sealed object (plus zero padding).
  expect(enc.shardSize).toBe(g.shardSize);
  expect(g.piece % 8).toBe(0);
  expect(g.piece).toBeLessThanOrEqual(PIECE);
  expect(g.stripes * k * g.piece).toBeGreaterThanOrEqual(sealedSizeOf(size));
  expect((g.stripes - 1) * k * g.piece).toBeLessThan(sealedSizeOf(size));
  expect(sinks.every((s) => s.aborted === undefined)).toBe(true);
  expect(enc.shards.length).toBe(n);
  for (let i = 0; i < n; i++) {
    expect(shards[i].length).toBe(g.shardSize);
    expect(enc.shards[i].cid.equals(shardCid(createHash('sha256').update(shards[i]).digest()))).toBe(true);
    expect(enc.shards[i].root.equals(rootOf(shards[i]))).toBe(true);
  }
  expect(enc.cid.toString()).toBe((await importerCid(bytes)).toString());
  const cids = enc.shards.map((s) => s.cid);

  // Any k..n healthy shards (the rest failed) give the plaintext back; failed shards are never read.
  const order = shuffled(n, seed);
  const healthy = new Set(order.slice(0, k + ((seed >>> 3) % (m + 1))));
  const read = sourcesOf(shards, cids, { chunk: 256 + (seed % 70_000) });
  const placement = placementOf(enc, size, k, m, healthy);
  expect((await collect(plainObject(placement, read.src, enc.objectKey))).equals(bytes)).toBe(true);
  for (const i of read.asked) expect(healthy.has(i)).toBe(true);
  expect(read.asked.size).toBeGreaterThanOrEqual(k);
  expect([...read.peers].every((p) => p.startsWith('peer:vos1'))).toBe(true);
  // The sealed stream is the ciphertext encodeToShards sealed (it opens with the object key).
  const sealed = await collect(sealedObject(placement, sourcesOf(shards, cids).src));
  expect(sealed.length).toBe(sealedSizeOf(size));
  expect(decryptObject(sealed, enc.objectKey).equals(bytes)).toBe(true);

  // Fewer than k healthy: NOT_ENOUGH_SHARDS.
  const few = placementOf(enc, size, k, m, new Set(order.slice(0, k - 1)));
  expect(await codeOf(collect(plainObject(few, sourcesOf(shards, cids).src, enc.objectKey)))).toBe(
    'NOT_ENOUGH_SHARDS',
  );

  // k + 1 or more healthy, one breaks midway: the next healthy holder takes over from that stripe.
  if (m >= 1 && healthy.size > k) {
    const victim = [...healthy].sort((a, b) => a - b)[0];
    const breakAt = new Map([[victim, (seed >>> 5) % g.shardSize]]);
    const flaky = sourcesOf(shards, cids, { breakAt });
    expect((await collect(plainObject(placement, flaky.src, enc.objectKey))).equals(bytes)).toBe(true);
  }
  // Exactly k healthy, one breaks: nothing to replace it.
  const exact = placementOf(enc, size, k, m, new Set(order.slice(0, k)));
  const broken = sourcesOf(shards, cids, { breakAt: new Map([[order[0], (seed >>> 7) % g.shardSize]]) });
  expect(await codeOf(collect(plainObject(exact, broken.src, enc.objectKey)))).toBe('NOT_ENOUGH_SHARDS');

  // Every shard rebuilds from k others (it is failed, as repair sees it); with k - 1 others it cannot.
  for (let i = 0; i < n; i++) {
    const others = shuffled(n, seed + i).filter((x) => x !== i);
    const p = placementOf(enc, size, k, m, new Set(others.slice(0, k)));
    const src = sourcesOf(shards, cids);
    expect((await collect(rebuildShard(p, i, src.src))).equals(shards[i])).toBe(true);
    expect(src.asked.has(i)).toBe(false);
    // Healthy itself: still rebuilt from the others, never read.
    const all = sourcesOf(shards, cids);
    const pAll = placementOf(enc, size, k, m, new Set([...Array(n).keys()]));
    expect((await collect(rebuildShard(pAll, i, all.src))).equals(shards[i])).toBe(true);
    expect(all.asked.has(i)).toBe(false);
  }
  expect(wrong).toEqual([]);
  const lone = placementOf(enc, size, k, m, new Set(order.filter((x) => x !== 0).slice(0, k - 1)));
  expect(await codeOf(collect(rebuildShard(lone, 0, sourcesOf(shards, cids).src)))).toBe('NOT_ENOUGH_SHARDS');
}

const codes = fc.record({ k: fc.integer({ min: 1, max: 4 }), m: fc.integer({ min: 1, max: 3 }) });

describe('distributed objects (property)', () => {
  it('encode, read from any k, fewer than k fails, rebuild each shard, the CID is the importer’s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: 300 * 1024 }),
          fc.integer({ min: 0, max: 64 }),
          fc.integer({ min: -30, max: 30 }).map((d) => SEAL_CHUNK + d),
        ),
        codes,
        fc.integer({ min: 100, max: 100_000 }),
        fc.nat(),
        async (size, { k, m }, cut, seed) => {
          await checkObject(bytesOf(size, seed), k, m, cut, seed);
        },
      ),
      propertyParams('distributed round trip', 30),
    );
  }, 60_000);

  it('several stripes (above 256 KiB x k): the same, and LocalStore gives the same CID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vos-prop-dist-'));
    const store = await LocalStore.open(dir);
    try {
      await fc.assert(
        fc.asyncProperty(
          codes,
          fc.integer({ min: 1, max: 200_000 }),
          fc.integer({ min: 16 * 1024, max: PIECE }),
          fc.nat(),
          async ({ k, m }, extra, cut, seed) => {
            const bytes = bytesOf(PIECE * k + extra, seed);
            expect(geometry(bytes.length, k).stripes).toBeGreaterThanOrEqual(2);
            await checkObject(bytes, k, m, cut, seed);
            const sinks = Array.from({ length: k + m }, () => new MemorySink());
            const enc = await encodeToShards(pieces(bytes, cut), bytes.length, k, m, sinks);
            expect(enc.cid.toString()).toBe((await store.put(pieces(bytes, cut))).cid.toString());
          },
        ),
        propertyParams('distributed several stripes', 4),
      );
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('holders cannot read: no 16-byte window of a structured plaintext appears in any shard', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[ -~]{8,60}$/), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 400 }),
        codes,
        async (lines, repeat, { k, m }) => {
          const plain = Buffer.from(
            Array(repeat)
              .fill(`${lines.join('\n')}\n`)
              .join(''),
          );
          const { shards } = await encode(plain, k, m, 4096);
          // Repeated lines: few distinct windows; check each once.
          const windows = new Set<string>();
          for (let i = 0; i + 16 <= plain.length && windows.size < 5000; i++)
            windows.add(plain.subarray(i, i + 16).toString('latin1'));
          for (const w of windows) {
            const needle = Buffer.from(w, 'latin1');
            for (const s of shards) expect(s.includes(needle)).toBe(false);
          }
        },
      ),
      propertyParams('distributed holders cannot read', 20),
    );
  });

  it('encodeToShards aborts every sink on a lying sink, a failing sink, or a source of another length', async () => {
    const bytes = bytesOf(70_000, 5);
    const k = 3;
    const m = 2;
    const run = async (size: number, sinks: MemorySink[], src = bytes) => {
      const code = await codeOf(encodeToShards(pieces(src, 9000), size, k, m, sinks));
      expect(sinks.every((s) => s.aborted !== undefined)).toBe(true);
      return code;
    };
    const mk = (f: (i: number) => MemorySink) => Array.from({ length: k + m }, (_, i) => f(i));
    expect(
      await run(
        bytes.length,
        mk((i) => new MemorySink(i === 3)),
      ),
    ).toBe('SHARD_MISMATCH');
    expect(
      await run(
        bytes.length,
        mk((i) => new MemorySink(false, i === 1)),
      ),
    ).toBe('disk full');
    expect(
      await run(
        bytes.length - 1,
        mk(() => new MemorySink()),
      ),
    ).toBe('INVALID_SEALED');
    expect(
      await run(
        bytes.length + 1,
        mk(() => new MemorySink()),
      ),
    ).toBe('INVALID_SEALED');
    expect(
      await run(
        0,
        mk(() => new MemorySink()),
      ),
    ).toBe('INVALID_SEALED');
    // And the same object encodes twice to different shards (a fresh key each time), same CID.
    const a = await encode(bytes, k, m, 9000);
    const b = await encode(bytes, k, m, 5000);
    expect(a.enc.cid.equals(b.enc.cid)).toBe(true);
    expect(a.shards[0].equals(b.shards[0])).toBe(false);
    expect(a.enc.objectKey.equals(b.enc.objectKey)).toBe(false);
  });
});
