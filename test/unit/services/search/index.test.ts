/**
 * The search index over committed state entries: an English and a Chinese word find an item (CJK
 * bigrams), filters by kind, mime and owner, cursor pagination, an update changes the result, a
 * retraction removes it, names are found too; words ANDed across fields with the ranking spelled out;
 * ties paged by id the same however the index was built; the boost hook; both ways of narrowing; the
 * sweep after many removals; browsing with filters only (no words), newest first.
 */
import { describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../../chain/keys.js';
import { nameKey } from '../../../../services/naming/layout.js';
import { EMPTY_RECORDS, encodeEntry } from '../../../../services/naming/records.js';
import { SearchIndex } from '../../../../services/search/index.js';
import { tokenize } from '../../../../services/search/tokenize.js';
import { all, type Entry, entry, idOfEntry } from './fixtures.js';

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(51));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(52));

describe('search', () => {
  it('tokenizes CJK runs into bigrams and other scripts into lower-case words', () => {
    expect(tokenize('基于区块链技术的操作系统')).toContain('区块');
    expect(tokenize('基于区块链技术的操作系统')).toContain('块链');
    expect(tokenize('Hello, VOS-Node 2.0!')).toEqual(['hello', 'vos', 'node', '2', '0']);
    expect(tokenize('VOS基于区块链')).toEqual(['vos', '基于', '于区', '区块', '块链']);
    // Bigrams of code points: a Han character beyond the BMP stays whole.
    expect(tokenize('𠀀𠀁中')).toEqual(['𠀀𠀁', '𠀁中']);
  });

  it('finds by an English and by a Chinese word; filters; pages; follows updates and retractions', async () => {
    const os = await entry(alice, 'os', {
      title: '基于区块链技术的操作系统',
      description: 'an operating system',
      tags: ['os'],
    });
    const img = await entry(alice, 'img', {
      title: 'A blockchain picture',
      kind: 'image',
      mime: 'image/png',
    });
    const other = await entry(bob, 'bob', { title: 'Another blockchain note', description: '区块链 notes' });
    const index = new SearchIndex();
    await index.load(all([os, img, other]));
    expect(index.size).toBe(3);
    const zh = index.query({ q: '区块链' });
    expect(zh.results.map((r) => r.title).sort()).toEqual([
      'Another blockchain note',
      '基于区块链技术的操作系统',
    ]);
    expect(index.query({ q: 'operating' }).results.map((r) => r.title)).toEqual(['基于区块链技术的操作系统']);
    expect(index.query({ q: 'blockchain', kind: 'image' }).results.map((r) => r.kind)).toEqual(['image']);
    expect(index.query({ q: 'blockchain', mime: 'text/plain' }).results).toHaveLength(1);
    expect(index.query({ q: 'blockchain', owner: bob.address.toString() }).results[0].owner).toBe(
      bob.address.toString(),
    );
    const p1 = index.query({ q: 'blockchain', limit: 1 });
    expect(p1.results).toHaveLength(1);
    const p2 = index.query({ q: 'blockchain', limit: 1, cursor: p1.cursor as string });
    expect(p2.results).toHaveLength(1);
    expect(p2.results[0].id).not.toBe(p1.results[0].id);
    expect(p2.cursor).toBeNull();
    expect(() => index.query({ q: 'x', cursor: 'bogus' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CURSOR' }),
    );
    // An update changes what is found; a retraction (deletion) removes it.
    const renamed = await entry(alice, 'os', { title: 'A plain title', tags: ['os'] });
    index.apply([renamed]);
    expect(index.query({ q: '区块链' }).results.map((r) => r.title)).toEqual(['Another blockchain note']);
    expect(index.query({ q: 'plain' }).results[0].id).toBe(idOfEntry(os));
    index.apply([[other[0], null]]);
    expect(index.query({ q: '区块链' }).results).toEqual([]);
  });

  it('finds names', async () => {
    const index = new SearchIndex();
    const e = {
      name: 'alice',
      owner: alice.address,
      ownerKey: alice.publicKey,
      registeredAt: 1,
      expires: 100,
      records: { ...EMPTY_RECORDS, txt: ['home of alice'] },
      transfer: null,
    };
    index.apply([[nameKey('alice'), encodeEntry(e)]]);
    expect(index.query({ q: 'alice' }).results[0]).toMatchObject({
      id: 'name:alice',
      kind: 'name',
      title: 'alice.vos',
    });
  });

  it('ANDs the words across fields (each word in any field), ranked by field weight and position', async () => {
    // flexsearch's own Document search ANDs within one field: it would find only d.
    const a = await entry(alice, 'a', { title: 'alpha report', description: 'beta' });
    const b = await entry(alice, 'b', { title: 'beta', tags: ['alpha'] });
    const c = await entry(alice, 'c', { title: 'alpha gamma' });
    const d = await entry(alice, 'd', { title: 'd', description: 'alpha beta' });
    const index = new SearchIndex();
    await index.load(all([a, b, c, d]));
    const r = index.query({ q: 'Beta ALPHA' }).results;
    // b: beta first in the title (4 x 9) + alpha first tag (3 x 9); a: 4 x 9 + first in the
    // description (2 x 9); d: description, first and second (2 x 9 + 2 x 8); out of 36 per word.
    expect(r.map((x) => [x.id, x.score])).toEqual([
      [idOfEntry(b), 63 / 36],
      [idOfEntry(a), 54 / 36],
      [idOfEntry(d), 34 / 36],
    ]);
    expect(index.query({ q: 'alpha beta gamma' }).results).toEqual([]);
    expect(index.query({ q: 'alpha nowhere' }).results).toEqual([]);
    expect(index.query({ q: '!!!' })).toEqual({ results: [], cursor: null });
  });

  it('pages through ties by id: none twice, none skipped, the same pages however the index was built', async () => {
    const list: Entry[] = [];
    for (let i = 0; i < 45; i++)
      list.push(await entry(i % 2 ? alice : bob, `tie ${i}`, { title: 'same words' }));
    const pages = (index: SearchIndex, q: string) => {
      const out: string[][] = [];
      let cursor: string | undefined;
      do {
        const r = index.query({ q, limit: 7, cursor });
        out.push(r.results.map((x) => x.id));
        cursor = r.cursor ?? undefined;
      } while (cursor !== undefined);
      return out;
    };
    const forward = new SearchIndex();
    await forward.load(all(list));
    const p = pages(forward, 'words same');
    expect(p.map((x) => x.length)).toEqual([7, 7, 7, 7, 7, 7, 3]);
    expect(p.flat()).toEqual(list.map(idOfEntry).sort());
    const backward = new SearchIndex();
    await backward.load(all([...list].reverse()));
    expect(pages(backward, 'words same')).toEqual(p);
    // Built by updates instead (every item retitled away and back): the same pages.
    const churned = new SearchIndex();
    await churned.load(all(list));
    for (const e of list) churned.apply([[e[0], (await entry(alice, 'x', { title: 'other' }))[1]]]);
    churned.apply(list);
    expect(pages(churned, 'words same')).toEqual(p);
    // A keyset cursor: an item added ahead of it does not shift the next page.
    const first = forward.query({ q: 'same', limit: 7 });
    forward.apply([await entry(alice, 'late', { title: 'same words' })]);
    const next = forward.query({ q: 'same', limit: 7, cursor: first.cursor as string });
    expect(next.results.map((x) => x.id)).toEqual(
      [...p.flat(), idOfEntry(await entry(alice, 'late', {}))]
        .sort()
        .filter((id) => id > first.results[6].id)
        .slice(0, 7),
    );
  });

  it('multiplies relevance by the boost hook', async () => {
    const a = await entry(alice, 'a', { title: 'word' });
    const b = await entry(alice, 'b', { title: 'word' });
    const favoured = idOfEntry(a) < idOfEntry(b) ? b : a;
    const index = new SearchIndex({ boost: { of: (id) => (id === idOfEntry(favoured) ? 3 : 1), max: 3 } });
    await index.load(all([a, b]));
    expect(index.query({ q: 'word' }).results.map((r) => [r.id, r.score])).toEqual([
      [idOfEntry(favoured), 3],
      [idOfEntry(favoured === a ? b : a), 1],
    ]);
  });

  it('stays right after enough removals to sweep the index', async () => {
    const list: Entry[] = [];
    for (let i = 0; i < 5000; i++) list.push(await entry(alice, `gone ${i}`, { title: `keep w${i}` }));
    const index = new SearchIndex();
    await index.load(all(list));
    index.apply(list.slice(1).map(([k]) => [k, null]));
    expect(index.size).toBe(1);
    expect(index.query({ q: 'w17' }).results).toEqual([]);
    expect(index.query({ q: 'keep' }).results.map((r) => r.id)).toEqual([idOfEntry(list[0])]);
    index.apply([await entry(alice, 'new', { title: 'keep w17' })]);
    expect(index.query({ q: 'keep w17' }).results).toHaveLength(1);
  });

  it("looks a common word up in the forward entries of a rare word's candidates", async () => {
    const list: Entry[] = [];
    for (let i = 0; i < 100; i++) list.push(await entry(alice, `c ${i}`, { title: `common x${i}` }));
    const rare = await entry(alice, 'rare', { title: 'rare', description: 'the common one' });
    const index = new SearchIndex();
    await index.load(all([...list, rare]));
    // 1 candidate x 32 < 101 postings: a lookup, not a walk. rare 4 x 9, common second in the description 2 x 8.
    expect(index.query({ q: 'common rare' }).results.map((r) => [r.id, r.score])).toEqual([
      [idOfEntry(rare), 52 / 36],
    ]);
  });

  it('walks every list of the level that ties the last kept (title slot 3 = first tag but one)', async () => {
    const byId = await Promise.all(
      ['p', 'q', 'r'].map(async (t) => ({ t, id: idOfEntry(await entry(alice, t, {})) })),
    );
    const [y, ...xs] = byId.sort((a, b) => (a.id < b.id ? -1 : 1));
    const index = new SearchIndex();
    index.apply(await Promise.all(xs.map((x) => entry(alice, x.t, { title: 'a b c word' }))));
    index.apply([await entry(alice, y.t, { tags: ['other', 'word'] })]);
    // Both levels are 24 (4 x 6, 3 x 8); y has the smallest id, so it is first though its list comes last.
    const r = index.query({ q: 'word', limit: 1 });
    expect(r.results.map((x) => [x.id, x.score])).toEqual([[y.id, 24 / 36]]);
  });

  it('orders ids that share their first 7 characters (name:al...) by the whole id, across pages', async () => {
    const index = new SearchIndex();
    const names = ['alice', 'alicf', 'alic', 'alicea', 'alibi', 'al'];
    for (const name of names) {
      const e = { name, owner: alice.address, ownerKey: alice.publicKey, registeredAt: 1, expires: 100 };
      index.apply([[nameKey(name), encodeEntry({ ...e, records: EMPTY_RECORDS, transfer: null })]]);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const r = index.query({ q: 'vos', limit: 2, cursor });
      seen.push(...r.results.map((x) => x.id));
      cursor = r.cursor ?? undefined;
    } while (cursor !== undefined);
    // 'al.vos' has vos second of two words, like the others: all tie.
    expect(seen).toEqual(names.map((n) => `name:${n}`).sort());
  });
  it('without words but with a filter: every match newest first, paged; without either: refused', async () => {
    const apps = await Promise.all(
      [3, 9, 9, 5].map((at, i) =>
        entry(i === 3 ? bob : alice, `app${i}`, {
          title: `app ${i}`,
          kind: 'executable',
          mime: 'application/wasm',
          publishedAt: 1,
          updatedAt: at,
        }),
      ),
    );
    const note = await entry(alice, 'note', { title: 'a note', updatedAt: 20 });
    const index = new SearchIndex();
    await index.load(all([...apps, note]));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = index.query({ q: '', kind: 'executable', limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...r.results.map((x) => x.title));
      if (r.cursor === null) break;
      cursor = r.cursor;
    }
    // Heights 9, 9 (ties by id), 5, 3; the note is another kind.
    const tied = [apps[1], apps[2]].map(idOfEntry).sort();
    const titleOf = (id: string) => (id === idOfEntry(apps[1]) ? 'app 1' : 'app 2');
    expect(seen).toEqual([titleOf(tied[0]), titleOf(tied[1]), 'app 3', 'app 0']);
    expect(index.query({ q: '  ', owner: bob.address.toString() }).results.map((r) => r.title)).toEqual([
      'app 3',
    ]);
    expect(index.query({ q: '', mime: 'text/plain' }).results.map((r) => r.title)).toEqual(['a note']);
    expect(() => index.query({ q: '' })).toThrow(/q must be 1-500 characters/);
  });
});
