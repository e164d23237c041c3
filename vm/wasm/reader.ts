/** A bounded byte reader for the WASM binary format: LEB128 integers, vectors, names. */
import { WasmError } from './errors.js';

export class Reader {
  pos: number;
  readonly end: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, rule = 'malformed'): never {
    throw new WasmError('WASM_MALFORMED', rule, this.pos, message);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos++];
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail('unexpected end');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128 of at most 32 bits (5 bytes; the unused bits of the last byte must be 0). */
  u32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && (b & 0xf0) !== 0) this.fail('u32 out of range');
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result;
    }
    return this.fail('u32 too long');
  }

  /** Signed LEB128 of `bits` (32 or 64) bits; the value is not needed, only its bytes. */
  sleb(bits: 32 | 64): bigint {
    const max = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < max; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (i === max - 1) {
          // The unused bits of the last byte must all be the sign bit.
          const used = bits - 7 * (max - 1);
          const rest = b >> (used - 1);
          if (rest !== 0 && rest !== 0x7f >> (used - 1)) this.fail(`s${bits} out of range`);
        }
        if (b & 0x40) result -= 1n << shift;
        return result;
      }
    }
    return this.fail(`s${bits} too long`);
  }

  name(maxBytes: number): string {
    const n = this.u32();
    if (n > maxBytes) throw new WasmError('WASM_LIMIT', 'name-size', this.pos, `a name of ${n} bytes`);
    const bytes = this.take(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return this.fail('a name that is not UTF-8');
    }
  }
}
