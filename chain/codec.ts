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

/**
 * Lists nested deeper than this are rejected. No VOS structure nests beyond 6 (block > evidence > vote
 * fields); the bound keeps a hostile frame of nested list headers from costing deep recursion.
 */
export const MAX_RLP_DEPTH = 16;

/** Decode exactly one item; throws CodecError on malformed, non-canonical, too deep or trailing input. */
export function decodeRlp(bytes: Uint8Array, what: string): RlpItem {
  try {
    const { item, end } = decodeItem(bytes, 0, bytes.length, 0);
    if (end !== bytes.length) throw new Error('invalid RLP: remainder must be zero');
    return item;
  } catch (err) {
    throw new CodecError('INVALID_RLP', what, (err as Error).message, err);
  }
}

/**
 * The canonical RLP decoder: accepts exactly what the `rlp` package's decoder accepts (a property
 * test compares the two on random and mutated input) and returns copies of the byte strings.
 * PERF: it walks offsets into one buffer; the package copies the remainder of a list after every
 * item, quadratic in the list's size (a 3,000-tx block spent seconds there).
 */
function decodeItem(
  buf: Uint8Array,
  pos: number,
  limit: number,
  depth: number,
): { item: RlpItem; end: number } {
  if (pos >= limit) throw new Error('invalid RLP: unexpected end of input');
  const first = buf[pos];
  if (first <= 0x7f) return { item: buf.slice(pos, pos + 1), end: pos + 1 };
  if (first <= 0xbf) {
    const { start, length } = header(buf, pos, limit, first, 0x80, 0xb7);
    if (length === 1 && buf[start] < 0x80)
      throw new Error('invalid RLP encoding: invalid prefix, single byte < 0x80 are not prefixed');
    return { item: buf.slice(start, start + length), end: start + length };
  }
  if (depth >= MAX_RLP_DEPTH) throw new Error(`invalid RLP: lists nested deeper than ${MAX_RLP_DEPTH}`);
  const { start, length } = header(buf, pos, limit, first, 0xc0, 0xf7);
  const end = start + length;
  const items: RlpItem[] = [];
  let at = start;
  while (at < end) {
    const d = decodeItem(buf, at, end, depth + 1);
    items.push(d.item);
    at = d.end;
  }
  return { item: items, end };
}

/** The payload's start and length of a string (base 0x80) or list (base 0xc0) header at `pos`. */
function header(
  buf: Uint8Array,
  pos: number,
  limit: number,
  first: number,
  base: number,
  shortMax: number,
): { start: number; length: number } {
  let start: number;
  let length: number;
  if (first <= shortMax) {
    start = pos + 1;
    length = first - base;
  } else {
    const lengthOfLength = first - shortMax;
    if (pos + 1 + lengthOfLength > limit) throw new Error('invalid RLP: not enough bytes for the length');
    if (buf[pos + 1] === 0) throw new Error('invalid RLP: extra zeros');
    length = 0;
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + buf[pos + 1 + i];
    if (length <= 55) throw new Error('invalid RLP: expected a length greater than 55');
    start = pos + 1 + lengthOfLength;
  }
  if (start + length > limit) throw new Error('invalid RLP: the data is shorter than its length');
  return { start, length };
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
