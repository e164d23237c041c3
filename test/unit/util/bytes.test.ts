import { describe, expect, it } from '@jest/globals';
import {
  bigintToBytes,
  bytesToBigint,
  concatBytes,
  fromHex,
  fromUtf8,
  readU64be,
  toHex,
  u64be,
} from '../../../util/bytes.js';

describe('bytes', () => {
  it('UTF-8 decoding keeps a leading BOM (bytes with and without one are different strings)', () => {
    const bom = Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]);
    expect(fromUtf8(bom)).toBe('\uFEFFa');
    expect(fromUtf8(Uint8Array.from([0x61]))).toBe('a');
    expect(Buffer.from(fromUtf8(bom), 'utf8')).toEqual(Buffer.from(bom));
    expect(() => fromUtf8(Uint8Array.from([0xff]))).toThrow();
  });
  it('hex round-trips and rejects malformed hex', () => {
    expect(toHex(fromHex('0x00ff10'))).toBe('0x00ff10');
    expect(() => fromHex('0x0')).toThrow('invalid hex');
    expect(() => fromHex('0xzz')).toThrow('invalid hex');
    expect(() => fromHex('0x0011', 3)).toThrow('expected 3 bytes');
  });
  it('encodes integers minimally', () => {
    expect(bigintToBytes(0n).length).toBe(0);
    expect(toHex(bigintToBytes(256n))).toBe('0x0100');
    expect(bytesToBigint(fromHex('0x0100'))).toBe(256n);
    expect(() => bigintToBytes(-1n)).toThrow('negative');
  });
  it('u64be preserves order', () => {
    expect(readU64be(u64be(123456789n))).toBe(123456789n);
    expect(toHex(concatBytes(u64be(1), u64be(2)))).toBe('0x00000000000000010000000000000002');
  });
});
