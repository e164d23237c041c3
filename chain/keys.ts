/**
 * Ed25519 keys through node:crypto (OpenSSL). @noble/curves cross-checks this in tests and serves the
 * browser. KeyObjects are cached per public key: building one costs more than a verify.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { concatBytes, fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { type Address, addressFromPublicKey } from './address.js';
import { passesEd25519Rule } from './ed25519-rule.js';

export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

const PKCS8_PREFIX = fromHex('0x302e020100300506032b657004220420');
const SPKI_PREFIX = fromHex('0x302a300506032b6570032100');

export class PrivateKey {
  readonly publicKey: Uint8Array;
  readonly address: Address;
  readonly #key: KeyObject;
  readonly #seed: Uint8Array;

  private constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) {
      throw new VosError({ code: 'INVALID_PRIVATE_KEY' }, `private key seed must be ${SEED_LENGTH} bytes`);
    }
    this.#seed = Uint8Array.from(seed);
    this.#key = createPrivateKey({
      key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(this.#key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
    this.address = addressFromPublicKey(this.publicKey);
    Object.freeze(this);
  }

  static fromSeed(seed: Uint8Array): PrivateKey {
    return new PrivateKey(seed);
  }

  static generate(): PrivateKey {
    return new PrivateKey(new Uint8Array(randomBytes(SEED_LENGTH)));
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key));
  }

  /** The 32-byte seed, for the keystore only. */
  exportSeed(): Uint8Array {
    return Uint8Array.from(this.#seed);
  }

  toJSON(): { publicKey: string; address: string } {
    return { publicKey: toHex(this.publicKey), address: this.address.toString() };
  }
}

// PERF: building a KeyObject from DER costs ~3x a verify; keep the most recent ones.
const KEY_CACHE_MAX = 10_000;
const keyCache = new Map<string, KeyObject>();

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('latin1');
  let key = keyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({
      key: Buffer.from(concatBytes(SPKI_PREFIX, publicKey)),
      format: 'der',
      type: 'spki',
    });
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(id, key);
  }
  return key;
}

/**
 * Ed25519 verify under the VOS rule (chain/ed25519-rule.ts: encoding checks here, the cofactorless
 * equation in OpenSSL); false (never a throw) for malformed keys or signatures.
 */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!passesEd25519Rule(publicKey, signature)) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
