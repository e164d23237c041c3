/**
 * The web app's part of `npm run bench -- rpc`: the bundle's size (dist/web/manifest.json, written by
 * web/build.mjs; goal <= 300 KB gzipped) and the time to the first dashboard render in Debian's
 * Chromium (playwright-core): from navigation start to the dashboard showing the chain's height (the
 * bundle loaded and parsed, node_status answered, the first render done), in a fresh browser context
 * each round (nothing cached), beside a bare `node:http` page that shows a number the same way, in the
 * same run. Without /usr/bin/chromium the render figures are null (the size is still measured).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launchChromium } from './chromium.js';

const ROUNDS = Number(process.env.VOS_BENCH_WEB_ROUNDS ?? 10);
const GOAL_GZIP_KB = 300;
/** Page-side: the ms since navigation start once the height shows a number, else false. */
const HEIGHT_SHOWN =
  "/^[0-9]+$/.test(document.querySelector('[data-testid=height]')?.textContent ?? '') && performance.now()";
const BARE_PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><title>bare</title></head><body><div data-testid="height">1</div></body></html>';

export interface WebFigures {
  web_bundle_bytes: number;
  web_bundle_gzip_bytes: number;
  web_bundle_gzip_goal_bytes: number;
  web_first_render_ms: number | null;
  web_first_render_bare_ms: number | null;
  web_first_render_ratio: number | null;
  web_rounds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function bundleSize(): Promise<{ bytes: number; gzip: number }> {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const file = join(root, 'dist', 'web', 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const m = JSON.parse(await readFile(file, 'utf8')) as { total: { bytes: number; gzip: number } };
  return m.total;
}

/** Median ms from navigation start until [data-testid=height] shows a number, over ROUNDS fresh contexts. */
async function firstRender(url: string): Promise<number> {
  const browser = await launchChromium();
  try {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS + 1; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'commit', timeout: 30_000 });
      const handle = await page.waitForFunction(HEIGHT_SHOWN, undefined, { timeout: 30_000, polling: 'raf' });
      const ms = (await handle.jsonValue()) as number;
      if (i > 0) times.push(ms); // round 0 warms the browser's process and the node's caches
      await context.close();
    }
    return median(times);
  } finally {
    await browser.close();
  }
}

export async function webFigures(nodeUrl: string, progress: (msg: string) => void): Promise<WebFigures> {
  const size = await bundleSize();
  const out: WebFigures = {
    web_bundle_bytes: size.bytes,
    web_bundle_gzip_bytes: size.gzip,
    web_bundle_gzip_goal_bytes: GOAL_GZIP_KB * 1024,
    web_first_render_ms: null,
    web_first_render_bare_ms: null,
    web_first_render_ratio: null,
    web_rounds: ROUNDS,
  };
  if (!existsSync(CHROMIUM)) {
    progress(`no ${CHROMIUM}: the first-render figures are left out (apt-get install -y chromium)`);
    return out;
  }
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(BARE_PAGE);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  try {
    const port = (bare.address() as { port: number }).port;
    progress('web: first dashboard render in Chromium');
    const node = await firstRender(`${new URL(nodeUrl).origin}/`);
    progress('web: first render of a bare node:http page');
    const base = await firstRender(`http://127.0.0.1:${port}/`);
    out.web_first_render_ms = Number(node.toFixed(1));
    out.web_first_render_bare_ms = Number(base.toFixed(1));
    out.web_first_render_ratio = Number((node / base).toFixed(2));
  } finally {
    await new Promise((r) => bare.close(r));
  }
  return out;
}
