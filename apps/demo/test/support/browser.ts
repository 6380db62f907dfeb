import { launchChromium } from '@tessera/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const STEP_TIMEOUT = 10_000;

/** Chromium, headless. Fails (never skips) when it is missing: these guarantees need a real browser. */
export async function launch(): Promise<Browser> {
  return launchChromium({ timeout: STEP_TIMEOUT });
}

/** What the demo page shows, read from the DOM (`#app` data attributes). */
export interface Shown {
  screen: string;
  state: string;
  ok: number;
  failed: number;
  stale: number;
  refreshes: number;
}

export async function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const d = document.getElementById('app')!.dataset;
    return {
      screen: d.screen ?? '',
      state: d.state ?? '',
      ok: Number(d.apiOk),
      failed: Number(d.apiFailed),
      stale: Number(d.apiStale),
      refreshes: Number(d.refreshes),
    };
  });
}

/** Polls `check` until it holds, at most `timeoutMs`; resolves with the time it took. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = STEP_TIMEOUT,
): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - start;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the demo in a page and records every screen it shows (to prove the login screen never appeared). */
export async function openDemo(context: BrowserContext, url: string, poll = 500): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { __screens: string[] }).__screens = seen;
    new MutationObserver(() => {
      const screen = document.getElementById('app')?.dataset.screen;
      if (screen && seen[seen.length - 1] !== screen) seen.push(screen);
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-screen'] });
  });
  await page.goto(`${url}/?poll=${poll}`);
  await page.waitForFunction(() => document.getElementById('app')?.dataset.screen !== 'loading');
  return page;
}

export async function screens(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __screens: string[] }).__screens);
}

export async function signIn(page: Page, username = 'demo', password = 'demo-password'): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('#sign-in');
  await page.waitForFunction(() => document.getElementById('app')?.dataset.screen === 'main');
}
