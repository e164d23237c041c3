/**
 * The search index at 100,000 published items (VOS_BENCH_SEARCH_ITEMS) whose words follow Zipf's law
 * over 22 Latin and 16 Chinese words (a small vocabulary: every common word matches most items, the
 * hard case for top-k): build rate, heap bytes per item, query latency p50/p99 for one- and two-word
 * queries (drawn the same way, top 20), for SearchIndex (flexsearch) and for the minisearch index it
 * replaced (the first 600 queries), on the same corpus in the same run, beside a linear String.includes
 * scan of the titles. SearchIndex also: the second page (cursor) and an owner filter (1% of the items).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { PrivateKey } from '../chain/keys.js';
import { publishId, recordKey } from '../services/publish/layout.js';
import { encodeRecord } from '../services/publish/record.js';
import { SearchIndex } from '../services/search/index.js';
import { MiniSearchBaseline } from './search-minisearch.js';

const N = Number(process.env.VOS_BENCH_SEARCH_ITEMS ?? 100_000);
const EN =
  'block chain operating system node storage name search message video audio image picture music note app game code data open free fast small'.split(
    ' ',
  );
const ZH = '区块链 操作系统 存储 搜索 消息 视频 音乐 图片 应用 游戏 数据 开放 自由 快速 网络 节点'.split(' ');

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** A full collection, whether or not node runs with --expose-gc (heap figures need it). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Index {
  load(entries: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<void>;
}

/** Build rate and retained heap per item of a fresh index over the entries. */
async function build<T extends Index>(make: () => T, entries: [Uint8Array, Uint8Array][]) {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const index = make();
  const t0 = performance.now();
  await index.load(
    (async function* () {
      yield* entries;
    })(),
  );
  const seconds = (performance.now() - t0) / 1000;
  gc();
  const heapBytesPerItem = Math.round((process.memoryUsage().heapUsed - heap0) / entries.length);
  return { index, buildItemsPerSec: Math.round(entries.length / seconds), heapBytesPerItem };
}

/** p50 and p99 in ms of fn over the inputs. */
function latency<Q>(inputs: Q[], fn: (q: Q) => unknown): { p50: number; p99: number } {
  const lat: number[] = [];
  for (const q of inputs) {
    const t = performance.now();
    fn(q);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

export async function run() {
  const r = rng(7);
  const cumulative = (n: number) => {
    const c: number[] = [];
    let sum = 0;
    for (let k = 1; k <= n; k++) {
      sum += 1 / k;
      c.push(sum);
    }
    return c.map((x) => x / sum);
  };
  const cdf = new Map([EN, ZH].map((l) => [l, cumulative(l.length)]));
  const pick = (list: string[]) => {
    const c = cdf.get(list) as number[];
    const u = r();
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return list[lo];
  };
  const owners = Array.from({ length: 100 }, (_, i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i + 1)));
  const entries: [Uint8Array, Uint8Array][] = [];
  const titles: string[] = [];
  for (let i = 0; i < N; i++) {
    const cid = CID.create(1, raw.code, await sha256.digest(Buffer.from(`item ${i}`)));
    const owner = owners[i % owners.length].address;
    const title = `${pick(EN)} ${pick(EN)} ${pick(ZH)}${pick(ZH)} ${i}`;
    titles.push(title);
    entries.push([
      recordKey(publishId(owner, cid.bytes)),
      encodeRecord({
        owner,
        cid,
        size: 1000,
        mime: 'text/plain',
        kind: i % 5 === 0 ? 'image' : 'text',
        title,
        description: `${pick(EN)} ${pick(EN)} ${pick(EN)} ${pick(ZH)}`,
        tags: [pick(EN), pick(EN)].filter((t, j, a) => a.indexOf(t) === j),
        publishedAt: 1,
        updatedAt: 1,
      }),
    ]);
  }
  const queries = Array.from({ length: 2000 }, (_, i) =>
    i % 3 === 0 ? pick(ZH) : i % 3 === 1 ? pick(EN) : `${pick(EN)} ${pick(EN)}`,
  );

  // The baseline first, in a scope of its own: its index is garbage before SearchIndex is built.
  const ms = await (async () => {
    const { index, ...figures } = await build(() => new MiniSearchBaseline(), entries);
    // The first 600 queries only: at ~0.1-0.6 s each, all 2,000 would take minutes.
    return { ...figures, ...latency(queries.slice(0, 600), (q) => index.query({ q, limit: 20 })) };
  })();
  const fx = await build(() => new SearchIndex(), entries);
  const search = fx.index;
  const fxLat = latency(queries, (q) => search.query({ q, limit: 20 }));
  const page2 = latency(
    queries
      .map((q) => ({ q, cursor: search.query({ q, limit: 20 }).cursor }))
      .filter((x) => x.cursor !== null),
    ({ q, cursor }) => search.query({ q, limit: 20, cursor: cursor as string }),
  );
  const byOwner = latency(
    queries.map((q, i) => ({ q, owner: owners[i % owners.length].address.toString() })),
    (o) => search.query({ ...o, limit: 20 }),
  );

  const scan = latency(queries.slice(0, 300), (q) => {
    const words = q.split(' ');
    return titles.filter((x) => words.every((w) => x.includes(w))).slice(0, 20);
  });
  return {
    items: N,
    buildItemsPerSec: fx.buildItemsPerSec,
    heapBytesPerItem: fx.heapBytesPerItem,
    queryP50Ms: fxLat.p50,
    queryP99Ms: fxLat.p99,
    page2P50Ms: page2.p50,
    page2P99Ms: page2.p99,
    ownerFilterP50Ms: byOwner.p50,
    ownerFilterP99Ms: byOwner.p99,
    minisearchBuildItemsPerSec: ms.buildItemsPerSec,
    minisearchHeapBytesPerItem: ms.heapBytesPerItem,
    minisearchQueryP50Ms: ms.p50,
    minisearchQueryP99Ms: ms.p99,
    baselineLinearScanP50Ms: scan.p50,
    baselineLinearScanP99Ms: scan.p99,
    ratioP50ToScan: fxLat.p50 / scan.p50,
    ratioP50ToMinisearch: fxLat.p50 / ms.p50,
    note: 'SearchIndex = flexsearch 0.8.212 postings + rank.ts (AND across fields, top-k by score then id); minisearch 7.2.0 as the index was before (scores and sorts every match); heap after a full GC',
  };
}
