/**
 * The search index every node derives from its ledger (minisearch, in memory): published items and
 * names, loaded from the chain DB's index of committed state at start and updated from each block's
 * writes. Queries: full text (title, description, tags, name) with filters (kind, mime, owner),
 * ranked by relevance x boost (1 until the control module lands), paginated by cursor.
 */
import MiniSearch from 'minisearch';
import { hasPrefix, toHex } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import { NAME_REC_PREFIX } from '../naming/layout.js';
import { decodeEntry } from '../naming/records.js';
import { idOfKey, PUB_REC_PREFIX } from '../publish/layout.js';
import { decodeRecord } from '../publish/record.js';
import { tokenize } from './tokenize.js';

export interface SearchDoc {
  id: string;
  /** 'name' for a name, else the publish kind. */
  kind: string;
  title: string;
  description: string;
  tags: string;
  owner: string;
  cid: string;
  mime: string;
}

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

/** The document a committed state entry makes, or null when the key is not indexed. */
export function docOf(key: Uint8Array, value: Uint8Array): SearchDoc | null {
  if (hasPrefix(key, PUB_REC_PREFIX)) {
    const id = idOfKey(key);
    if (id === null) return null;
    const r = decodeRecord(value);
    return {
      id: toHex(id),
      kind: r.kind,
      title: r.title,
      description: r.description,
      tags: r.tags.join(' '),
      owner: r.owner.toString(),
      cid: r.cid.toString(),
      mime: r.mime,
    };
  }
  if (hasPrefix(key, NAME_REC_PREFIX)) {
    const name = Buffer.from(key.subarray(NAME_REC_PREFIX.length)).toString('latin1');
    const e = decodeEntry(name, value);
    return {
      id: `name:${name}`,
      kind: 'name',
      title: `${name}.vos`,
      description: e.records.txt.join(' '),
      tags: '',
      owner: e.owner.toString(),
      cid: e.records.content,
      mime: '',
    };
  }
  return null;
}

export class SearchIndex {
  readonly #ms = new MiniSearch<SearchDoc>({
    idField: 'id',
    fields: ['title', 'description', 'tags'],
    storeFields: ['id', 'kind', 'title', 'owner', 'cid', 'mime'],
    tokenize,
    processTerm: (t) => t,
    searchOptions: { tokenize, processTerm: (t) => t, combineWith: 'AND', boost: { title: 2, tags: 1.5 } },
  });

  get size(): number {
    return this.#ms.documentCount;
  }

  /** All indexed entries at start (the chain DB's mirror of committed state). */
  async load(entries: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<void> {
    for await (const [k, v] of entries) this.#put(k, v);
  }

  /** A block's writes to indexed state (null = deleted). */
  apply(changes: ReadonlyArray<[Uint8Array, Uint8Array | null]>): void {
    for (const [k, v] of changes) {
      const id = idOf(k);
      if (id === null) continue;
      if (this.#ms.has(id)) this.#ms.discard(id);
      if (v !== null) this.#put(k, v);
    }
  }

  #put(k: Uint8Array, v: Uint8Array): void {
    const doc = docOf(k, v);
    if (doc === null) return;
    if (this.#ms.has(doc.id)) this.#ms.discard(doc.id);
    this.#ms.add(doc);
  }

  query(o: SearchQuery): { results: SearchResult[]; cursor: string | null } {
    const q = o.q.trim();
    if (q === '' || q.length > 500)
      throw new SearchError({ code: 'INVALID_QUERY' }, 'q must be 1-500 characters');
    const limit = Math.min(Math.max(1, o.limit ?? 20), MAX_LIMIT);
    const offset = o.cursor === undefined ? 0 : parseCursor(o.cursor);
    const filtered = o.kind !== undefined || o.mime !== undefined || o.owner !== undefined;
    const hits = this.#ms.search(
      q,
      filtered
        ? {
            filter: (r) =>
              (o.kind === undefined || r.kind === o.kind) &&
              (o.mime === undefined || r.mime === o.mime) &&
              (o.owner === undefined || r.owner === o.owner),
          }
        : {},
    );
    // minisearch orders by relevance; x boost (the control module's search boost) is 1 until it lands.
    const page = hits.slice(offset, offset + limit).map((h) => ({
      id: String(h.id),
      cid: (h.cid as string) || null,
      title: h.title as string,
      kind: h.kind as string,
      owner: h.owner as string,
      mime: (h.mime as string) || null,
      score: h.score,
    }));
    const next = offset + limit < hits.length ? `o${offset + limit}` : null;
    return { results: page, cursor: next };
  }
}

function idOf(k: Uint8Array): string | null {
  if (hasPrefix(k, PUB_REC_PREFIX)) {
    const id = idOfKey(k);
    return id === null ? null : toHex(id);
  }
  if (hasPrefix(k, NAME_REC_PREFIX))
    return `name:${Buffer.from(k.subarray(NAME_REC_PREFIX.length)).toString('latin1')}`;
  return null;
}

function parseCursor(c: string): number {
  const m = /^o(\d{1,9})$/.exec(c);
  if (m === null) throw new SearchError({ code: 'INVALID_CURSOR' }, 'not a cursor this node gave');
  return Number(m[1]);
}
