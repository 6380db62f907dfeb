import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@tessera/test-support';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { HttpFixture } from '../support/http-fixture.js';
import type { PageApi } from './page-api.js';

const STEP_TIMEOUT = 10_000;

let fx: HttpFixture;
let browser: Browser;

before(async () => {
  // Fail, never skip: the cross-tab guarantees are only proven in a real browser.
  fx = await HttpFixture.start();
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./page-entry.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tessera/source'],
    write: false,
  });
  fx.files.set('/sdk.js', { type: 'text/javascript', body: bundle.outputFiles[0]!.text });
  fx.files.set('/', {
    type: 'text/html',
    body: '<!doctype html><title>loading</title><script type="module" src="/sdk.js"></script>',
  });
  browser = await launchChromium({ timeout: STEP_TIMEOUT });
});

after(async () => {
  await browser?.close();
  await fx?.stop();
});

/** Calls `window.tessera[method](...args)` in the page. */
function call<M extends keyof PageApi>(
  page: Page,
  method: M,
  ...args: Parameters<PageApi[M]>
): Promise<Awaited<ReturnType<PageApi[M]>>> {
  return page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { tessera: Record<string, (...x: unknown[]) => unknown> })
        .tessera;
      return api[m]!(...a);
    },
    [method, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<PageApi[M]>>>;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function openTabs(n: number, storage: string): Promise<Page[]> {
  const context = await browser.newContext();
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    await page.goto(`${fx.origin}/?storage=${storage}`);
    await page.waitForFunction(() => document.title === 'ready');
    pages.push(page);
  }
  return pages;
}

describe('across tabs in Chromium (Web Locks + BroadcastChannel)', { timeout: 60_000 }, () => {
  let tabs: Page[] = [];

  it('5 tabs past expiry at once → exactly 1 refresh; all tabs get the same new token; nobody signed out', async () => {
    tabs = await openTabs(5, 'idb');
    const tokens = fx.tokens.issue();
    await call(tabs[0]!, 'signIn', tokens);
    for (const tab of tabs) {
      await until(
        async () => (await call(tab, 'getAccessToken')) === tokens.access_token,
        'sign-in hand-over',
      );
    }
    const before = fx.tokenArrivals.length;
    fx.holdTokens = true;
    for (const tab of tabs) await call(tab, 'setOffset', 901_000);
    for (const tab of tabs) await call(tab, 'startMany', 20);
    // One tab holds the lock (its request held at the server); the other four wait for it.
    await until(async () => {
      const l = await call(tabs[0]!, 'locks');
      return l.held === 1 && l.pending === 4 && fx.tokenArrivals.length === before + 1;
    }, 'one lock holder and four waiters');
    fx.release();
    const results = (await Promise.all(tabs.map((tab) => call(tab, 'collect')))).flat();
    assert.equal(fx.tokenArrivals.length - before, 1, 'exactly one refresh reached the server');
    const fresh = fx.tokens.currentAccessToken;
    assert.notEqual(fresh, tokens.access_token);
    assert.equal(results.length, 100);
    assert.ok(
      results.every((t) => t === fresh),
      'every tab got the new token',
    );
    for (const tab of tabs) {
      assert.equal(await call(tab, 'state'), 'active');
      assert.ok(!(await call(tab, 'events')).includes('sessionExpired'));
    }
  });

  it('the session is at rest in IndexedDB encrypted, under a non-extractable AES-GCM key', async () => {
    const rest = await call(tabs[1]!, 'atRest');
    assert.deepEqual(rest, { plaintextVisible: false, keyExtractable: false, keyAlgorithm: 'AES-GCM' });
  });

  it('the lock-holding tab closed mid-refresh: another tab takes over with the same refresh token', async () => {
    const presented = fx.tokens.currentRefreshToken;
    const before = fx.tokenArrivals.length;
    const rotationsBefore = fx.tokens.rotations;
    for (const tab of tabs) await call(tab, 'setOffset', 2 * 901_000);
    fx.holdNextTokens = 1;
    await call(tabs[0]!, 'startMany', 5);
    await until(async () => fx.tokenArrivals.length === before + 1, 'the first tab’s refresh to arrive');
    const rest = tabs.slice(1);
    for (const tab of rest) await call(tab, 'startMany', 5);
    await until(async () => (await call(tabs[1]!, 'locks')).pending === 4, 'four waiting tabs');
    await tabs[0]!.close(); // dies holding the lock, its request unanswered
    const results = (await Promise.all(rest.map((tab) => call(tab, 'collect')))).flat();
    const fresh = fx.tokens.currentAccessToken;
    assert.ok(
      results.every((t) => t === fresh),
      `tabs got ${[...new Set(results)].join(',')}`,
    );
    assert.deepEqual(fx.tokenArrivals.slice(before), [presented, presented]);
    assert.equal(fx.tokens.rotations - rotationsBefore, 1);
    for (const tab of rest) {
      assert.equal(await call(tab, 'state'), 'active');
      assert.ok(!(await call(tab, 'events')).includes('sessionExpired'));
    }
    fx.release();
    await Promise.all(rest.map((tab) => tab.close()));
  });

  it('with per-tab memory storage and a slow channel, waiting tabs take the hand-over: one refresh in all', async () => {
    // The browser orders BroadcastChannel delivery neither with lock grants nor (across renderer
    // processes) with localStorage: under load a waiting tab gets the lock before the new session
    // arrives. Here every message arrives 100 ms late; a tab that waited for the lock waits for
    // the hand-over instead of presenting the refresh token again.
    const pages = await openTabs(3, 'memory&channelDelayMs=100');
    const tokens = fx.tokens.issue();
    await call(pages[0]!, 'signIn', tokens);
    for (const tab of pages) {
      await until(async () => (await call(tab, 'getAccessToken')) === tokens.access_token, 'hand-over');
    }
    const before = fx.tokenArrivals.length;
    const rotations = fx.tokens.rotations;
    fx.holdTokens = true;
    for (const tab of pages) await call(tab, 'setOffset', 901_000);
    for (const tab of pages) await call(tab, 'startMany', 10);
    await until(async () => {
      const l = await call(pages[0]!, 'locks');
      return l.held === 1 && l.pending === 2;
    }, 'one holder, two waiters');
    fx.release();
    const results = (await Promise.all(pages.map((tab) => call(tab, 'collect')))).flat();
    assert.equal(fx.tokenArrivals.length - before, 1, 'one refresh request for the three tabs');
    assert.equal(fx.tokens.rotations - rotations, 1, 'one child for the whole session');
    assert.ok(results.every((t) => t === fx.tokens.currentAccessToken));
    for (const tab of pages) assert.ok(!(await call(tab, 'events')).includes('sessionExpired'));
    await Promise.all(pages.map((tab) => tab.close()));
  });

  it('a tab that gets the free lock just after another tab refreshed waits for its hand-over (slow channel)', async () => {
    // No waiting for the lock here: the first tab has let it go when the second asks, while its
    // hand-over is still 100 ms away. The hand-over's mark, held in the lock manager, tells.
    const pages = await openTabs(2, 'memory&channelDelayMs=100');
    const tokens = fx.tokens.issue();
    await call(pages[0]!, 'signIn', tokens);
    for (const tab of pages) {
      await until(async () => (await call(tab, 'getAccessToken')) === tokens.access_token, 'hand-over');
    }
    const before = fx.tokenArrivals.length;
    for (const tab of pages) await call(tab, 'setOffset', 901_000);
    const first = await call(pages[0]!, 'getAccessToken');
    const second = await call(pages[1]!, 'getAccessToken');
    assert.notEqual(first, tokens.access_token);
    assert.equal(second, first, "the second tab took the first tab's new token");
    assert.equal(fx.tokenArrivals.length - before, 1, 'one refresh request for both tabs');
    await Promise.all(pages.map((tab) => tab.close()));
  });

  for (const [storage, label] of [
    ['idb', 'a garbled IndexedDB record'],
    ['local', 'a cut-off localStorage value'],
  ] as const) {
    it(`${label}: moved aside, storageError, signed out; a new sign-in is stored and survives a reload`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT);
      await page.goto(`${fx.origin}/?storage=${storage}&corrupt=${storage}`);
      await page.waitForFunction(() => document.title === 'ready');
      await until(
        async () => (await call(page, 'events')).includes('storageError'),
        'the storageError event',
      );
      assert.equal(await call(page, 'state'), 'signedOut');
      const keys = await call(page, 'storedKeys');
      assert.ok(!keys.includes('tessera:web'), `the key starts clean: ${keys.join(', ')}`);
      assert.ok(
        keys.some((k) => k.startsWith('tessera:web:unreadable')),
        `kept beside it: ${keys.join(', ')}`,
      );
      const tokens = fx.tokens.issue();
      await call(page, 'signIn', tokens);
      await page.goto(`${fx.origin}/?storage=${storage}`); // a reload, without garbling again
      await page.waitForFunction(() => document.title === 'ready');
      assert.equal(await call(page, 'state'), 'active');
      assert.equal(await call(page, 'getAccessToken'), tokens.access_token);
      assert.ok(!(await call(page, 'events')).includes('storageError'));
      await context.close();
    });
  }

  it('goes offline with the browser (cached token at once, no sign-out) and refreshes when it is back online', async () => {
    const [page] = await openTabs(1, 'idb');
    const tab = page!;
    const tokens = fx.tokens.issue();
    await call(tab, 'signIn', tokens);
    await tab.context().setOffline(true);
    await until(async () => (await call(tab, 'state')) === 'offline', 'the offline event');
    await call(tab, 'setOffset', 901_000);
    assert.equal(await call(tab, 'getAccessToken'), tokens.access_token);
    await tab.context().setOffline(false);
    await until(async () => (await call(tab, 'state')) === 'active', 'the online event and a refresh');
    assert.equal(await call(tab, 'getAccessToken'), fx.tokens.currentAccessToken);
    const events = await call(tab, 'events');
    assert.ok(events.includes('offline') && events.includes('online') && !events.includes('sessionExpired'));
    await tab.close();
  });
});
