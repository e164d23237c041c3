/**
 * The inverted index (a flexsearch Document over title, tags and description, our tokenizer as its
 * `encode`) beside a forward entry per item (its distinct words and their levels), which ranking uses
 * to test and score the query's other words without walking their postings.
 *
 * flexsearch files an item's word in one of RESOLUTION slots per field (0 = best) by its position;
 * `slotOf` is that rule, given to flexsearch as its `score` option so both sides agree by construction.
 * A word's level in an item = field weight x (RESOLUTION - slot), the best over the fields it is in.
 */
import { Document } from 'flexsearch';
import type { SearchDoc } from './doc.js';
import { tokenize } from './tokenize.js';

export const RESOLUTION = 9;
/** minisearch's former field boosts (title 2, tags 1.5, description 1), doubled to stay integral. */
const WEIGHT = { title: 4, tags: 3, description: 2 } as const;
const FIELDS = ['title', 'tags', 'description'] as const;
export const MAX_LEVEL = WEIGHT.title * RESOLUTION;

/** The slot of the word at position i of a field of n words: i, scaled into the slots when n > RESOLUTION. */
export function slotOf(i: number, n: number): number {
  if (i === 0) return 0;
  return n <= RESOLUTION ? i : Math.floor(((RESOLUTION - 1) * i) / n) + 1;
}

/** An item's words (interned: one string per distinct word, so comparisons are by reference). */
export interface Terms {
  terms: string[];
  /** PERF: the level of terms[k] is levels.charCodeAt(k), one byte per word. */
  levels: string;
}

/** One (field, slot) posting list: flexsearch's own array, read only. */
export interface Posting {
  level: number;
  ids: readonly number[];
}

type Fields = { n: number; title: string; tags: string; description: string };

export class Postings {
  /** The tokens #add already made for the field texts it hands flexsearch (PERF: tokenize once). */
  readonly #pending = new Map<string, string[]>();
  readonly #doc = new Document<Fields>({
    document: { id: 'n', index: [...FIELDS] },
    tokenize: 'strict',
    resolution: RESOLUTION,
    fastupdate: true,
    encode: (text: string) => this.#pending.get(text) ?? tokenize(text),
    score: (words: string[], _term: string, i: number) => slotOf(i, words.length),
  });
  #dict = new Map<string, string>();

  /** Indexes item n; returns its forward entry. */
  add(n: number, d: SearchDoc): Terms {
    const level = new Map<string, number>();
    for (const f of FIELDS) {
      const words = tokenize(d[f]);
      this.#pending.set(d[f], words);
      // A repeated word keeps its first (best) level: slots only grow along a field.
      for (let i = 0; i < words.length; i++) {
        const l = WEIGHT[f] * (RESOLUTION - slotOf(i, words.length));
        const w = this.#intern(words[i]);
        if ((level.get(w) ?? -1) < l) level.set(w, l);
      }
    }
    this.#doc.add({ n, title: d.title, tags: d.tags, description: d.description });
    this.#pending.clear();
    return { terms: [...level.keys()], levels: String.fromCharCode(...level.values()) };
  }

  remove(n: number): void {
    this.#doc.remove(n);
  }

  /** The interned form of a query token, or undefined when no item has it. */
  word(token: string): string | undefined {
    return this.#dict.get(token);
  }

  /** Every nonempty posting list of a token, best level first. */
  lists(token: string): Posting[] {
    const out: Posting[] = [];
    for (const f of FIELDS) {
      // PERF: an unresolved single-word search hands out flexsearch's slot arrays themselves (no copy).
      const slots = this.#doc.search(token, { pluck: f, resolve: false }).result;
      for (let s = 0; s < slots.length; s++) {
        const ids = slots[s] as number[] | undefined;
        if (ids !== undefined && ids.length > 0) out.push({ level: WEIGHT[f] * (RESOLUTION - s), ids });
      }
    }
    return out.sort((a, b) => b.level - a.level);
  }

  /** Drops what removals left behind: flexsearch's emptied lists and words no live item has. */
  compact(live: Iterable<Terms>): void {
    this.#doc.cleanup();
    const dict = new Map<string, string>();
    for (const t of live) for (const w of t.terms) dict.set(w, w);
    this.#dict = dict;
  }

  #intern(w: string): string {
    const c = this.#dict.get(w);
    if (c !== undefined) return c;
    this.#dict.set(w, w);
    return w;
  }
}
