/**
 * Our RLP decoder (chain/codec.ts, linear time) against the `rlp` package's decoder (the reference):
 * on encodings of random nested items, on random byte strings and on single-byte mutations of
 * encodings, both accept or both reject, and what they accept decodes to the same item. Deliberate
 * differences: empty input, which the package decodes to empty bytes, and lists nested deeper than
 * MAX_RLP_DEPTH, which the package decodes too; we reject both.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import RLP from 'rlp';
import { decodeRlp, MAX_RLP_DEPTH, type RlpItem } from '../../chain/codec.js';
import { propertyParams } from '../fc-params.js';

type Item = Uint8Array | Item[];

const itemArb: fc.Arbitrary<Item> = fc.letrec<{ item: Item }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('item'), { maxLength: 6 }),
  ),
})).item;

function reference(bytes: Uint8Array): { ok: true; item: RlpItem } | { ok: false } {
  try {
    return { ok: true, item: RLP.decode(bytes) as RlpItem };
  } catch {
    return { ok: false };
  }
}

function ours(bytes: Uint8Array): { ok: true; item: RlpItem } | { ok: false } {
  try {
    return { ok: true, item: decodeRlp(bytes, 'test') };
  } catch {
    return { ok: false };
  }
}

function depthOf(item: RlpItem): number {
  return Array.isArray(item) ? 1 + Math.max(0, ...item.map(depthOf)) : 0;
}

function same(bytes: Uint8Array): void {
  if (bytes.length === 0) {
    expect(ours(bytes).ok).toBe(false);
    return;
  }
  const a = reference(bytes);
  const b = ours(bytes);
  if (a.ok && depthOf(a.item) > MAX_RLP_DEPTH) {
    expect(b.ok).toBe(false);
    return;
  }
  expect(b.ok).toBe(a.ok);
  if (a.ok && b.ok) expect(b.item).toEqual(a.item);
}

describe('RLP decoder agrees with the reference', () => {
  it('on encodings of random nested items', () => {
    fc.assert(
      fc.property(itemArb, (item) => {
        const bytes = RLP.encode(item);
        same(bytes);
        expect(ours(bytes)).toEqual({ ok: true, item });
      }),
      propertyParams('rlp decoder: encodings', 300),
    );
  });

  it('on single-byte mutations, truncations and extensions of encodings', () => {
    fc.assert(
      fc.property(
        itemArb,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: 3 }),
        (item, at, byte, op) => {
          const enc = RLP.encode(item);
          const i = enc.length === 0 ? 0 : at % enc.length;
          let bytes: Uint8Array;
          if (op === 0) {
            bytes = Uint8Array.from(enc);
            bytes[i] = byte;
          } else if (op === 1) bytes = enc.subarray(0, i);
          else if (op === 2) bytes = Uint8Array.from([...enc, byte]);
          else bytes = Uint8Array.from([...enc.subarray(0, i), byte, ...enc.subarray(i)]);
          same(bytes);
        },
      ),
      propertyParams('rlp decoder: mutations', 1000),
    );
  });

  it('on hand-built long-form headers (non-minimal lengths, leading zeros, short payloads)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(1, 1, 1, 2),
        fc.integer({ min: 40, max: 70 }),
        fc.boolean(),
        fc.constantFrom(0, 0, 0, -1, 1),
        (list, lengthOfLength, length, leadingZero, delta) => {
          const lenBytes: number[] = [];
          for (let i = lengthOfLength - 1; i >= 0; i--) lenBytes.push((length >> (8 * i)) & 0xff);
          if (leadingZero) lenBytes[0] = 0;
          const first = (list ? 0xf7 : 0xb7) + lengthOfLength;
          // A list payload of single bytes < 0x80 is valid content; so is any string payload.
          const payload = new Array(Math.max(0, length + delta)).fill(0x01);
          same(Uint8Array.from([first, ...lenBytes, ...payload]));
        },
      ),
      propertyParams('rlp decoder: long-form headers', 1000),
    );
  });

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => same(bytes)),
      propertyParams('rlp decoder: random bytes', 1000),
    );
  });

  it('decodes a list of 20,000 items of 200 bytes (a 4 MB list the package would copy ~20,000 times)', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => new Uint8Array(200).fill(i & 0xff));
    const bytes = RLP.encode(items);
    expect((decodeRlp(bytes, 'big list') as Uint8Array[]).length).toBe(20_000);
  });
});

describe('RLP nesting depth', () => {
  const nested = (depth: number): Uint8Array => {
    let item: Item = new Uint8Array([1]);
    for (let i = 0; i < depth; i++) item = [item];
    return RLP.encode(item);
  };

  it(`accepts lists nested ${MAX_RLP_DEPTH} deep and rejects deeper ones`, () => {
    expect(ours(nested(MAX_RLP_DEPTH)).ok).toBe(true);
    expect(() => decodeRlp(nested(MAX_RLP_DEPTH + 1), 'deep')).toThrow(/nested deeper than/);
  });

  it('rejects 20,000 nested list headers (canonical lengths) without deep recursion', () => {
    // Built from the inside out by hand: the package's encoder recurses and overflows the stack here.
    let bytes = Uint8Array.from([1]);
    for (let i = 0; i < 20_000; i++) {
      const n = bytes.length;
      let head: number[];
      if (n <= 55) head = [0xc0 + n];
      else {
        const len: number[] = [];
        for (let x = n; x > 0; x = Math.floor(x / 256)) len.unshift(x % 256);
        head = [0xf7 + len.length, ...len];
      }
      const next = new Uint8Array(head.length + n);
      next.set(head);
      next.set(bytes, head.length);
      bytes = next;
    }
    expect(() => decodeRlp(bytes, 'very deep')).toThrow(/nested deeper than/);
  });
});
