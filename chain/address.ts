/** Address = bech32m("vos", first 20 bytes of sha256(publicKey)). */
import { bech32m } from '@scure/base';
import { asBuffer, equalBytes, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { sha256 } from './hash.js';

export const ADDRESS_PREFIX = 'vos';
export const ADDRESS_LENGTH = 20;

export class Address {
  readonly bytes: Uint8Array;
  #str: string | undefined;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== ADDRESS_LENGTH) {
      throw new VosError({ code: 'INVALID_ADDRESS' }, `address must be ${ADDRESS_LENGTH} bytes`);
    }
    this.bytes = Uint8Array.from(bytes);
  }

  static fromString(s: string): Address {
    if (typeof s !== 'string' || s.length > 90) throw invalid(String(s).slice(0, 100));
    let decoded: { prefix: string; words: number[] };
    try {
      decoded = bech32m.decode(s as `${string}1${string}`);
    } catch (err) {
      throw invalid(s, err);
    }
    if (decoded.prefix !== ADDRESS_PREFIX) throw invalid(s);
    let bytes: Uint8Array;
    try {
      bytes = bech32m.fromWords(decoded.words);
    } catch (err) {
      throw invalid(s, err);
    }
    if (bytes.length !== ADDRESS_LENGTH) throw invalid(s);
    return new Address(bytes);
  }

  static isValid(s: unknown): boolean {
    try {
      Address.fromString(s as string);
      return true;
    } catch {
      return false;
    }
  }

  equals(other: Address): boolean {
    return equalBytes(this.bytes, other.bytes);
  }

  toString(): string {
    if (this.#str === undefined) this.#str = bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(this.bytes));
    return this.#str;
  }

  toHex(): string {
    return toHex(this.bytes);
  }

  toJSON(): string {
    return this.toString();
  }
}

function invalid(s: string, cause?: unknown): VosError {
  return new VosError({ code: 'INVALID_ADDRESS', address: s }, `invalid address: ${s}`, { cause });
}

/**
 * PERF: every node derives the sender of every tx several times (admission, block decode, execution);
 * the derivation (sha256) and the bech32 string of receipts are memoised per key in a bounded map.
 * Addresses are immutable, so sharing one instance is safe.
 */
const BY_PUBLIC_KEY = new Map<string, Address>();
const BY_BYTES = new Map<string, Address>();
const MAX_CACHED = 16_384;

function remember(map: Map<string, Address>, key: string, address: Address): Address {
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value as string);
  map.set(key, address);
  return address;
}

/** The address of 20 bytes, one shared instance per recent address (tx recipients; see above). */
export function internAddress(bytes: Uint8Array): Address {
  const key = asBuffer(bytes).toString('latin1');
  return BY_BYTES.get(key) ?? remember(BY_BYTES, key, new Address(bytes));
}

export function addressFromPublicKey(publicKey: Uint8Array): Address {
  const key = asBuffer(publicKey).toString('latin1');
  return (
    BY_PUBLIC_KEY.get(key) ??
    remember(BY_PUBLIC_KEY, key, new Address(sha256(publicKey).subarray(0, ADDRESS_LENGTH)))
  );
}
