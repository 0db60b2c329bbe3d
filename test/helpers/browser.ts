/**
 * Headless Chromium for end-to-end tests, through playwright-core and the system's Debian
 * chromium. Each browser gets a fresh profile in a temporary directory; `close()` ends the browser
 * process and removes the profile. Use one browser per test file (start it in `before`, close it
 * in `after`) and a page or context per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, deterministic headless browser that may autoplay media. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  /** A persistent context on the fresh profile: open pages with `context.newPage()`. */
  context: BrowserContext;
  /** Messages the pages wrote to the console and uncaught page errors, for failure reports. */
  console: string[];
  /** Closes every page and the browser and deletes the profile. Idempotent. */
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh `--user-data-dir`. `extraArgs` are appended to `CHROMIUM_ARGS`.
 * Throws after `timeoutMs` if the browser does not start.
 */
export async function launchBrowser(extraArgs: string[] = [], timeoutMs = 20000): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'mediagate-chromium-'));
  let context: BrowserContext;
  try {
    // launchPersistentContext is the one way to pass --user-data-dir with playwright.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      headless: true,
      timeout: timeoutMs,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const log: string[] = [];
  const watch = (page: import('playwright-core').Page) => {
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  };
  for (const page of context.pages()) watch(page);
  context.on('page', watch);
  let closing: Promise<void> | undefined;
  return {
    context,
    console: log,
    close() {
      closing ??= (async () => {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      })();
      return closing;
    },
  };
}
