// The VOS guest SDK: typed helpers over the host API (env.ts). Strings are UTF-8 on the host side.
import {
  balance,
  block_height,
  block_time,
  caller,
  comm_send,
  dstore_get,
  dstore_put,
  emit,
  input_len,
  input_read,
  log,
  name_owner,
  output,
  publish_field,
  search,
  self,
  storage_delete,
  storage_get,
  storage_next,
  storage_set,
  transfer,
} from "./env";

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function decodeUtf8(b: Uint8Array): string {
  return String.UTF8.decodeUnsafe(b.dataStart, b.length);
}

export namespace Storage {
  /** The bytes stored under `key`, or null. */
  export function get(key: string): Uint8Array | null {
    const k = utf8(key);
    let out = new Uint8Array(64);
    let n = storage_get(k.dataStart, k.length, out.dataStart, out.length);
    if (n < 0) return null;
    if (n > out.length) {
      out = new Uint8Array(n);
      n = storage_get(k.dataStart, k.length, out.dataStart, out.length);
    }
    return out.subarray(0, n);
  }

  export function set(key: string, value: Uint8Array): void {
    const k = utf8(key);
    storage_set(k.dataStart, k.length, value.dataStart, value.length);
  }

  export function remove(key: string): void {
    const k = utf8(key);
    storage_delete(k.dataStart, k.length);
  }

  export function getString(key: string): string | null {
    const v = get(key);
    return v === null ? null : decodeUtf8(v);
  }

  export function setString(key: string, value: string): void {
    set(key, utf8(value));
  }

  /** A u64 stored little-endian under `key` (0 when absent). */
  export function getU64(key: string): u64 {
    const v = get(key);
    if (v === null || v.length < 8) return 0;
    return load<u64>(v.dataStart);
  }

  export function setU64(key: string, n: u64): void {
    const v = new Uint8Array(8);
    store<u64>(v.dataStart, n);
    set(key, v);
  }

  /** The first key after `after` in byte order ("" = the first key), or null at the end. */
  export function next(after: string): string | null {
    const k = utf8(after);
    let out = new Uint8Array(64);
    let n = storage_next(k.dataStart, k.length, out.dataStart, out.length);
    if (n < 0) return null;
    if (n > out.length) {
      out = new Uint8Array(n);
      n = storage_next(k.dataStart, k.length, out.dataStart, out.length);
    }
    return decodeUtf8(out.subarray(0, n));
  }
}

export namespace Input {
  export function bytes(): Uint8Array {
    const b = new Uint8Array(input_len());
    input_read(b.dataStart, b.length);
    return b;
  }

  export function text(): string {
    return decodeUtf8(bytes());
  }
}

export namespace Output {
  export function bytes(b: Uint8Array): void {
    output(b.dataStart, b.length);
  }

  export function text(s: string): void {
    bytes(utf8(s));
  }
}

export namespace Context {
  /** The 20-byte address of the tx sender (a query's `from`, a hosted call's peer). */
  export function caller(): Uint8Array {
    const b = new Uint8Array(20);
    caller_(b.dataStart);
    return b;
  }

  /** This app's 32-byte id. */
  export function self(): Uint8Array {
    const b = new Uint8Array(32);
    self_(b.dataStart);
    return b;
  }

  export function height(): i64 {
    return block_height();
  }

  /** The block's time, Unix ms. */
  export function time(): i64 {
    return block_time();
  }
}

// Aliases: `caller` and `self` are also Context's names.
function caller_(out: usize): void {
  caller(out);
}
function self_(out: usize): void {
  self(out);
}

export namespace Events {
  export function emit(topic: string, data: string): void {
    const t = utf8(topic);
    const d = utf8(data);
    emit_(t.dataStart, t.length, d.dataStart, d.length);
  }
}
function emit_(t: usize, tl: u32, d: usize, dl: u32): void {
  emit(t, tl, d, dl);
}

export function debug(s: string): void {
  const b = utf8(s);
  log(b.dataStart, b.length);
}

export namespace Names {
  /** The owner of an active VOS name, or null. */
  export function owner(name: string): Uint8Array | null {
    const n = utf8(name);
    const out = new Uint8Array(20);
    return name_owner(n.dataStart, n.length, out.dataStart) == 1 ? out : null;
  }
}

export namespace Publish {
  /** A field of the publish record `id` (32 bytes) as text, or null (no record, no such field). */
  export function field(id: Uint8Array, name: string): string | null {
    if (id.length != 32) return null;
    const f = utf8(name);
    let out = new Uint8Array(128);
    let n = publish_field(id.dataStart, f.dataStart, f.length, out.dataStart, out.length);
    if (n < 0) return null;
    if (n > out.length) {
      out = new Uint8Array(n);
      n = publish_field(id.dataStart, f.dataStart, f.length, out.dataStart, out.length);
    }
    return decodeUtf8(out.subarray(0, n));
  }
}

export namespace Account {
  /** The app account's balance (what `transfer` can still send). */
  export function balance(): i64 {
    return balance_();
  }

  /** Sends `amount` to the 20-byte address `to`; false when the balance is short. */
  export function transfer(to: Uint8Array, amount: i64): bool {
    return transfer_(to.dataStart, amount) == 0;
  }
}
function balance_(): i64 {
  return balance();
}
function transfer_(to: usize, amount: i64): i32 {
  return transfer(to, amount);
}

// Off chain only (the app must be created --hosted and served by a node).
export namespace Hosted {
  /** Stores `data` in distributed storage (within the hosting node's quota): its CID. */
  export function put(data: Uint8Array): string {
    let out = new Uint8Array(128);
    let n = dstore_put(data.dataStart, data.length, out.dataStart, out.length);
    return decodeUtf8(out.subarray(0, n < out.length ? n : out.length));
  }

  /** The content of a stored CID, or null. */
  export function get(id: string): Uint8Array | null {
    const k = utf8(id);
    let out = new Uint8Array(1024);
    let n = dstore_get(k.dataStart, k.length, out.dataStart, out.length);
    if (n < 0) return null;
    if (n > out.length) {
      out = new Uint8Array(n);
      n = dstore_get(k.dataStart, k.length, out.dataStart, out.length);
    }
    return out.subarray(0, n);
  }

  /** A message to a VOS name or address through the comm service; false when it was not sent. */
  export function send(to: string, message: string): bool {
    const t = utf8(to);
    const m = utf8(message);
    return comm_send(t.dataStart, t.length, m.dataStart, m.length) == 0;
  }

  /** The publish index: JSON [{id, title, kind, owner}]. */
  export function find(q: string): string {
    const k = utf8(q);
    let out = new Uint8Array(1024);
    let n = search(k.dataStart, k.length, out.dataStart, out.length);
    if (n > out.length) {
      out = new Uint8Array(n);
      n = search(k.dataStart, k.length, out.dataStart, out.length);
    }
    return decodeUtf8(out.subarray(0, n));
  }
}

const HEX = "0123456789abcdef";

/** 0x-hex of bytes. */
export function hex(b: Uint8Array): string {
  let s = "0x";
  for (let i = 0; i < b.length; i++) {
    s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 15);
  }
  return s;
}

function nibble(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Bytes of a hex string (with or without 0x); null when it is not hex. */
export function fromHex(s: string): Uint8Array | null {
  let from = s.startsWith("0x") ? 2 : 0;
  if ((s.length - from) % 2 != 0) return null;
  const out = new Uint8Array((s.length - from) / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(from + 2 * i));
    const lo = nibble(s.charCodeAt(from + 2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = <u8>((hi << 4) | lo);
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

/** A JSON string literal of `s` (quotes, backslashes and control characters escaped). */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += '\\"';
    else if (c == 92) out += "\\\\";
    else if (c == 10) out += "\\n";
    else if (c < 32) out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

/** Stops the call with `abort`: nothing it did is kept. */
export function fail(message: string): void {
  abort(message);
}

/** Zero-padded decimal, so that keys sort by number. */
export function pad(n: u64, width: i32 = 10): string {
  let s = n.toString();
  while (s.length < width) s = "0" + s;
  return s;
}
