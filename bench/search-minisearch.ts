/**
 * The search index as it was before flexsearch (minisearch 7.2.0, BM25, AND of the query words,
 * title x2, tags x1.5), kept only as the search bench's baseline.
 */
import MiniSearch from 'minisearch';
import { docOf, type SearchDoc } from '../services/search/doc.js';
import { tokenize } from '../services/search/tokenize.js';

export class MiniSearchBaseline {
  readonly #ms = new MiniSearch<SearchDoc>({
    idField: 'id',
    fields: ['title', 'description', 'tags'],
    storeFields: ['id', 'kind', 'title', 'owner', 'cid', 'mime'],
    tokenize,
    processTerm: (t) => t,
    searchOptions: { tokenize, processTerm: (t) => t, combineWith: 'AND', boost: { title: 2, tags: 1.5 } },
  });

  async load(entries: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<void> {
    for await (const [k, v] of entries) {
      const d = docOf(k, v);
      if (d !== null) this.#ms.add(d);
    }
  }

  /** One page: every match is scored and sorted, then sliced. */
  query(o: { q: string; limit: number }): unknown[] {
    return this.#ms.search(o.q).slice(0, o.limit);
  }
}
