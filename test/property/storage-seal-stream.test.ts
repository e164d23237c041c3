/**
 * Streamed sealing (services/storage/seal.ts) under fast-check, printed seeds: sealStream over any
 * chunking of the plaintext gives the bytes encryptObject gives with the same nonce prefix (and
 * sealedSizeOf of them); openSealedStream over any chunking of the sealed bytes gives the plaintext
 * back; a flipped bit anywhere fails (DECRYPT_FAILED or INVALID_SEALED); a source longer or shorter
 * than the declared size fails either way.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrivateKey } from '../../chain/keys.js';
import {
  decryptObject,
  encryptObject,
  newObjectKey,
  openKey,
  openSealedStream,
  SEAL_CHUNK,
  SealError,
  sealedSizeOf,
  sealKey,
  sealStream,
} from '../../services/storage/seal.js';
import { propertyParams } from '../fc-params.js';

const TAG = 16;
const chunks = (size: number) => Math.max(1, Math.ceil(size / SEAL_CHUNK));

/** Deterministic pseudo-random bytes from a seed (AES-CTR keystream: fast, reproducible from VOS_SEED). */
function bytesOf(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeInt32BE(seed | 0, 0);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

async function* pieces(bytes: Buffer, points: number[]): AsyncGenerator<Uint8Array> {
  const at = points.map((p) => p % (bytes.length + 1)).sort((x, y) => x - y);
  let prev = 0;
  for (const p of at) {
    // A fresh Uint8Array view, not a Buffer: the stream code must take any Uint8Array.
    yield new Uint8Array(bytes.buffer, bytes.byteOffset + prev, p - prev);
    prev = p;
  }
  yield bytes.subarray(prev);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

/** The error code a stream fails with ('' if it does not). */
async function failure(it: AsyncIterable<Uint8Array>): Promise<string> {
  try {
    await collect(it);
    return '';
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
    return err.code;
  }
}

// Sizes at and around the 256 KiB chunk boundaries (where the last-chunk flag and counts change).
const sizes = fc.oneof(
  fc.integer({ min: 0, max: 2 * SEAL_CHUNK + 300 }),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -2, max: 2 }))
    .map(([n, d]) => Math.max(0, n * SEAL_CHUNK + d)),
  fc.integer({ min: 0, max: 40 }),
);
const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe('streamed sealing (property)', () => {
  it('sealStream over any chunking = encryptObject with the same prefix; openSealedStream round-trips', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.integer(), cuts, cuts, async (size, seed, plainCuts, sealedCuts) => {
        const plain = bytesOf(size, seed);
        const key = newObjectKey();
        const whole = encryptObject(plain, key);
        expect(whole.length).toBe(sealedSizeOf(size));
        const prefix = whole.subarray(0, 8);
        const streamed = await collect(sealStream(pieces(plain, plainCuts), size, key, prefix));
        expect(streamed.equals(whole)).toBe(true);
        const opened = await collect(openSealedStream(pieces(whole, sealedCuts), size, key));
        expect(opened.equals(plain)).toBe(true);
        expect(decryptObject(streamed, key).equals(plain)).toBe(true);
      }),
      propertyParams('sealStream = encryptObject', 100),
    );
  });

  it('any flipped bit, or another key, fails to open', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        fc.integer(),
        cuts,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (size, seed, sealedCuts, at, bit) => {
          const plain = bytesOf(size, seed);
          const key = newObjectKey();
          const sealed = Buffer.from(await collect(sealStream(pieces(plain, []), size, key)));
          sealed[at % sealed.length] ^= 1 << bit;
          expect(['DECRYPT_FAILED', 'INVALID_SEALED']).toContain(
            await failure(openSealedStream(pieces(sealed, sealedCuts), size, key)),
          );
          sealed[at % sealed.length] ^= 1 << bit;
          expect(await failure(openSealedStream(pieces(sealed, sealedCuts), size, newObjectKey()))).toBe(
            'DECRYPT_FAILED',
          );
        },
      ),
      propertyParams('sealStream flip', 100),
    );
  });

  it('a plaintext source longer or shorter than the declared size is INVALID_SEALED', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        fc.integer(),
        cuts,
        fc.integer({ min: 1, max: SEAL_CHUNK + 10 }),
        async (size, seed, plainCuts, d) => {
          const key = newObjectKey();
          const longer = bytesOf(size + d, seed);
          expect(await failure(sealStream(pieces(longer, plainCuts), size, key))).toBe('INVALID_SEALED');
          if (size > 0) {
            const shorter = bytesOf(Math.max(0, size - d), seed);
            expect(await failure(sealStream(pieces(shorter, plainCuts), size, key))).toBe('INVALID_SEALED');
          }
        },
      ),
      propertyParams('sealStream wrong length', 60),
    );
  });

  it('a sealed source longer or shorter than the declared size fails to open', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizes,
        fc.integer(),
        cuts,
        fc.integer({ min: 1, max: SEAL_CHUNK + 40 }),
        async (size, seed, sealedCuts, d) => {
          const plain = bytesOf(size, seed);
          const key = newObjectKey();
          const sealed = encryptObject(plain, key);
          const extended = Buffer.concat([sealed, bytesOf(d, seed ^ 1)]);
          const cutShort = sealed.subarray(0, Math.max(0, sealed.length - d));
          const bad = ['DECRYPT_FAILED', 'INVALID_SEALED'];
          expect(bad).toContain(await failure(openSealedStream(pieces(extended, sealedCuts), size, key)));
          expect(bad).toContain(await failure(openSealedStream(pieces(cutShort, sealedCuts), size, key)));
          // The right bytes under a declared size of another chunk count. (With the same chunk count the
          // stream opens: openSealedStream checks the count of chunks, not the plaintext's length.)
          for (const other of [size + d, size - d])
            if (other >= 0 && chunks(other) !== chunks(size))
              expect(bad).toContain(await failure(openSealedStream(pieces(sealed, sealedCuts), other, key)));
        },
      ),
      propertyParams('openSealedStream wrong length', 60),
    );
  });

  it('fixed cases: sizes, the empty object, short input, the sealed key', async () => {
    expect(sealedSizeOf(0)).toBe(8 + TAG);
    expect(sealedSizeOf(1)).toBe(8 + 1 + TAG);
    expect(sealedSizeOf(SEAL_CHUNK)).toBe(8 + SEAL_CHUNK + TAG);
    expect(sealedSizeOf(SEAL_CHUNK + 1)).toBe(8 + SEAL_CHUNK + 1 + 2 * TAG);
    const key = newObjectKey();
    // The empty object: the prefix then one empty chunk's tag; nothing decrypts to nothing.
    const empty = await collect(sealStream(pieces(Buffer.alloc(0), []), 0, key));
    expect(empty.length).toBe(8 + TAG);
    expect((await collect(openSealedStream(pieces(empty, [3]), 0, key))).length).toBe(0);
    // Fewer than the 8 prefix bytes, or a chunk shorter than its tag.
    expect(await failure(openSealedStream(pieces(Buffer.alloc(5), []), 0, key))).toBe('INVALID_SEALED');
    expect(await failure(openSealedStream(pieces(Buffer.alloc(0), []), 10, key))).toBe('INVALID_SEALED');
    expect(() => decryptObject(Buffer.alloc(8 + TAG - 1), key)).toThrow(
      expect.objectContaining({ code: 'INVALID_SEALED' }),
    );
    // Two different prefixes give different ciphertexts of the same bytes.
    const plain = randomBytes(100);
    const a = await collect(sealStream(pieces(plain, []), 100, key, Buffer.alloc(8, 1)));
    const b = await collect(sealStream(pieces(plain, []), 100, key, Buffer.alloc(8, 2)));
    expect(a.subarray(8).equals(b.subarray(8))).toBe(false);
    // The object key sealed to an owner: 92 bytes, other lengths INVALID_SEALED.
    const owner = PrivateKey.fromSeed(new Uint8Array(32).fill(9));
    const wrapped = sealKey(key, owner.publicKey);
    expect(wrapped.length).toBe(92);
    expect(openKey(wrapped, owner.exportSeed()).equals(key)).toBe(true);
    expect(() => openKey(wrapped.subarray(1), owner.exportSeed())).toThrow(
      expect.objectContaining({ code: 'INVALID_SEALED' }),
    );
    const tampered = Buffer.from(wrapped);
    tampered[50] ^= 1;
    expect(() => openKey(tampered, owner.exportSeed())).toThrow(
      expect.objectContaining({ code: 'DECRYPT_FAILED' }),
    );
  });
});
