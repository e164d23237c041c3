/**
 * Storage properties (fast-check, printed seeds): any k of the k + m Reed-Solomon shards rebuild the
 * object and fewer than k fail with NOT_ENOUGH_SHARDS; CIDs are deterministic and equal the IPFS
 * importer's for the same bytes and settings however the stream is cut; sealing round-trips, any
 * flipped bit fails authentication, another key cannot open it, and no 16 bytes of the plaintext
 * appear in any shard.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { importer } from 'ipfs-unixfs-importer';
import type { CID } from 'multiformats/cid';
import { PrivateKey } from '../../chain/keys.js';
import { decodeShards, encodeShards, reconstructShards } from '../../services/storage/erasure.js';
import { IMPORT_OPTIONS, LocalStore } from '../../services/storage/local.js';
import {
  decryptObject,
  encryptObject,
  newObjectKey,
  openKey,
  SEAL_CHUNK,
  sealKey,
} from '../../services/storage/seal.js';
import { propertyParams } from '../fc-params.js';

const codes = fc.record({ k: fc.integer({ min: 1, max: 8 }), m: fc.integer({ min: 1, max: 6 }) });

describe('Reed-Solomon (property)', () => {
  it('any k of n shards rebuild the object', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        codes,
        fc.array(fc.nat(), { maxLength: 6 }),
        async (bytes, { k, m }, drops) => {
          const shards: (Buffer | null)[] = await encodeShards(bytes, k, m);
          for (const d of drops.slice(0, m)) shards[d % (k + m)] = null;
          expect(await decodeShards(shards, k, m, bytes.length)).toEqual(Buffer.from(bytes));
          // Repair gives back exactly the shards that were lost.
          const all = await reconstructShards(shards, k, m);
          expect(Buffer.concat(all)).toEqual(Buffer.concat(await encodeShards(bytes, k, m)));
        },
      ),
      propertyParams('rs any k of n', 200),
    );
  });

  it('fewer than k shards fail with NOT_ENOUGH_SHARDS', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2000 }), codes, async (bytes, { k, m }) => {
        const shards: (Buffer | null)[] = await encodeShards(bytes, k, m);
        for (let i = 0; i < m + 1; i++) shards[i] = null;
        await expect(decodeShards(shards, k, m, bytes.length)).rejects.toMatchObject({
          code: 'NOT_ENOUGH_SHARDS',
        });
      }),
      propertyParams('rs fewer than k', 100),
    );
  });
});

describe('CIDs (property)', () => {
  let dir = '';
  let store: LocalStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-prop-cid-'));
    store = await LocalStore.open(dir);
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("equal the importer's (same settings, a plain in-memory blockstore) however the stream is cut", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 700 * 1024 }),
        fc.integer({ min: 1, max: 300 * 1024 }),
        fc.integer(),
        async (size, cut, seed) => {
          const bytes = Buffer.alloc(size);
          for (let i = 0; i < size; i++) bytes[i] = (Math.imul(seed ^ i, 2654435761) >>> 24) & 0xff;
          async function* pieces() {
            for (let i = 0; i < size; i += cut) yield bytes.subarray(i, i + cut);
          }
          const ours = await store.put(pieces());
          const blocks = new Map<string, Uint8Array>();
          let theirs: CID | undefined;
          for await (const e of importer(
            [{ content: [bytes] }],
            {
              put: async (c: CID, b: Uint8Array) => {
                blocks.set(c.toString(), b);
                return c;
              },
            },
            IMPORT_OPTIONS,
          ))
            theirs = e.cid;
          expect(ours.cid.toString()).toBe(theirs?.toString());
          expect(ours.size).toBe(size);
        },
      ),
      propertyParams('cid = importer', 15),
    );
  }, 120_000);
});

describe('sealing (property)', () => {
  const owner = PrivateKey.fromSeed(new Uint8Array(32).fill(77));
  const other = PrivateKey.fromSeed(new Uint8Array(32).fill(78));

  it('round-trips; any flipped bit fails authentication', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 * SEAL_CHUNK + 100 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (len, at, bit) => {
          const plain = Buffer.alloc(len, 0x61);
          const key = newObjectKey();
          const sealed = encryptObject(plain, key);
          // (Buffer.equals: jest's deep equality walks a buffer byte by byte.)
          expect(decryptObject(sealed, key).equals(plain)).toBe(true);
          const flipped = Buffer.from(sealed);
          flipped[at % flipped.length] ^= 1 << bit;
          expect(() => decryptObject(flipped, key)).toThrow(
            expect.objectContaining({ code: 'DECRYPT_FAILED' }),
          );
        },
      ),
      propertyParams('seal flip', 60),
    );
  });

  it('a cut-short object fails; the object key opens only with the owner key', () => {
    const key = newObjectKey();
    const sealed = encryptObject(Buffer.alloc(SEAL_CHUNK * 2 + 5, 1), key);
    expect(() => decryptObject(sealed.subarray(0, 8 + SEAL_CHUNK + 16), key)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
    const wrapped = sealKey(key, owner.publicKey);
    expect(openKey(wrapped, owner.exportSeed())).toEqual(key);
    expect(() => openKey(wrapped, other.exportSeed())).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
  });

  it('no 16-byte substring of the plaintext appears in any shard of the sealed, coded object', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 40, maxLength: 400 }), codes, async (text, { k, m }) => {
        const plain = Buffer.from(text.repeat(20));
        const shards = await encodeShards(encryptObject(plain, newObjectKey()), k, m);
        for (let i = 0; i + 16 <= plain.length; i += 7) {
          const window = plain.subarray(i, i + 16);
          for (const s of shards) expect(s.includes(window)).toBe(false);
        }
      }),
      propertyParams('seal no plaintext in shards', 50),
    );
  });
});
