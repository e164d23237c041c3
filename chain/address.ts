/** Address = bech32m("vos", first 20 bytes of sha256(publicKey)). */
import { bech32, bech32m } from '@scure/base';
import { bytesKey, equalBytes, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { sha256 } from './hash.js';

export const ADDRESS_PREFIX = 'vos';
export const ADDRESS_LENGTH = 20;
/** "vos" + "1" + 32 data characters (20 bytes) + 6 checksum characters. */
export const ADDRESS_STRING_LENGTH = ADDRESS_PREFIX.length + 1 + 32 + 6;

export class Address {
  readonly bytes: Uint8Array;
  #str: string | undefined;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== ADDRESS_LENGTH) {
      throw new VosError({ code: 'INVALID_ADDRESS' }, `address must be ${ADDRESS_LENGTH} bytes`);
    }
    this.bytes = Uint8Array.from(bytes);
  }

  /** Parses a `vos1...` address; the error says what is wrong (checksum, character, prefix, length). */
  static fromString(s: string): Address {
    if (typeof s !== 'string') throw invalid(String(s).slice(0, 100), 'not a string');
    if (s.length !== ADDRESS_STRING_LENGTH)
      throw invalid(
        s.slice(0, 100),
        `${s.length} characters, a VOS address has ${ADDRESS_STRING_LENGTH} (vos1 and 38 more)`,
      );
    let decoded: { prefix: string; words: number[] };
    try {
      decoded = bech32m.decode(s as `${string}1${string}`);
    } catch (err) {
      throw invalid(s, decodeProblem(s, err), err);
    }
    if (decoded.prefix !== ADDRESS_PREFIX)
      throw invalid(s, `prefix "${decoded.prefix}", VOS addresses start with ${ADDRESS_PREFIX}1`);
    let bytes: Uint8Array;
    try {
      bytes = bech32m.fromWords(decoded.words);
    } catch (err) {
      throw invalid(s, 'bad padding', err);
    }
    if (bytes.length !== ADDRESS_LENGTH)
      throw invalid(s, `${bytes.length} bytes, expected ${ADDRESS_LENGTH}`);
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

function invalid(s: string, problem: string, cause?: unknown): VosError {
  return new VosError({ code: 'INVALID_ADDRESS', address: s }, `invalid address ${s}: ${problem}`, {
    cause,
  });
}

function decodeProblem(s: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/checksum/i.test(msg)) {
    // A bech32 (BIP-173) string with the right prefix: the other checksum constant.
    try {
      if (bech32.decode(s as `${string}1${string}`).prefix === ADDRESS_PREFIX)
        return 'bad checksum: this is a bech32 string, VOS addresses use bech32m';
    } catch {
      // not bech32 either
    }
    return 'bad checksum (a mistyped or truncated address?)';
  }
  const letter = /Unknown letter "(.)"/.exec(msg);
  if (letter !== null)
    return `character "${letter[1]}" is not allowed (bech32 uses a-z and 0-9 except 1, b, i, o)`;
  if (/case/i.test(msg)) return 'mixed upper and lower case';
  if (/separator|"1"/i.test(msg)) return 'no "1" separator after the prefix';
  return msg;
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
  const key = bytesKey(bytes);
  return BY_BYTES.get(key) ?? remember(BY_BYTES, key, new Address(bytes));
}

export function addressFromPublicKey(publicKey: Uint8Array): Address {
  const key = bytesKey(publicKey);
  return (
    BY_PUBLIC_KEY.get(key) ??
    remember(BY_PUBLIC_KEY, key, new Address(sha256(publicKey).subarray(0, ADDRESS_LENGTH)))
  );
}
