/**
 * Canonical RLP: everything hashed or signed is encoded with this. Decoders reject non-canonical input
 * (non-minimal lengths, leading zeros in integers, prefixed single bytes) and trailing bytes.
 */
import RLP, { type Input } from 'rlp';
import { bigintToBytes, bytesToBigint, fromUtf8, numberToBytes, utf8 } from '../util/bytes.js';
import { PeerAction, VosError } from '../util/errors.js';

export type RlpItem = Uint8Array | RlpItem[];
export type RlpInput = Uint8Array | string | number | bigint | RlpInput[];

export type CodecErrorCode = 'INVALID_RLP' | 'INVALID_FIELD';
export class CodecError extends VosError<{ code: CodecErrorCode; what: string }> {
  constructor(code: CodecErrorCode, what: string, message: string, cause?: unknown) {
    super({ code, what }, `${what}: ${message}`, { cause, peerAction: PeerAction.Reject });
    this.name = 'CodecError';
  }
}

export const U64_MAX = (1n << 64n) - 1n;
export const U256_MAX = (1n << 256n) - 1n;

/** Encode integers minimally, strings as UTF-8; no other implicit conversions. */
export function encodeRlp(input: RlpInput): Uint8Array {
  return RLP.encode(normalize(input));
}

function normalize(input: RlpInput): Input {
  if (input instanceof Uint8Array) return input;
  if (Array.isArray(input)) return input.map(normalize);
  if (typeof input === 'string') return utf8(input);
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new Error(`cannot encode number ${input}`);
    return numberToBytes(input);
  }
  return bigintToBytes(input);
}

/** Decode exactly one item; throws CodecError on malformed, non-canonical or trailing input. */
export function decodeRlp(bytes: Uint8Array, what: string): RlpItem {
  let item: RlpItem;
  try {
    item = RLP.decode(bytes) as RlpItem;
  } catch (err) {
    throw new CodecError('INVALID_RLP', what, (err as Error).message, err);
  }
  return item;
}

export function asList(item: RlpItem, what: string, length?: number): RlpItem[] {
  if (!Array.isArray(item)) throw new CodecError('INVALID_FIELD', what, 'expected a list');
  if (length !== undefined && item.length !== length) {
    throw new CodecError('INVALID_FIELD', what, `expected ${length} fields, got ${item.length}`);
  }
  return item;
}

export function asBytes(item: RlpItem, what: string, length?: number): Uint8Array {
  if (Array.isArray(item)) throw new CodecError('INVALID_FIELD', what, 'expected bytes, got a list');
  if (length !== undefined && item.length !== length) {
    throw new CodecError('INVALID_FIELD', what, `expected ${length} bytes, got ${item.length}`);
  }
  return item;
}

/** Bytes of at most `max` length. */
export function asBoundedBytes(item: RlpItem, what: string, max: number): Uint8Array {
  const b = asBytes(item, what);
  if (b.length > max) throw new CodecError('INVALID_FIELD', what, `longer than ${max} bytes`);
  return b;
}

/** Canonical unsigned integer: no leading zero byte, at most `max`. */
export function asBigint(item: RlpItem, what: string, max: bigint = U256_MAX): bigint {
  const b = asBytes(item, what);
  if (b.length > 0 && b[0] === 0) throw new CodecError('INVALID_FIELD', what, 'integer has leading zeros');
  if (b.length > 32) throw new CodecError('INVALID_FIELD', what, 'integer too large');
  const n = bytesToBigint(b);
  if (n > max) throw new CodecError('INVALID_FIELD', what, `integer exceeds ${max}`);
  return n;
}

/** Canonical integer that fits a JS safe integer (heights, rounds, indices, timestamps in ms). */
export function asNumber(item: RlpItem, what: string, max = Number.MAX_SAFE_INTEGER): number {
  return Number(asBigint(item, what, BigInt(max)));
}

export function asString(item: RlpItem, what: string, maxBytes: number): string {
  const b = asBoundedBytes(item, what, maxBytes);
  try {
    return fromUtf8(b);
  } catch (err) {
    throw new CodecError('INVALID_FIELD', what, 'invalid UTF-8', err);
  }
}
