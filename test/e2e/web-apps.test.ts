/**
 * The web app's app store in Debian's Chromium (playwright-core) against a 4-validator devnet of real
 * processes, with this browser's own account (web/src/wallet.ts: a key made in the page, txs signed
 * in the page; the node never signs for it):
 * - node0 registers a name and publishes apps/build/counter.wasm as kind=executable through the CLI;
 * - node1's page at #/apps finds it (title, publisher by name, size); Install before the browser's
 *   account has funds fails in the page with the command that funds it; after `vos tx transfer` to
 *   the address read from the page, Install deploys the code and creates an instance owned by that
 *   address (listed under "My apps" and by app_get on another node);
 * - the app page: Send `increment` (an app-call tx signed in the browser) returns 1; Query `get` says 1,
 *   and `vos app query` on node3 agrees; a Send with a budget too small halts out of gas, shown as
 *   such, and the count stays 1.
 * Screenshots go to test/artifacts/web/ (apps-unfunded.png, apps-store.png, apps-app.png). Without /usr/bin/chromium the
 * file is skipped, except under CI=true, where it fails (.ci/run installs chromium).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { RpcClient } from '../../rpc/client.js';
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

const HERE = fileURLToPath(new URL('.', import.meta.url));
const COUNTER = resolve(HERE, '..', '..', 'apps', 'build', 'counter.wasm');
const FUNDS = '1000000000';

browserSuite('the app store in Chromium on a devnet (real processes)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let browser: Browser | undefined;
  let page: Page;
  let publishId = '';
  let browserAddress = '';
  let app = '';
  const pageErrors: string[] = [];
  const rpcOf = (i: number) => new RpcClient(info.nodes[i].rpc, { timeoutMs: 30_000 });
  const origin = () => new URL(info.nodes[1].rpc).origin;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-web-apps-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '300',
    }));
    await waitFor('height 2', async () => (await heightOf(info.nodes[0].rpc)) >= 2, 60_000);
    const node0 = ['--home', info.nodes[0].home, '--rpc', info.nodes[0].rpc];
    await execVosJson(['name', 'register', 'appmaker', ...node0], 120_000);
    const pub = await execVosJson<{ id: string }>(
      [
        'publish',
        COUNTER,
        '--title',
        'Tally counter',
        '--description',
        'counts every call',
        '--tags',
        'sample,counter',
        '--kind',
        'executable',
        ...node0,
      ],
      120_000,
    );
    publishId = pub.id;
    await waitFor(
      'the app in the search index of node1',
      async () => {
        const r = await rpcOf(1).call<{ results: { id: string }[] }>('search_query', [
          { q: 'tally', kind: 'executable' },
        ]);
        return r.results.some((x) => x.id === publishId);
      },
      30_000,
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the store finds the counter; Install fails unfunded, then installs once the CLI funds the page', async () => {
    await page.goto(`${origin()}/#/apps`);
    const addr = page.getByTestId('wallet-address');
    await addr.waitFor({ timeout: 30_000 });
    browserAddress = ((await addr.textContent()) ?? '').trim();
    expect(browserAddress).toMatch(/^vos1[02-9ac-hj-np-z]{38}$/);
    await page.getByTestId('fund-hint').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('fund-hint').textContent()).toContain(
      `vos tx transfer --to ${browserAddress} --amount`,
    );
    // The same key after a reload (kept in localStorage).
    await page.reload();
    await addr.waitFor({ timeout: 30_000 });
    expect(((await addr.textContent()) ?? '').trim()).toBe(browserAddress);

    // The store lists every published executable, newest first, without a search.
    await page.locator(`[data-testid=store-item][data-id="${publishId}"]`).waitFor({ timeout: 20_000 });
    await page.getByLabel('Search the app store').fill('tally');
    await page.getByTestId('store-search').getByRole('button', { name: 'Search' }).click();
    const card = page.locator(`[data-testid=store-item][data-id="${publishId}"]`);
    await card.waitFor({ timeout: 20_000 });
    expect(await card.getByRole('heading').textContent()).toBe('Tally counter');
    expect(await card.getByTestId('publisher').textContent()).toContain('appmaker');
    expect(await card.getByTestId('size').textContent()).toMatch(/^[0-9.]+ KiB$/);
    expect(page.url()).toContain('#/apps?q=tally');

    // Unfunded: refused in the page before anything is signed, with the command that funds it.
    await card.getByTestId('install').click();
    const refused = card.getByRole('alert');
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.textContent()).toContain(`vos tx transfer --to ${browserAddress}`);
    expect((await rpcOf(2).call<{ nonce: string }>('chain_getAccount', [browserAddress])).nonce).toBe('0');
    await shot(page, 'apps-unfunded');

    await execVosJson([
      'tx',
      'transfer',
      '--home',
      info.nodes[0].home,
      '--rpc',
      info.nodes[0].rpc,
      '--to',
      browserAddress,
      '--amount',
      FUNDS,
    ]);
    await page
      .getByTestId('wallet-balance')
      .filter({ hasText: '1,000,000,000' })
      .waitFor({ timeout: 20_000 });

    await card.getByTestId('install').click();
    const link = card.getByTestId('installed-app');
    await link.waitFor({ timeout: 90_000 });
    app = (await link.getAttribute('title')) ?? '';
    expect(app).toMatch(/^0x[0-9a-f]{64}$/);
    const steps = (await card.getByTestId('install-progress').textContent()) ?? '';
    expect(steps).toContain('Code deployed in block');
    expect(steps).toContain('Instance created in block');
    expect(await card.getByRole('alert').count()).toBe(0);
    await page.locator('[data-testid=my-app]', { hasText: app.slice(0, 10) }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('my-app').first().textContent()).toContain('Tally counter');
    // Another node: the instance is the browser's, with the counter's methods.
    const shown = await rpcOf(2).call<{ owner: string; methods: { name: string }[] } | null>('app_get', [
      app,
    ]);
    expect(shown?.owner).toBe(browserAddress);
    expect(shown?.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['increment', 'get']));
    await shot(page, 'apps-store');
  }, 240_000);

  it('the app page: Send increment (signed in the browser), Query get = 1, and node3 agrees', async () => {
    expect(app).not.toBe('');
    await page.getByTestId('installed-app').click();
    const inc = page.getByTestId('method-increment');
    await inc.waitFor({ timeout: 20_000 });
    expect(page.url()).toContain(`#/app/${app}`);

    await inc.getByTestId('send').click();
    const sent = inc.locator('[data-testid=result][data-via=send]');
    await sent.waitFor({ timeout: 60_000 });
    expect(await sent.getAttribute('data-halt')).toBe('ok');
    expect(await sent.getByTestId('result-value').textContent()).toBe('1');
    // The budget came from a free dry run (app_query), not a fixed default.
    expect(await sent.textContent()).toMatch(/Gas budget[0-9,]+/);

    const get = page.getByTestId('method-get');
    await get.getByTestId('query').click();
    const queried = get.locator('[data-testid=result][data-via=query]');
    await queried.waitFor({ timeout: 20_000 });
    expect(await queried.getAttribute('data-halt')).toBe('ok');
    expect(await queried.getByTestId('result-value').textContent()).toBe('1');

    const height = await waitFor(
      'the call on node3',
      async () => {
        const r = await rpcOf(3).call<{ value: string | null; height: number }>('app_query', [
          { app, method: 'get' },
        ]);
        return r.value === '1' ? r.height : undefined;
      },
      20_000,
    );
    expect(height).toBeGreaterThan(0);
    const cli = await execVosJson<{ halt: string; value: string }>([
      'app',
      'query',
      app,
      'get',
      '--rpc',
      info.nodes[3].rpc,
    ]);
    expect(cli).toMatchObject({ halt: 'ok', value: '1' });
    await shot(page, 'apps-app');

    // Too small a budget: the tx is committed and halts out of gas, shown as such; the count stays.
    await inc.getByLabel(/gas budget/).fill('1000');
    await inc.getByTestId('send').click();
    await inc.locator('[data-testid=result][data-halt=out_of_gas]').waitFor({ timeout: 60_000 });
    expect(await inc.getByTestId('result-halt').textContent()).toContain('out of gas');
    const after = await rpcOf(0).call<{ value: string }>('app_query', [{ app, method: 'get' }]);
    expect(after.value).toBe('1');
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
