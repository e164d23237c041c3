/**
 * What the browser tests share: the suite that needs Chromium (skipped without it, except under
 * CI=true, where .ci/run installs it and its absence fails), the launcher, and screenshots written
 * to test/artifacts/web/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from '@jest/globals';
import type { Page } from 'playwright-core';
import { CHROMIUM } from '../../bench/chromium.js';

export { launchChromium } from '../../bench/chromium.js';

export const ARTIFACTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'artifacts', 'web');

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is required under CI=true (.ci/run installs the chromium package)`);

/** `describe` when Chromium is installed, else `describe.skip`. */
export const browserSuite = haveChromium ? describe : describe.skip;

/** A full-page screenshot to ARTIFACTS/<name>.png, from the top (a scrolled page draws the sticky header mid-page). */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
