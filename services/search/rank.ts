/**
 * Top-k retrieval over the postings: every query word must be in some field of an item (AND across
 * fields, which flexsearch's Document search does not do: it ANDs within one field). An item's
 * relevance = the sum of its words' levels / MAX_LEVEL; score = relevance x boost; order = score
 * descending, then id ascending, so a page is the same whatever order the index was built in.
 *
 * PERF: words go rarest first. The rarest word's lists give the candidates (best level first, so an
 * item met twice keeps its best); each next word narrows them, by walking its lists when they are
 * short next to the candidates, else by looking it up in each candidate's forward entry. Marks, sums
 * and candidates are typed arrays by item number; items are read as objects only for those lookups,
 * for filters and ids of the few that could enter the top k. One word stops at the first list that
 * cannot beat the k-th kept (a common word costs its best tied list, not all its items).
 */
import { type Items, idKey } from './items.js';
import { MAX_LEVEL, type Posting } from './postings.js';

export interface Boost {
  /** The factor of an item (the control module's: 1 + its owner's boost). */
  of(id: string, owner: string): number;
  /** An upper bound of `of`: an item whose relevance x max cannot enter the top is not looked up. */
  readonly max: number;
}

/** Where the previous page ended. */
export interface Key {
  score: number;
  id: string;
}

export interface Hit {
  score: number;
  n: number;
}

export interface RankOptions {
  accept: (n: number) => boolean;
  after: Key | null;
  /** How many to keep. */
  k: number;
  boost: Boost | null;
}

/** A forward lookup costs about this many posting steps (measured: an object read and a short scan). */
const LOOKUP_COST = 32;

/** The best k items (after `after`) that have every word; lists[j] = word j's posting lists, best first. */
export function rank(
  words: readonly string[],
  lists: readonly Posting[][],
  items: Items,
  o: RankOptions,
): Hit[] {
  const stamp = items.stamps(words.length);
  const top: Hit[] = [];
  if (words.length === 1) {
    // An item's relevance is the level of the first list it is in: stop at the first list whose level
    // cannot beat the k-th kept.
    for (const p of lists[0]) {
      if (top.length === o.k && (p.level / MAX_LEVEL) * (o.boost?.max ?? 1) < top[o.k - 1].score) break;
      select(items, gather(items, [p], stamp), o, top);
    }
    return top;
  }
  const sizes = lists.map((ls) => ls.reduce((s, p) => s + p.ids.length, 0));
  const order = words.map((_, j) => j).sort((a, b) => sizes[a] - sizes[b]);
  let c = gather(items, lists[order[0]], stamp);
  for (let j = 1; j < order.length && c > 0; j++) {
    const w = order[j];
    c = narrow(items, c, stamp + j, c * LOOKUP_COST < sizes[w] ? words[w] : lists[w]);
  }
  select(items, c, o, top);
  return top;
}

/** Appends the items of lists not yet stamped to the candidates, each with its first (best) level. */
function gather(items: Items, lists: readonly Posting[], stamp: number): number {
  let c = 0;
  const { mark, acc, cand } = items;
  for (const p of lists)
    for (const n of p.ids)
      if (mark[n] !== stamp) {
        mark[n] = stamp;
        acc[n] = p.level;
        cand[c++] = n;
      }
  return c;
}

/**
 * Keeps the first c candidates (stamped s - 1) that have the next word, adding its level and stamping
 * them s: by looking the word up in each candidate's forward entry, or by walking the word's lists.
 */
function narrow(items: Items, c: number, s: number, next: string | readonly Posting[]): number {
  const { mark, acc, cand } = items;
  if (typeof next === 'string') {
    for (let i = 0; i < c; i++) {
      const it = items.list[cand[i]]!;
      const at = it.terms.indexOf(next);
      if (at < 0) continue;
      mark[cand[i]] = s;
      acc[cand[i]] += it.levels.charCodeAt(at);
    }
  } else {
    for (const p of next)
      for (const n of p.ids)
        if (mark[n] === s - 1) {
          mark[n] = s;
          acc[n] += p.level;
        }
  }
  let kept = 0;
  for (let i = 0; i < c; i++) if (mark[cand[i]] === s) cand[kept++] = cand[i];
  return kept;
}

/** Offers the first c candidates to top (best first, at most k). */
function select(items: Items, c: number, o: RankOptions, top: Hit[]): void {
  const { acc, cand } = items;
  const max = o.boost?.max ?? 1;
  const after = o.after;
  const afterKey = after === null ? 0 : idKey(after.id);
  for (let i = 0; i < c; i++) {
    const n = cand[i];
    const relevance = acc[n] / MAX_LEVEL;
    const worst = top.length === o.k ? top[o.k - 1] : null;
    if (worst !== null && relevance * max < worst.score) continue;
    const it = items.list[n]!;
    const score = o.boost === null ? relevance : relevance * o.boost.of(it.id, it.owner);
    if (
      after !== null &&
      !(score < after.score || (score === after.score && idAfter(items, n, afterKey, after.id)))
    )
      continue;
    if (worst !== null && !(score > worst.score || (score === worst.score && before(items, n, worst.n))))
      continue;
    if (!o.accept(n)) continue;
    if (worst !== null) top.pop();
    let at = top.length;
    while (
      at > 0 &&
      (score > top[at - 1].score || (score === top[at - 1].score && before(items, n, top[at - 1].n)))
    )
      at--;
    top.splice(at, 0, { score, n });
  }
}

/** Whether item a's id sorts before item b's. */
function before(items: Items, a: number, b: number): boolean {
  const { key } = items;
  return key[a] < key[b] || (key[a] === key[b] && items.list[a]!.id < items.list[b]!.id);
}

/** Whether item n's id sorts after id (whose idKey is k). */
function idAfter(items: Items, n: number, k: number, id: string): boolean {
  return items.key[n] > k || (items.key[n] === k && items.list[n]!.id > id);
}
