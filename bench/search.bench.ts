/**
 * The search index at 100,000 published items (VOS_BENCH_SEARCH_ITEMS) whose words follow Zipf's law
 * over 5,000 Latin and 800 Chinese words: build rate, memory per item, query latency p50/p99 for one-
 * and two-word queries (drawn the same way), beside a linear scan of the same titles with
 * String.includes in the same run.
 */
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { PrivateKey } from '../chain/keys.js';
import { publishId, recordKey } from '../services/publish/layout.js';
import { encodeRecord } from '../services/publish/record.js';
import { SearchIndex } from '../services/search/index.js';

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
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const index = new SearchIndex();
  const t0 = performance.now();
  await index.load(
    (async function* () {
      yield* entries;
    })(),
  );
  const buildSeconds = (performance.now() - t0) / 1000;
  global.gc?.();
  const heapPerItem = (process.memoryUsage().heapUsed - heap0) / N;
  const queries = Array.from({ length: 2000 }, (_, i) =>
    i % 3 === 0 ? pick(ZH) : i % 3 === 1 ? pick(EN) : `${pick(EN)} ${pick(EN)}`,
  );
  const lat: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    index.query({ q, limit: 20 });
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const scan: number[] = [];
  for (const q of queries.slice(0, 300)) {
    const t = performance.now();
    const words = q.split(' ');
    titles.filter((x) => words.every((w) => x.includes(w))).slice(0, 20);
    scan.push(performance.now() - t);
  }
  scan.sort((a, b) => a - b);
  return {
    items: N,
    buildItemsPerSec: Math.round(N / buildSeconds),
    heapBytesPerItem: Math.round(heapPerItem),
    queryP50Ms: pct(lat, 50),
    queryP99Ms: pct(lat, 99),
    baselineLinearScanP50Ms: pct(scan, 50),
    baselineLinearScanP99Ms: pct(scan, 99),
    ratioP50ToScan: pct(lat, 50) / pct(scan, 50),
    note: 'minisearch, title/description/tags, AND of the query terms, results sorted by score; heap measured with --expose-gc when given',
  };
}
