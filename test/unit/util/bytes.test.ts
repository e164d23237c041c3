import { describe, expect, it } from '@jest/globals';
import {
  bigintToBytes,
  bytesToBigint,
  compareBytes,
  concatBytes,
  fromHex,
  fromUtf8,
  prefixRange,
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
  it('prefixRange: lt is the first key after every key under the prefix, trailing 0xff included', () => {
    const inRange = (r: { gte: Uint8Array; lt?: Uint8Array }, k: Uint8Array) =>
      compareBytes(k, r.gte) >= 0 && (r.lt === undefined || compareBytes(k, r.lt) < 0);
    for (const prefix of [[1, 2], [1, 0xff], [0xff, 0xff], [7, 0xff, 0xff], [0]]) {
      const p = Uint8Array.from(prefix);
      const r = prefixRange(p);
      for (const tail of [[], [0], [0xff], [0xff, 0xff, 0xff]])
        expect(inRange(r, Uint8Array.from([...prefix, ...tail]))).toBe(true);
      // The next key of the same length that is not under the prefix, when there is one.
      if (prefix.some((b) => b !== 0xff)) {
        let end = prefix.length;
        while (prefix[end - 1] === 0xff) end--;
        const next = [...prefix.slice(0, end - 1), prefix[end - 1] + 1];
        expect(inRange(r, Uint8Array.from(next))).toBe(false);
      } else expect(r.lt).toBeUndefined();
      // A key shorter than the prefix (a prefix of it) sorts before it.
      expect(inRange(r, Uint8Array.from(prefix.slice(0, -1)))).toBe(false);
    }
    expect(prefixRange(Uint8Array.from([1, 0xff])).lt).toEqual(Uint8Array.from([2]));
  });
  it('prefixRange leaves its argument as it was, a Buffer too (Buffer#slice is a view)', () => {
    const prefix = Buffer.from([0x62, 0x2f]);
    const r = prefixRange(prefix);
    expect(prefix).toEqual(Buffer.from([0x62, 0x2f]));
    expect(r.lt).toEqual(Uint8Array.from([0x62, 0x30]));
  });
});
