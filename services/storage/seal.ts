/**
 * Encryption of stored objects: a fresh 256-bit key per object, AES-256-GCM per 256 KiB chunk (nonce =
 * the object's 8 random bytes + the chunk index; the additional data binds the index and whether it is
 * the last chunk, so chunks cannot be reordered, dropped or the object cut short), and the key sealed to
 * the owner's Ed25519 key: X25519 (the key's Montgomery form) with an ephemeral key, HKDF-SHA256, then
 * AES-256-GCM. Providers that hold shards of the ciphertext learn nothing of the bytes.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { VosError } from '../../util/errors.js';

export const SEAL_CHUNK = 256 * 1024;
const TAG = 16;
const INFO = Buffer.from('vos/storage/seal/1');

export class SealError extends VosError<{ code: 'DECRYPT_FAILED' | 'INVALID_SEALED' }> {}

function aad(index: number, last: boolean): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(index, 0);
  b[4] = last ? 1 : 0;
  return b;
}

function nonce(prefix: Uint8Array, index: number): Buffer {
  const n = Buffer.alloc(12);
  n.set(prefix, 0);
  n.writeUInt32BE(index, 8);
  return n;
}

/** header = 8-byte nonce prefix; then per chunk: ciphertext + 16-byte tag. */
export function encryptObject(plain: Uint8Array, key: Uint8Array): Buffer {
  const prefix = randomBytes(8);
  const count = Math.max(1, Math.ceil(plain.length / SEAL_CHUNK));
  const out: Buffer[] = [prefix];
  for (let i = 0; i < count; i++) {
    const c = createCipheriv('aes-256-gcm', key, nonce(prefix, i));
    c.setAAD(aad(i, i === count - 1));
    out.push(c.update(plain.subarray(i * SEAL_CHUNK, (i + 1) * SEAL_CHUNK)), c.final(), c.getAuthTag());
  }
  return Buffer.concat(out);
}

export function decryptObject(sealed: Uint8Array, key: Uint8Array): Buffer {
  if (sealed.length < 8 + TAG) throw new SealError({ code: 'INVALID_SEALED' }, 'sealed object too short');
  const prefix = sealed.subarray(0, 8);
  const body = sealed.subarray(8);
  const step = SEAL_CHUNK + TAG;
  const count = Math.max(1, Math.ceil(body.length / step));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const part = body.subarray(i * step, (i + 1) * step);
    if (part.length < TAG) throw new SealError({ code: 'INVALID_SEALED' }, 'sealed object cut inside a tag');
    const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, i));
    d.setAAD(aad(i, i === count - 1));
    d.setAuthTag(part.subarray(part.length - TAG));
    try {
      out.push(d.update(part.subarray(0, part.length - TAG)), d.final());
    } catch {
      throw new SealError(
        { code: 'DECRYPT_FAILED' },
        `chunk ${i} failed authentication (wrong key or altered bytes)`,
      );
    }
  }
  return Buffer.concat(out);
}

/** An X25519 key pair: the Montgomery form of an Ed25519 key (a node opens what is sealed to its key). */
export interface X25519Keys {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

export function x25519KeysOf(ed25519Seed: Uint8Array): X25519Keys {
  const secret = ed25519.utils.toMontgomerySecret(ed25519Seed);
  return { secret, publicKey: x25519.getPublicKey(secret) };
}

/** A sealed box: the sender's ephemeral X25519 public key, the GCM nonce, ciphertext + tag. */
export interface Box {
  ephemeral: Uint8Array;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

/**
 * Seals `plain` to an X25519 key: an ephemeral key agreement, HKDF-SHA256 (salt = ephemeral |
 * recipient, `info`), AES-256-GCM with the additional data `aad(ephemeral)`.
 */
export function sealBox(
  plain: Uint8Array,
  recipientX25519: Uint8Array,
  info: Uint8Array,
  aad: (ephemeral: Uint8Array) => Uint8Array,
): Box {
  const eph = x25519.utils.randomSecretKey();
  const ephemeral = x25519.getPublicKey(eph);
  const kek = kekOf(x25519.getSharedSecret(eph, recipientX25519), ephemeral, recipientX25519, info);
  const nonce = new Uint8Array(randomBytes(12));
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(aad(ephemeral));
  return {
    ephemeral,
    nonce,
    sealed: new Uint8Array(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])),
  };
}

/** Opens a box sealed to `keys`; throws (an Error) when the key or any byte is not the sealed one. */
export function openBox(box: Box, keys: X25519Keys, info: Uint8Array, aad: Uint8Array): Buffer {
  if (box.sealed.length < TAG) throw new Error('sealed part shorter than its tag');
  const kek = kekOf(x25519.getSharedSecret(keys.secret, box.ephemeral), box.ephemeral, keys.publicKey, info);
  const d = createDecipheriv('aes-256-gcm', kek, box.nonce);
  d.setAAD(aad);
  d.setAuthTag(box.sealed.subarray(box.sealed.length - TAG));
  return Buffer.concat([d.update(box.sealed.subarray(0, box.sealed.length - TAG)), d.final()]);
}

/** The object key sealed to an Ed25519 public key: ephemeral X25519 public (32) + GCM nonce (12) + key (32) + tag (16). */
export function sealKey(objectKey: Uint8Array, ownerEd25519Public: Uint8Array): Buffer {
  const box = sealBox(objectKey, ed25519.utils.toMontgomery(ownerEd25519Public), INFO, (eph) => eph);
  return Buffer.concat([box.ephemeral, box.nonce, box.sealed]);
}

/** The object key, with the owner's Ed25519 seed; another key fails with DECRYPT_FAILED. */
export function openKey(sealed: Uint8Array, ownerEd25519Seed: Uint8Array): Buffer {
  if (sealed.length !== 32 + 12 + 32 + TAG)
    throw new SealError({ code: 'INVALID_SEALED' }, 'a sealed key is 92 bytes');
  const ephemeral = sealed.subarray(0, 32);
  const box = { ephemeral, nonce: sealed.subarray(32, 44), sealed: sealed.subarray(44) };
  try {
    return openBox(box, x25519KeysOf(ownerEd25519Seed), INFO, ephemeral);
  } catch {
    throw new SealError({ code: 'DECRYPT_FAILED' }, 'the object key is not sealed to this key');
  }
}

function kekOf(shared: Uint8Array, ephPub: Uint8Array, recipient: Uint8Array, info: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephPub, recipient]), info, 32));
}

export const newObjectKey = (): Buffer => randomBytes(32);

/** Bytes of the sealed form of `size` plaintext bytes: the nonce prefix, then each chunk and its tag. */
export function sealedSizeOf(size: number): number {
  return 8 + size + TAG * Math.max(1, Math.ceil(size / SEAL_CHUNK));
}

/** Re-chunks a stream into `size`-byte pieces (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of source) {
    let chunk = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    while (have + chunk.length >= size) {
      const take = size - have;
      parts.push(chunk.subarray(0, take));
      yield parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts);
      parts = [];
      have = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      parts.push(Buffer.from(chunk));
      have += chunk.length;
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

/**
 * The sealed form of a stream of exactly `size` bytes, chunk by chunk (what encryptObject gives for the
 * same bytes and nonce prefix). Another length is INVALID_SEALED.
 */
export async function* sealStream(
  source: AsyncIterable<Uint8Array>,
  size: number,
  key: Uint8Array,
  prefix: Uint8Array = randomBytes(8),
): AsyncGenerator<Buffer> {
  const count = Math.max(1, Math.ceil(size / SEAL_CHUNK));
  yield Buffer.from(prefix);
  let i = 0;
  let seen = 0;
  for await (const part of rechunk(source, SEAL_CHUNK)) {
    seen += part.length;
    if (seen > size || i >= count)
      throw new SealError({ code: 'INVALID_SEALED' }, `more than the declared ${size} bytes`);
    const c = createCipheriv('aes-256-gcm', key, nonce(prefix, i));
    c.setAAD(aad(i, i === count - 1));
    yield Buffer.concat([c.update(part), c.final(), c.getAuthTag()]);
    i++;
  }
  if (seen !== size) throw new SealError({ code: 'INVALID_SEALED' }, `${seen} bytes, ${size} declared`);
  if (size === 0) {
    const c = createCipheriv('aes-256-gcm', key, nonce(prefix, 0));
    c.setAAD(aad(0, true));
    yield Buffer.concat([c.update(Buffer.alloc(0)), c.final(), c.getAuthTag()]);
  }
}

/** The plaintext of a sealed stream of `size` plaintext bytes; a chunk that fails authentication throws. */
export async function* openSealedStream(
  source: AsyncIterable<Uint8Array>,
  size: number,
  key: Uint8Array,
): AsyncGenerator<Buffer> {
  const count = Math.max(1, Math.ceil(size / SEAL_CHUNK));
  let prefix: Buffer | undefined;
  let i = 0;
  let out = 0;
  let rest: Buffer[] = [];
  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      let b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      if (prefix === undefined) {
        rest.push(b);
        const all = Buffer.concat(rest);
        if (all.length < 8) continue;
        prefix = Buffer.from(all.subarray(0, 8));
        rest = [];
        b = all.subarray(8);
      }
      if (b.length > 0) yield b;
    }
  }
  for await (const part of rechunk(body(), SEAL_CHUNK + TAG)) {
    if (i >= count)
      throw new SealError({ code: 'INVALID_SEALED' }, 'more sealed chunks than the size allows');
    if (part.length < TAG) throw new SealError({ code: 'INVALID_SEALED' }, 'sealed object cut inside a tag');
    const d = createDecipheriv('aes-256-gcm', key, nonce(prefix as Buffer, i));
    d.setAAD(aad(i, i === count - 1));
    d.setAuthTag(part.subarray(part.length - TAG));
    let plain: Buffer;
    try {
      plain = Buffer.concat([d.update(part.subarray(0, part.length - TAG)), d.final()]);
    } catch {
      throw new SealError(
        { code: 'DECRYPT_FAILED' },
        `chunk ${i} failed authentication (wrong key or altered bytes)`,
      );
    }
    out += plain.length;
    if (out > size) throw new SealError({ code: 'INVALID_SEALED' }, `more than the declared ${size} bytes`);
    yield plain;
    i++;
  }
  if (i !== count) throw new SealError({ code: 'INVALID_SEALED' }, `${i} of ${count} sealed chunks`);
  if (out !== size) throw new SealError({ code: 'INVALID_SEALED' }, `${out} bytes, ${size} declared`);
}
