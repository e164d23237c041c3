/**
 * An app's state in a call (vm/app-state.ts) under fast-check, printed seeds: after any sequence of
 * sets and deletes, MapState's storage_next walk is the byte-order walk of a plain map's keys, its byte
 * count is the sum of keys and values, `changed` says whether anything was set or deleted; the encoding
 * round-trips and is the same whatever order the keys went in.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeAppState, encodeAppState, MapState, SortedKeys } from '../../vm/app-state.js';
import { propertyParams } from '../fc-params.js';

// Short keys over a small alphabet collide often (sets of existing keys, deletes that hit); many
// keys push SortedKeys past one chunk.
const key = fc.string({
  unit: fc.constantFrom('a', 'b', 'c', '\u00ff', '\u0000'),
  minLength: 1,
  maxLength: 4,
});
const op = fc.oneof(
  fc.record({ set: key, len: fc.nat(8) }),
  fc.record({ del: key }),
  fc.record({ next: fc.option(key, { nil: null }) }),
);

function walk(s: MapState): string[] {
  const out: string[] = [];
  for (let k = s.next(null); k !== undefined; k = s.next(k)) out.push(k);
  return out;
}

describe('app state', () => {
  it('storage_next, bytes and changed match a plain map after any sets and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.nat(8)), { maxLength: 40 }),
        fc.array(op, { maxLength: 300 }),
        (init, ops) => {
          const ref = new Map(init.map(([k, n]) => [k, new Uint8Array(n)]));
          const s = new MapState(ref);
          let changed = false;
          for (const o of ops) {
            if ('set' in o) {
              s.set(o.set, new Uint8Array(o.len));
              ref.set(o.set, new Uint8Array(o.len));
              changed = true;
            } else if ('del' in o) {
              if (ref.delete(o.del)) changed = true;
              s.delete(o.del);
            } else {
              const want = [...ref.keys()].sort().find((k) => o.next === null || k > o.next);
              expect(s.next(o.next)).toBe(want);
            }
          }
          expect(walk(s)).toEqual([...ref.keys()].sort());
          expect(s.bytes).toBe([...ref].reduce((a, [k, v]) => a + k.length + v.length, 0));
          expect(s.changed).toBe(changed);
          const enc = encodeAppState(s.map);
          expect(encodeAppState(new Map([...ref].reverse()))).toEqual(enc);
          expect([...decodeAppState(enc)]).toEqual([...ref].sort(([a], [b]) => (a < b ? -1 : 1)));
        },
      ),
      propertyParams('app state ops', 300),
    );
  });

  it('SortedKeys stays sorted across chunk splits (thousands of inserts and removes)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 0, max: 5000 })), {
          minLength: 2000,
          maxLength: 4000,
        }),
        (ops) => {
          const idx = new SortedKeys([]);
          const ref = new Set<string>();
          // Three inserts to one remove: the index passes 2 x CHUNK keys and splits.
          for (const [op, n] of ops) {
            const k = n.toString(36);
            if (op > 0) {
              idx.insert(k);
              ref.add(k);
            } else {
              idx.remove(k);
              ref.delete(k);
            }
          }
          const got: string[] = [];
          for (let k = idx.next(null); k !== undefined; k = idx.next(k)) got.push(k);
          expect(got).toEqual([...ref].sort());
        },
      ),
      propertyParams('app state sorted keys', 20),
    );
  });
});
