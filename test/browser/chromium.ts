/**
 * What the browser tests (test/browser/*.test.ts) share: Debian's Chromium (/usr/bin/chromium,
 * installed by apt, never a downloaded browser) launched through playwright-core, whether it is
 * there, where screenshots go, and the collection of a page's errors.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
/** Screenshots (git-ignored). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // npm install in a development checkout installs it (scripts/system-deps.mjs) and CI must have
  // it, so there a missing browser fails the file; a local checkout without it skips, visibly.
  if (process.env.CI) throw new Error(`${CHROMIUM} is not installed: CI must apt-get install -y chromium (scripts/system-deps.mjs installs it)`);
  console.warn(`SKIPPED test/browser: ${CHROMIUM} is not installed here (apt-get install -y chromium, or npm install in a development checkout)`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

/**
 * Pushes onto `problems` every uncaught error of `page` and every console error it logs, and its
 * console warnings too when `warnings` is set.
 */
export function collectProblems(page: Page, problems: string[], opts: { warnings: boolean }): void {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || (opts.warnings && m.type() === 'warning')) problems.push(`console.${m.type()}: ${m.text()}`);
  });
}

/** Every cleanup runs even when an earlier one throws; the first error is rethrown at the end. */
export async function closeAll(steps: (() => Promise<unknown> | undefined)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
