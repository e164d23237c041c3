/**
 * The node's web app in Debian's Chromium (playwright-core) against a 4-validator devnet of real
 * processes:
 * - the dashboard's height advances live (newHeads over the WebSocket, no reload), with the validators
 *   and the charts; every request the page makes goes to the node itself (no CDN);
 * - the block, tx, account and validator pages of a transfer sent through the CLI;
 * - a name registered and updated through the CLI shows its records marked verified on another node
 *   (the browser checked the proof, header, commit and validator set itself);
 * - through a test-only proxy that rewrites name_resolve's records in the node's JSON answer, the same
 *   page shows them as not verified;
 * - a picture published through the CLI on one node is found by the content browser's search on
 *   another (filtered by kind and by the publisher's name), its thumbnail and preview load from
 *   GET /content/<cid>, and a text item's preview shows its words;
 * - after that run (plus a DNS query with dig, a message, an app call, a stored file), a scrape of
 *   /metrics has every metric the operators' dashboards use, with sane values.
 * Screenshots go to test/artifacts/web/. Without /usr/bin/chromium the file is skipped, except under
 * CI=true, where it fails (.ci/run installs chromium).
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { browserSuite, launchChromium, shot } from '../helpers/browser.js';
import { execVosJson } from '../helpers/cli.js';
import {
  type DevnetInfo,
  heightOf,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';
import { makePng } from '../helpers/png.js';

const TAMPERED_TXT = 'tampered by the proxy';

/**
 * A proxy in front of a node that forwards everything (HTTP and WebSocket upgrades) unchanged, except
 * that in JSON-RPC answers to name_resolve it replaces the TXT records: what a lying node would send.
 */
async function startTamperProxy(
  target: URL,
  port: number,
): Promise<{ server: Server; tampered: () => number }> {
  let tampered = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: IncomingHttpHeaders = { ...req.headers };
      delete headers['accept-encoding'];
      const up = request(
        { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers },
        (ur) => {
          const out: Buffer[] = [];
          ur.on('data', (c: Buffer) => out.push(c));
          ur.on('end', () => {
            let data = Buffer.concat(out);
            if (req.method === 'POST' && String(ur.headers['content-type']).includes('json')) {
              const calls = [JSON.parse(body.toString() || 'null')].flat() as {
                id?: unknown;
                method?: string;
              }[];
              const ids = new Set(calls.filter((c) => c?.method === 'name_resolve').map((c) => c.id));
              if (ids.size > 0) {
                const answer = JSON.parse(data.toString());
                for (const r of [answer].flat() as {
                  id: unknown;
                  result?: { records?: { txt: string[] } };
                }[]) {
                  if (ids.has(r.id) && r.result?.records) {
                    r.result.records.txt = [TAMPERED_TXT];
                    tampered++;
                  }
                }
                data = Buffer.from(JSON.stringify(answer));
              }
            }
            const h = { ...ur.headers, 'content-length': String(data.length) };
            res.writeHead(ur.statusCode ?? 502, h);
            res.end(data);
          });
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const up = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, tampered: () => tampered };
}

const heightOnPage = async (page: Page) => Number(await page.getByTestId('height').textContent());

browserSuite('the web app in Chromium on a devnet (real processes)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let basePort = 0;
  let browser: Browser | undefined;
  let proxy: Server | undefined;
  const pageErrors: string[] = [];

  const newPage = async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    return page;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-web-'));
    basePort = randomBasePort();
    ({ proc: supervisor, info } = await startDevnet(dir, 4, basePort, {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '300',
    }));
    await waitFor('height 2', async () => (await heightOf(info.nodes[0].rpc)) >= 2, 60_000);
    browser = await launchChromium();
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the dashboard shows the chain and its height advances live, served by the node alone', async () => {
    const page = await newPage();
    const origin = new URL(info.nodes[0].rpc).origin;
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${origin}/`);
    await page
      .getByTestId('height')
      .filter({ hasText: /^[0-9]+$/ })
      .waitFor({ timeout: 30_000 });
    const first = await heightOnPage(page);
    await page.getByText('Live: new blocks arrive over the WebSocket').waitFor({ timeout: 20_000 });
    await waitFor(
      'the height on the page to advance by 3',
      async () => (await heightOnPage(page)) >= first + 3,
      30_000,
    );
    await page.locator('[data-testid=validators] tbody tr').nth(3).waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid=validators] tbody tr').count()).toBe(4);
    expect(await page.locator('[data-testid=chart-block-time] rect').count()).toBeGreaterThan(1);
    expect(await page.getByTestId('block-time').textContent()).toMatch(/^[0-9.]+ s$/);
    await shot(page, 'dashboard');
    const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requests.some((u) => /\/app\/main-[A-Z0-9]+\.js$/i.test(u))).toBe(true);
    await page.close();
  }, 120_000);

  it('block, tx, account and validator pages of a transfer sent through the CLI', async () => {
    const to = info.nodes[2].address;
    const sent = await execVosJson<{ hash: string; height: number }>([
      'tx',
      'transfer',
      '--home',
      info.nodes[0].home,
      '--rpc',
      info.nodes[0].rpc,
      '--to',
      to,
      '--amount',
      '12345',
    ]);
    const page = await newPage();
    const origin = new URL(info.nodes[1].rpc).origin;
    await page.goto(`${origin}/#/tx/${sent.hash}`);
    await page.getByText('ok', { exact: true }).waitFor({ timeout: 20_000 });
    expect(await page.getByText(String(to)).count()).toBeGreaterThan(0);
    await shot(page, 'tx');
    await page
      .getByRole('link', { name: String(sent.height), exact: true })
      .first()
      .click();
    await page
      .getByRole('heading', { name: new RegExp(`^Block ${sent.height}`) })
      .waitFor({ timeout: 20_000 });
    expect(await page.getByRole('link', { name: sent.hash.slice(0, 10), exact: false }).count()).toBe(1);
    await shot(page, 'block');
    await page.goto(`${origin}/#/account/${to}`);
    await page.getByTestId('balance').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('balance').textContent()).toMatch(/^[0-9,]+$/);
    await shot(page, 'account');
    await page.goto(`${origin}/#/validators`);
    await page.locator('[data-testid=validators] tbody tr').nth(3).waitFor({ timeout: 20_000 });
    await shot(page, 'validators');
    await page.close();
  }, 120_000);

  it('a name registered through the CLI shows its records verified by the browser, on another node', async () => {
    const home = info.nodes[0].home;
    const rpc = info.nodes[0].rpc;
    await execVosJson(['name', 'register', 'webtest', '--home', home, '--rpc', rpc]);
    await execVosJson([
      'name',
      'update',
      'webtest',
      '--home',
      home,
      '--rpc',
      rpc,
      '--a',
      '10.0.0.7',
      '--txt',
      'hello from the web test',
    ]);
    const page = await newPage();
    await page.goto(`${new URL(info.nodes[1].rpc).origin}/#/name/webtest`);
    const v = page.getByTestId('verification');
    await v.waitFor({ timeout: 30_000 });
    expect(await v.getAttribute('data-verified')).toBe('true');
    expect(await v.textContent()).toContain('Verified by this browser');
    await page.getByText('"hello from the web test"').waitFor({ timeout: 5000 });
    const rows = page.getByTestId('record');
    expect(await rows.count()).toBeGreaterThanOrEqual(5);
    for (const flag of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-verified'))))
      expect(flag).toBe('true');
    await shot(page, 'name-verified');
    await page.close();
  }, 240_000);

  it('the content browser finds a picture published on another node and plays its preview', async () => {
    const home = info.nodes[0].home;
    const rpc = info.nodes[0].rpc;
    const png = join(dir, 'lighthouse.png');
    await writeFile(png, makePng(96, 64));
    const pic = await execVosJson<{ id: string; cid: string }>([
      'publish',
      png,
      '--title',
      'Lighthouse at dusk',
      '--tags',
      'photo,sea',
      '--home',
      home,
      '--rpc',
      rpc,
    ]);
    const note = join(dir, 'tide.txt');
    await writeFile(note, 'Tide tables for the lighthouse keeper.\n');
    const txt = await execVosJson<{ id: string }>([
      'publish',
      note,
      '--title',
      'Lighthouse tides',
      '--home',
      home,
      '--rpc',
      rpc,
    ]);
    const page = await newPage();
    const origin = new URL(info.nodes[2].rpc).origin;
    // webtest (registered above) is node0's name: the publisher filter by name.
    await page.goto(`${origin}/#/content?q=lighthouse&kind=image&owner=webtest`);
    const results = page.getByTestId('result');
    await waitFor('the picture in the search results', async () => (await results.count()) === 1, 30_000);
    expect(await results.first().textContent()).toContain('Lighthouse at dusk');
    expect(await results.first().getByTestId('publisher').textContent()).toContain('webtest');
    const thumbLoaded = () =>
      page
        .getByTestId('thumb')
        .first()
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    await waitFor('the thumbnail to load', async () => (await thumbLoaded()) === 96, 20_000);
    await shot(page, 'content-search');
    // Without the kind filter, the search form finds both items.
    await page.getByTestId('content-kind').selectOption('');
    await page.getByRole('button', { name: 'Search' }).click();
    await waitFor('both items', async () => (await results.count()) === 2, 20_000);
    await page.getByRole('link', { name: 'Lighthouse at dusk' }).click();
    await page
      .getByTestId('content-title')
      .filter({ hasText: 'Lighthouse at dusk' })
      .waitFor({ timeout: 20_000 });
    const preview = page.getByTestId('preview-image');
    await waitFor(
      'the preview to load',
      async () =>
        (await preview.evaluate((i) => (i as unknown as { naturalHeight: number }).naturalHeight)) === 64,
      20_000,
    );
    expect(await page.getByText(pic.cid).count()).toBe(1);
    await shot(page, 'content-item');
    await page.goto(`${origin}/#/content/${txt.id}`);
    await page
      .getByTestId('preview-text')
      .filter({ hasText: 'Tide tables for the lighthouse keeper.' })
      .waitFor({ timeout: 20_000 });
    await page.close();
  }, 120_000);

  it('the same name through a proxy that rewrites the records: shown as not verified', async () => {
    const p = await startTamperProxy(new URL(info.nodes[1].rpc), basePort + 95);
    proxy = p.server;
    const page = await newPage();
    await page.goto(`http://127.0.0.1:${basePort + 95}/#/name/webtest`);
    const v = page.getByTestId('verification');
    await v.waitFor({ timeout: 30_000 });
    expect(await v.getAttribute('data-verified')).toBe('false');
    expect(await v.textContent()).toContain('the records are not the proven ones');
    await page.getByText(`"${TAMPERED_TXT}"`).waitFor({ timeout: 5000 });
    for (const flag of await page
      .getByTestId('record')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-verified'))))
      expect(flag).toBe('false');
    expect(p.tampered()).toBeGreaterThan(0);
    await shot(page, 'name-tampered');
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);
  it('a scrape of /metrics after the run has every metric with sane values', async () => {
    const [n0, n1] = info.nodes;
    const status = await execVosJson<{ dns?: number }>(['status', '--rpc', n0.rpc, '--json']);
    expect(status.dns).toBeGreaterThan(0);
    const { stdout } = await promisify(execFile)(
      'dig',
      ['@127.0.0.1', '-p', String(status.dns), '+time=3', '+tries=1', 'webtest.vos', 'A'],
      { timeout: 20_000 },
    );
    expect(stdout).toContain('10.0.0.7');
    const missing = await promisify(execFile)(
      'dig',
      ['@127.0.0.1', '-p', String(status.dns), '+time=3', '+tries=1', 'no-such-name-here.vos', 'TXT'],
      { timeout: 20_000 },
    );
    expect(missing.stdout).toContain('status: NXDOMAIN');
    await execVosJson([
      'msg',
      'send',
      n1.address,
      'a message for the metrics',
      '--home',
      n0.home,
      '--rpc',
      n0.rpc,
    ]);
    const app = await execVosJson<{ app: string }>([
      'app',
      'deploy',
      join(process.cwd(), 'apps', 'build', 'counter.wasm'),
      '--home',
      n0.home,
      '--rpc',
      n0.rpc,
    ]);
    await execVosJson(['app', 'call', app.app, 'increment', '--home', n0.home, '--rpc', n0.rpc]);
    await execVosJson(['app', 'query', app.app, 'get', '--rpc', n0.rpc]);
    const stored = join(dir, 'stored.bin');
    await writeFile(stored, Buffer.alloc(50_000, 7));
    await execVosJson(['store', 'put', stored, '--rpc', n0.rpc]);

    const res = await fetch(`${new URL(n0.rpc).origin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    /** The value of one sample (`name{labels}`), undefined when absent. */
    const sample = (series: string): number | undefined => {
      for (const line of text.split('\n'))
        if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
      return undefined;
    };
    /** The sum of every sample of a metric whose labels include `labels`. */
    const sum = (name: string, labels: Record<string, string> = {}): number => {
      let total = 0;
      let seen = false;
      for (const line of text.split('\n')) {
        const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
        if (m === null || m[1] !== name) continue;
        if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
        total += Number(m[3]);
        seen = true;
      }
      if (!seen) throw new Error(`no ${name}${JSON.stringify(labels)} in the scrape`);
      return total;
    };
    const height = await heightOf(n0.rpc);
    expect(sample('vos_consensus_height')).toBeGreaterThan(height - 5);
    expect(sample('vos_consensus_height')).toBeLessThanOrEqual(height + 1);
    expect(sample('vos_consensus_rounds')).toBeGreaterThanOrEqual(0);
    const blocks = sum('vos_consensus_block_interval_seconds_count');
    expect(blocks).toBeGreaterThan(10);
    // Empty blocks come every 300 ms here: the mean interval is well under 10 s.
    expect(sum('vos_consensus_block_interval_seconds_sum') / blocks).toBeLessThan(10);
    expect(sample('vos_mempool_size')).toBeGreaterThanOrEqual(0);
    expect(sample('vos_p2p_peers')).toBe(3);
    expect(sum('vos_rpc_request_duration_seconds_count', { method: 'node_status' })).toBeGreaterThan(0);
    expect(sum('vos_rpc_request_duration_seconds_count', { method: 'tx_sendCommit' })).toBeGreaterThan(0);
    expect(sum('vos_rpc_request_duration_seconds_bucket', { method: 'node_status', le: '+Inf' })).toBe(
      sum('vos_rpc_request_duration_seconds_count', { method: 'node_status' }),
    );
    expect(sum('vos_dns_queries_total', { type: 'A', rcode: 'NOERROR' })).toBeGreaterThanOrEqual(1);
    expect(sum('vos_dns_queries_total', { type: 'TXT', rcode: 'NXDOMAIN' })).toBeGreaterThanOrEqual(1);
    expect(sample('vos_storage_bytes{kind="local"}')).toBeGreaterThanOrEqual(50_000);
    expect(sample('vos_storage_bytes{kind="held"}')).toBeGreaterThanOrEqual(0);
    expect(sum('vos_storage_audits_total', { role: 'holder' })).toBeGreaterThanOrEqual(0);
    expect(sum('vos_comm_messages_total', { direction: 'out' })).toBeGreaterThanOrEqual(1);
    expect(sum('vos_app_calls_total', { where: 'tx', halt: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sum('vos_app_gas_used_total', { where: 'tx' })).toBeGreaterThan(0);
    expect(sum('vos_app_gas_used_total', { where: 'query' })).toBeGreaterThan(0);
    // node1 got the message.
    const m1 = await (await fetch(`${new URL(n1.rpc).origin}/metrics`)).text();
    expect(m1).toMatch(/^vos_comm_messages_total\{direction="in",via="direct"\} [1-9]/m);
  }, 180_000);
});
