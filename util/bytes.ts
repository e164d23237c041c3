/**
 * Byte helpers shared by every layer. Hex is always 0x-prefixed lower case on the way out.
 * In Node the helpers go through Buffer (PERF: native hex and compare); where there is no Buffer (the
 * web app's bundle, which runs the light client) the same results come from plain JS.
 */
import { VosError } from './errors.js';

export type Bytes = Uint8Array;

export const EMPTY = new Uint8Array(0);

/** Node's Buffer, or undefined in a browser. */
const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of bytes without a prefix, in plain JS. */
export function hexOfBytesPortable(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i]];
  return out;
}

/** The bytes of an even-length hex body (no prefix, already validated), in plain JS. */
export function bytesOfHexPortable(body: string): Uint8Array {
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(body.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Buffer.compare's order (bytewise, then shorter first), in plain JS. */
export function compareBytesPortable(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer === undefined) return `0x${hexOfBytesPortable(bytes)}`;
  return `0x${NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

const HEX_RE = /^(0x)?([0-9a-fA-F]{2})*$/;

export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new VosError({ code: 'INVALID_HEX' }, 'invalid hex string');
  }
  const body = hex.startsWith('0x') ? hex.slice(2) : hex;
  const out =
    NodeBuffer === undefined ? bytesOfHexPortable(body) : new Uint8Array(NodeBuffer.from(body, 'hex'));
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new VosError(
      { code: 'INVALID_LENGTH', expected: expectedLength, actual: out.length },
      `expected ${expectedLength} bytes, got ${out.length}`,
    );
  }
  return out;
}

export function isHex(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith('0x') && HEX_RE.test(s);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The range of keys under a prefix, for LevelDB iterators: `lt` is the first key after all of them
 * (trailing 0xff bytes dropped, the last byte before them incremented); none for an all-0xff prefix.
 */
export function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt?: Uint8Array } {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return { gte: prefix };
  // A copy (Buffer#slice would be a view and the increment would change the caller's prefix).
  const lt = Uint8Array.from(prefix.subarray(0, end));
  lt[end - 1]++;
  return { gte: prefix, lt };
}

/** `key` starts with `prefix`. */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return NodeBuffer === undefined ? compareBytesPortable(a, b) : NodeBuffer.compare(a, b);
}

/**
 * A string with one character per byte (latin1), for Map keys: Buffer's latin1 in Node, plain JS
 * elsewhere (the same string).
 */
export function bytesKey(b: Uint8Array): string {
  if (NodeBuffer !== undefined) return asBuffer(b).toString('latin1');
  let out = '';
  for (let i = 0; i < b.length; i++) out += String.fromCharCode(b[i]);
  return out;
}

/** A Buffer view on the same memory (no copy). Node only. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Minimal big-endian encoding of a non-negative integer; 0 encodes as empty bytes (RLP convention). */
export function bigintToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new VosError({ code: 'NEGATIVE_INTEGER' }, 'negative integer');
  if (n === 0n) return EMPTY;
  if (n <= 0xffffffffffffn) return numberToBytes(Number(n));
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return NodeBuffer === undefined ? bytesOfHexPortable(hex) : new Uint8Array(NodeBuffer.from(hex, 'hex'));
}

/** Minimal big-endian bytes of a safe non-negative integer (PERF: no string round trip). */
export function numberToBytes(n: number): Uint8Array {
  if (n === 0) return EMPTY;
  let len = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) len++;
  const out = new Uint8Array(len);
  for (let i = len - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  if (b.length <= 6) {
    // PERF: account balances and nonces are decoded for every tx; skip the hex round trip.
    let n = 0;
    for (let i = 0; i < b.length; i++) n = n * 256 + b[i];
    return BigInt(n);
  }
  return BigInt(`0x${NodeBuffer === undefined ? hexOfBytesPortable(b) : asBuffer(b).toString('hex')}`);
}

/** Fixed-width big-endian u64 (used in store keys so that byte order = numeric order). */
export function u64be(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset);
}

const enc = new TextEncoder();
// ignoreBOM: a leading U+FEFF is kept as a character. Without it the decoder strips it, so the bytes
// with and without a BOM would decode to one string: two encodings of one value.
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  // PERF: Buffer.from slices a shared pool for short strings; TextEncoder allocates each time.
  return s.length < 256 && NodeBuffer !== undefined ? NodeBuffer.from(s, 'utf8') : enc.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return dec.decode(b);
}
