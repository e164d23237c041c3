/**
 * The search index every node derives from its ledger (flexsearch, in memory): published items and
 * names, loaded from the chain DB's index of committed state at start and updated from each block's
 * writes. Queries: full text (title, description, tags; a name's title is NAME.vos), every word in
 * some field, with filters (kind, mime, owner), ranked by relevance x boost (the control
 * module's, per owner: the `boost` option), ties by id, paginated by cursor (rank.ts, cursor.ts).
 * Without words but with a filter: every matching item, newest first (browse: the app store, a
 * publisher's items).
 */
import { VosError } from '../../util/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { docOf, idOf, type SearchDoc } from './doc.js';
import { type Item, Items } from './items.js';
import { Postings } from './postings.js';
import { type Boost, type Key, rank } from './rank.js';
import { tokenize } from './tokenize.js';

export { docOf, type SearchDoc } from './doc.js';
export type { Boost } from './rank.js';

export interface SearchQuery {
  q: string;
  kind?: string | undefined;
  mime?: string | undefined;
  owner?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface SearchResult {
  id: string;
  cid: string | null;
  title: string;
  kind: string;
  owner: string;
  mime: string | null;
  score: number;
}

export class SearchError extends VosError<{ code: 'INVALID_CURSOR' | 'INVALID_QUERY' }> {}

export const MAX_LIMIT = 100;

export class SearchIndex {
  readonly #postings = new Postings();
  readonly #items = new Items();
  /** The control module's search boost per item (by its owner); none = 1. */
  readonly #boost: Boost | null;
  #removed = 0;

  constructor(o: { boost?: Boost } = {}) {
    this.#boost = o.boost ?? null;
  }

  get size(): number {
    return this.#items.size;
  }

  /** All indexed entries at start (the chain DB's mirror of committed state). */
  async load(entries: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<void> {
    for await (const [k, v] of entries) this.#put(docOf(k, v));
  }

  /** A block's writes to indexed state (null = deleted). */
  apply(changes: ReadonlyArray<[Uint8Array, Uint8Array | null]>): void {
    for (const [k, v] of changes) {
      const id = idOf(k);
      if (id === null) continue;
      this.#remove(id);
      if (v !== null) this.#put(docOf(k, v));
    }
  }

  #put(d: SearchDoc | null): void {
    if (d === null) return;
    this.#remove(d.id);
    const n = this.#items.alloc();
    const { terms, levels } = this.#postings.add(n, d);
    const { id, kind, title, owner, cid, mime, at } = d;
    this.#items.set(n, { id, kind, title, owner, cid, mime, at, terms, levels });
  }

  #remove(id: string): void {
    const n = this.#items.delete(id);
    if (n === undefined) return;
    this.#postings.remove(n);
    // PERF: removals leave emptied lists and unused words; sweep once they match the live items.
    if (++this.#removed > Math.max(4096, this.size)) {
      this.#postings.compact(this.#items.live());
      this.#removed = 0;
    }
  }

  query(o: SearchQuery): { results: SearchResult[]; cursor: string | null } {
    const q = o.q.trim();
    const filtered = o.kind !== undefined || o.mime !== undefined || o.owner !== undefined;
    if ((q === '' && !filtered) || q.length > 500)
      throw new SearchError(
        { code: 'INVALID_QUERY' },
        'q must be 1-500 characters (or empty with a kind, mime or owner filter: newest first)',
      );
    const limit = Math.min(Math.max(1, o.limit ?? 20), MAX_LIMIT);
    const after = o.cursor === undefined ? null : decodeCursor(o.cursor);
    if (after === null && o.cursor !== undefined)
      throw new SearchError({ code: 'INVALID_CURSOR' }, 'not a cursor this node gave');
    if (q === '') return this.#browse(o, limit, after);
    const words: string[] = [];
    for (const t of new Set(tokenize(q))) {
      const w = this.#postings.word(t);
      if (w === undefined) return { results: [], cursor: null };
      words.push(w);
    }
    const lists = words.map((w) => this.#postings.lists(w));
    if (words.length === 0 || lists.some((l) => l.length === 0)) return { results: [], cursor: null };
    const list = this.#items.list;
    const accepts = filterOf(o);
    const top = rank(words, lists, this.#items, {
      accept: (n) => accepts(list[n]!),
      after,
      k: limit + 1,
      boost: this.#boost,
    });
    return page(
      top.map(({ score, n }) => [list[n]!, score]),
      limit,
    );
  }

  /**
   * No words, only filters: the matching items, newest first (by the height of their last update;
   * then by id). The cursor's score is that height. PERF: a scan of every item, O(n + m log m) for
   * m matches; fine for the browse page, the word search above is the indexed path.
   */
  #browse(
    o: SearchQuery,
    limit: number,
    after: Key | null,
  ): { results: SearchResult[]; cursor: string | null } {
    const accepts = filterOf(o);
    const before = (it: Item) =>
      after === null || it.at < after.score || (it.at === after.score && it.id > after.id);
    const hits: Item[] = [];
    for (const it of this.#items.live()) if (accepts(it) && before(it)) hits.push(it);
    hits.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return page(
      hits.map((it) => [it, it.at]),
      limit,
    );
  }
}

/** The query's kind / mime / owner filter. */
function filterOf({ kind, mime, owner }: SearchQuery): (it: Item) => boolean {
  return (it) =>
    (kind === undefined || it.kind === kind) &&
    (mime === undefined || it.mime === mime) &&
    (owner === undefined || it.owner === owner);
}

/** The first `limit` of the ordered [item, score] matches, and the cursor after them when more follow. */
function page(ordered: [Item, number][], limit: number): { results: SearchResult[]; cursor: string | null } {
  const results = ordered.slice(0, limit).map(([it, score]) => ({
    id: it.id,
    cid: it.cid || null,
    title: it.title,
    kind: it.kind,
    owner: it.owner,
    mime: it.mime || null,
    score,
  }));
  const last = results[results.length - 1];
  const cursor = ordered.length > limit ? encodeCursor({ score: last.score, id: last.id }) : null;
  return { results, cursor };
}
