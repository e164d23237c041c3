/**
 * The web app's messenger in Debian's Chromium (playwright-core) on a 4-validator devnet of real
 * processes. node0 and node1 get names (`vos name register`, as test/e2e/comm-chat.test.ts does); then
 * on node0's page, at #/messages:
 * - a name nobody holds is refused in the page (unknown recipient), not thrown;
 * - to node1 by name: a text, a picture (a PNG made by this test, through the file input), a video
 *   clip recorded in the page for ~2 s from Chromium's fake camera and microphone (getUserMedia +
 *   MediaRecorder) and a voice clip from its fake microphone; each is uploaded (POST /storage), sent
 *   (comm_send with the CIDs) and gets its delivery tick (✓✓ delivered: node1 is online);
 * - node1's page, open all along, shows the conversation with node0 as it arrives (comm_subscribe over
 *   its WebSocket, no reload): the text, the picture loaded (naturalWidth > 0) and the clip playing
 *   (decrypted by node1 with comm_attachment, read from GET /storage/<cid>), the voice clip loaded.
 * Without MediaRecorder, the page offers a clip file input instead of the record buttons.
 * No page error and no CSP violation on any page. Screenshots: test/artifacts/web/messenger-*.png.
 * Without /usr/bin/chromium the file is skipped, except under CI=true, where it fails.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { RpcClient } from '../../rpc/client.js';
import { browserSuite, launchChromium, shot } from '../helpers/browser.js';
import { registerNames } from '../helpers/cli.js';
import {
  type DevnetInfo,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
  waitForNames,
} from '../helpers/devnet.js';
import { makePng } from '../helpers/png.js';

/** What the page checks, as page-side expressions (this file compiles without the DOM lib). */
const IMAGE_LOADED = `(() => { const el = document.querySelector('[data-testid=att-image]');
  return el !== null && el.complete && el.naturalWidth > 0; })()`;
const VIDEO_READY = `(document.querySelector('[data-testid=att-video]')?.readyState ?? 0) >= 2`;
const AUDIO_READY = `(document.querySelector('[data-testid=att-audio]')?.readyState ?? 0) >= 2`;
interface ImageLike {
  naturalWidth: number;
  naturalHeight: number;
}
interface VideoLike {
  muted: boolean;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  play(): Promise<void>;
  pause(): void;
  addEventListener(type: string, fn: () => void, o?: { once?: boolean }): void;
}

const rpc = (url: string) => new RpcClient(url, { timeoutMs: 10_000 });

browserSuite('the messenger page in Chromium on a devnet (real processes)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const tag = Math.random().toString(36).slice(2, 8);
  const alice = `alice-${tag}`;
  const bob = `bob-${tag}`;
  const text = `hello bob, from the web page ${tag}`;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  let sender: Page;
  let receiver: Page;

  const newPage = async (node: number, hash: string, initScript?: string) => {
    const page = await (context as BrowserContext).newPage();
    if (initScript !== undefined) await page.addInitScript(initScript);
    page.on('pageerror', (e) => pageErrors.push(`node${node}: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
        cspViolations.push(`node${node}: ${m.text()}`);
    });
    await page.goto(`${new URL(info.nodes[node].rpc).origin}/${hash}`);
    return page;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-web-msgr-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '300',
    }));
    const [n0, n1] = info.nodes;
    for (const n of [n0, n1])
      await waitFor(
        `${n.name} connected to the others`,
        async () => ((await rpc(n.rpc).call('node_status', [])) as { peers: number }).peers >= 3,
        60_000,
      );
    const regs = await registerNames(
      [
        [alice, n0.home],
        [bob, n1.home],
      ],
      { cwd: dir, timeoutMs: 60_000 },
    );
    for (const r of regs) expect(r).toMatchObject({ code: 0 });
    // Each node knows both names (its own, to sign with it; the peer's, to check the claim).
    await waitForNames(
      [n0, n1],
      [
        [n0.address, alice],
        [n1.address, bob],
      ],
      20_000,
    );
    browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      permissions: ['camera', 'microphone'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('node0 writes to node1 by name: a text, a picture and a clip recorded in the page, each ticked', async () => {
    const [n0, n1] = info.nodes;
    // node1's page is open before anything is sent: what arrives there comes live.
    receiver = await newPage(1, '#/messages');
    await receiver.getByTestId('me-name').filter({ hasText: bob }).waitFor({ timeout: 20_000 });
    await receiver.evaluate('window.notReloaded = true');

    sender = await newPage(0, '#/messages');
    await sender.getByTestId('me-name').filter({ hasText: alice }).waitFor({ timeout: 20_000 });
    expect(await sender.getByTestId('me-address').textContent()).toBe(n0.address);
    expect(await sender.getByRole('link', { name: 'Messages' }).getAttribute('aria-current')).toBe('page');

    // A name nobody holds: a clear error in the page.
    await sender.getByTestId('new-peer').fill(`nobody-${tag}`);
    await sender.getByTestId('open-conversation').click();
    await sender.getByTestId('new-peer-error').waitFor({ timeout: 10_000 });
    expect(await sender.getByTestId('new-peer-error').textContent()).toMatch(
      /unknown recipient.*not registered/,
    );

    // The conversation with bob, by name.
    await sender.getByTestId('new-peer').fill(bob);
    await sender.getByTestId('open-conversation').click();
    await sender.waitForURL(`**/#/messages/${bob}`, { timeout: 10_000 });
    const view = sender.getByTestId('conversation-view');
    await view.waitFor({ timeout: 10_000 });
    expect(await view.getAttribute('data-peer')).toBe(n1.address);
    expect(await sender.getByTestId('peer-name').textContent()).toBe(bob);
    const out = view.locator('[data-testid=message][data-direction=out]');

    // 1. The text.
    await sender.getByTestId('message-input').fill(text);
    await sender.getByTestId('send').click();
    await out.nth(0).getByText(text).waitFor({ timeout: 30_000 });

    // 2. A picture through the file input.
    await sender.getByTestId('file-input').setInputFiles({
      name: 'sunrise.png',
      mimeType: 'image/png',
      buffer: makePng(160, 120),
    });
    await sender.locator('[data-testid=pending][data-kind=image]').waitFor({ timeout: 5000 });
    await sender.getByTestId('send').click();
    await out.nth(1).locator('[data-testid=attachment]').waitFor({ timeout: 30_000 });

    // 3. A video clip recorded in the page from the fake camera and microphone.
    await sender.getByTestId('record-video').click();
    await sender.getByTestId('recording').waitFor({ timeout: 10_000 });
    await sender.waitForTimeout(2200);
    await sender.getByTestId('record-stop').click();
    const clip = sender.locator('[data-testid=pending][data-kind=video]');
    await clip.waitFor({ timeout: 10_000 });
    expect(await clip.textContent()).toMatch(/video-.*\.webm/);
    await sender.getByTestId('send').click();
    await out.nth(2).locator('[data-testid=attachment]').waitFor({ timeout: 30_000 });

    // 4. A voice clip, from the fake microphone.
    await sender.getByTestId('record-audio').click();
    await sender.locator('[data-testid=recording][data-kind=audio]').waitFor({ timeout: 10_000 });
    await sender.waitForTimeout(1500);
    await sender.getByTestId('record-stop').click();
    await sender.locator('[data-testid=pending][data-kind=audio]').waitFor({ timeout: 10_000 });
    await sender.getByTestId('send').click();
    await out.nth(3).locator('[data-testid=attachment]').waitFor({ timeout: 30_000 });
    expect(await out.count()).toBe(4);
    expect(await sender.getByTestId('send-error').count()).toBe(0);

    // Each has its tick; node1 is online, so each ends delivered (✓✓).
    for (let i = 0; i < 4; i++) {
      const tick = out.nth(i).getByTestId('tick');
      expect(await tick.getAttribute('data-status')).toMatch(/^(held|delivered)$/);
      await out.nth(i).locator('[data-testid=tick][data-status=delivered]').waitFor({ timeout: 30_000 });
      expect(await tick.textContent()).toMatch(/^✓✓/);
    }

    // The sender sees its own picture and clip too (decrypted by node0 from what it sealed).
    await sender.waitForFunction(IMAGE_LOADED, undefined, { timeout: 30_000 });
    await out.nth(2).getByTestId('att-video').waitFor({ timeout: 30_000 });
    await sender.getByTestId('conversation').first().waitFor({ timeout: 5000 });
    expect(await sender.getByTestId('conversation').first().getAttribute('data-peer')).toBe(n1.address);
    await shot(sender, 'messenger-sent');
  }, 180_000);

  it("node1's page shows the conversation with node0 live: the text, the picture, the clip plays", async () => {
    const [n0] = info.nodes;
    // Live: the conversation shows up on the page that was open all along.
    const conv = receiver.locator(`[data-testid=conversation][data-peer="${n0.address}"]`);
    await conv.waitFor({ timeout: 30_000 });
    expect(await conv.getAttribute('data-name')).toBe(alice);
    expect(await receiver.evaluate('window.notReloaded === true')).toBe(true);
    await conv.click();
    const view = receiver.locator(`[data-testid=conversation-view][data-peer="${n0.address}"]`);
    await view.waitFor({ timeout: 10_000 });
    expect(await receiver.getByTestId('peer-name').textContent()).toBe(alice);
    const inbox = view.locator('[data-testid=message][data-direction=in]');
    await inbox.nth(3).waitFor({ timeout: 30_000 });
    expect(await inbox.count()).toBe(4);
    await inbox.nth(0).getByText(text).waitFor({ timeout: 5000 });

    // The picture, decrypted by node1 and loaded.
    const img = inbox.nth(1).getByTestId('att-image');
    await img.waitFor({ timeout: 60_000 });
    await receiver.waitForFunction(IMAGE_LOADED, undefined, { timeout: 30_000 });
    expect(await img.evaluate((el: ImageLike) => [el.naturalWidth, el.naturalHeight])).toEqual([160, 120]);

    // The recorded clip: loaded, and it plays.
    const video = inbox.nth(2).getByTestId('att-video');
    await video.waitFor({ timeout: 60_000 });
    await receiver.waitForFunction(VIDEO_READY, undefined, { timeout: 30_000 });
    const played = await video.evaluate(async (el: VideoLike) => {
      el.muted = true;
      const playing = new Promise<boolean>((r) => {
        el.addEventListener('playing', () => r(true), { once: true });
        setTimeout(() => r(false), 10_000);
      });
      await el.play();
      const ok = await playing;
      const start = el.currentTime;
      await new Promise((r) => setTimeout(r, 700));
      const advanced = el.currentTime > start;
      el.pause();
      return { ok, advanced, width: el.videoWidth, height: el.videoHeight };
    });
    expect(played.ok).toBe(true);
    expect(played.advanced).toBe(true);
    expect(played.width).toBeGreaterThan(0);
    // The voice clip: an <audio> that loaded its data.
    await inbox.nth(3).getByTestId('att-audio').waitFor({ timeout: 60_000 });
    await receiver.waitForFunction(AUDIO_READY, undefined, { timeout: 30_000 });
    await shot(receiver, 'messenger-received');
    await sender.close();
    await receiver.close();
  }, 180_000);

  it('without MediaRecorder the page offers a clip file instead; no page error or CSP violation', async () => {
    const [, n1] = info.nodes;
    const page = await newPage(0, `#/messages/${n1.address}`, 'delete window.MediaRecorder;');
    await page.getByTestId('peer-name').filter({ hasText: bob }).waitFor({ timeout: 20_000 });
    // The history with bob, loaded again on a fresh page, addressed by bob's address this time.
    await page.locator('[data-testid=conversation-view] [data-testid=message]').nth(3).waitFor({
      timeout: 20_000,
    });
    expect(await page.getByTestId('record-video').count()).toBe(0);
    expect(await page.getByTestId('record-audio').count()).toBe(0);
    expect(await page.getByTestId('no-recording').textContent()).toContain('no MediaRecorder');
    expect(await page.getByTestId('clip-input').getAttribute('accept')).toBe('audio/*,video/*');
    await page.close();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 60_000);
});
