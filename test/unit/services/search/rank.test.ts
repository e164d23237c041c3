/**
 * The search index against a brute-force reference (fast-check, printed seed): after any sequence of
 * publishes, updates and retractions, every page of any query (1-3 words, filters, limits) equals the
 * reference's matches (every word in some field) in its order (sum over the words of the best field
 * weight x (9 - slot), then id), and an index loaded afresh in another order gives the same pages.
 * Small vocabularies force ties, long fields the scaled slots, rare and common words both ways of
 * narrowing the candidates.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrivateKey } from '../../../../chain/keys.js';
import type { PublishKind } from '../../../../services/publish/record.js';
import { SearchIndex } from '../../../../services/search/index.js';
import { idKey } from '../../../../services/search/items.js';
import { slotOf } from '../../../../services/search/postings.js';
import { tokenize } from '../../../../services/search/tokenize.js';
import { propertyParams } from '../../../fc-params.js';
import { all, type Entry, entry, idOfEntry } from './fixtures.js';

const owners = [
  PrivateKey.fromSeed(new Uint8Array(32).fill(61)),
  PrivateKey.fromSeed(new Uint8Array(32).fill(62)),
];
const WORDS = ['red', 'green', 'blue', 'cyan', 'rare', '区块链', '数据'];
const SLOTS = 24;

interface Meta {
  title: string;
  description: string;
  tags: string[];
  kind: PublishKind;
}

const words = (min: number, max: number) =>
  fc.array(fc.constantFrom(...WORDS, ...WORDS.slice(0, 3)), { minLength: min, maxLength: max });
const meta: fc.Arbitrary<Meta> = fc.record({
  title: words(1, 14).map((w) => w.join(' ')),
  description: words(0, 14).map((w) => w.join(' ')),
  tags: fc.uniqueArray(fc.constantFrom(...WORDS.slice(0, 5)), { maxLength: 3 }),
  kind: fc.constantFrom<PublishKind>('text', 'image'),
});
const op = fc.record({ slot: fc.nat(SLOTS - 1), meta: fc.option(meta, { freq: 4 }) });
const query = fc.record({
  words: fc.array(fc.constantFrom(...WORDS, 'absent'), { minLength: 1, maxLength: 3 }),
  filter: fc.constantFrom<'none' | 'kind' | 'owner'>('none', 'kind', 'owner'),
  limit: fc.integer({ min: 1, max: 6 }),
});

const WEIGHT = { title: 4, tags: 3, description: 2 };

/** The reference score, or null when a word is in no field. */
function score(m: Meta, q: string): number | null {
  let sum = 0;
  for (const w of new Set(tokenize(q))) {
    let best = -1;
    for (const [f, text] of [
      ['title', m.title],
      ['tags', m.tags.join(' ')],
      ['description', m.description],
    ] as const) {
      const t = tokenize(text);
      const i = t.indexOf(w);
      if (i >= 0) best = Math.max(best, WEIGHT[f] * (9 - slotOf(i, t.length)));
    }
    if (best < 0) return null;
    sum += best;
  }
  return sum / 36;
}

function pages(index: SearchIndex, q: { q: string; kind?: string; owner?: string }, limit: number) {
  const out: [string, number][] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = index.query({ ...q, limit, cursor });
    expect(r.results.length).toBeLessThanOrEqual(limit);
    out.push(...r.results.map((x): [string, number] => [x.id, x.score]));
    if (r.cursor === null) return out;
    cursor = r.cursor;
  }
  throw new Error('no last page');
}

describe('search index (property)', () => {
  const keys: Entry[] = [];
  beforeAll(async () => {
    for (let s = 0; s < SLOTS; s++) keys.push(await entry(owners[s % 2], `slot ${s}`, {}));
  });

  it('pages equal a brute-force reference after any updates, however the index was built', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 60 }),
        fc.array(query, { minLength: 1, maxLength: 6 }),
        async (ops, queries) => {
          const index = new SearchIndex();
          const model = new Map<number, Meta>();
          const value = async (s: number, m: Meta) => (await entry(owners[s % 2], `slot ${s}`, m))[1];
          for (const o of ops) {
            index.apply([[keys[o.slot][0], o.meta === null ? null : await value(o.slot, o.meta)]]);
            if (o.meta === null) model.delete(o.slot);
            else model.set(o.slot, o.meta);
          }
          const fresh = new SearchIndex();
          const state = [...model.entries()].reverse();
          await fresh.load(
            all(
              await Promise.all(state.map(async ([s, m]): Promise<Entry> => [keys[s][0], await value(s, m)])),
            ),
          );
          expect(index.size).toBe(model.size);
          for (const qu of queries) {
            const q = qu.words.join(' ');
            const kind = qu.filter === 'kind' ? 'image' : undefined;
            const owner = qu.filter === 'owner' ? owners[1].address.toString() : undefined;
            const expected = [...model.entries()]
              .filter(
                ([s, m]) => (kind === undefined || m.kind === kind) && (owner === undefined || s % 2 === 1),
              )
              .map(([s, m]): [string, number | null] => [idOfEntry(keys[s]), score(m, q)])
              .filter((x): x is [string, number] => x[1] !== null)
              .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
            const filter = { q, ...(kind && { kind }), ...(owner && { owner }) };
            expect(pages(index, filter, qu.limit)).toEqual(expected);
            expect(pages(fresh, filter, qu.limit)).toEqual(expected);
          }
        },
      ),
      propertyParams('search index vs reference', 150),
    );
  });

  it('orders ids like idKey: a < b implies idKey(a) <= idKey(b)', () => {
    const id = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ maxLength: 10 }));
    fc.assert(
      fc.property(id, id, (a, b) => (a < b ? idKey(a) <= idKey(b) : idKey(b) <= idKey(a))),
      propertyParams('idKey order', 2000),
    );
  });
});
