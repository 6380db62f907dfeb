import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, openDemo, screens, shown, signIn, sleep, until } from './support/browser.js';
import { cli, DemoServer } from './support/demo-server.js';

/** The demo in Chromium with 2-second access tokens: refreshes are counted at the server. */
const TTL = 2;
/** The SDK refreshes 20% (+ up to 25% jitter) of the lifetime early: at most ~1.34 refreshes per lifetime. */
const MAX_PER_LIFETIME = 1 / (1 - 0.2 * 1.25);

let server: DemoServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  server = new DemoServer(TTL);
  browser = await launch();
  await server.start();
  context = await browser.newContext();
  page = await openDemo(context, server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('the demo in Chromium: one session', { timeout: 240_000 }, () => {
  it('stays signed in across 10 access-token lifetimes: every API call succeeds, one refresh per lifetime', async () => {
    assert.equal((await shown(page)).screen, 'login');
    await signIn(page);
    const before = await server.metrics();
    const start = Date.now();
    await sleep(10 * TTL * 1000 + 500);
    const seconds = (Date.now() - start) / 1000;
    const after = await server.metrics();
    const view = await shown(page);
    const requests = after.requests - before.requests;
    const rotations = after.rotated - before.rotated;
    const lifetimes = seconds / TTL;
    console.log(
      `    ${seconds.toFixed(1)} s = ${lifetimes.toFixed(1)} lifetimes: ${requests} refresh requests, ` +
        `${rotations} rotations (${(requests / lifetimes).toFixed(2)} per lifetime); ${view.ok} API calls ok, ${view.failed} failed`,
    );
    assert.equal(view.screen, 'main');
    assert.equal(view.state, 'online');
    assert.deepEqual(await screens(page), ['login', 'main'], 'the login screen never came back');
    assert.ok(view.ok >= 30, `the API was called (${view.ok})`);
    assert.equal(view.failed, 0, 'every API call succeeded');
    assert.equal(view.stale, 0);
    assert.equal(requests, rotations, 'every refresh request rotated: no duplicate, no retry');
    assert.ok(requests >= Math.floor(lifetimes) - 1, `at least about one refresh per lifetime (${requests})`);
    assert.ok(
      requests <= Math.ceil(lifetimes * MAX_PER_LIFETIME),
      `not more than one refresh per lifetime (${requests} in ${lifetimes.toFixed(1)})`,
    );
    assert.equal(view.refreshes, requests, 'the page showed each silent refresh');
  });

  it('the refresh token is not readable by page JavaScript: cookie, storage, IndexedDB, responses', async () => {
    const cookies = await context.cookies(`${server.url}${ENDPOINTS.refresh}`);
    const rt = cookies.find((c) => c.name === 'tessera_rt');
    assert.ok(rt, 'the browser holds the refresh cookie');
    assert.ok(rt.value.startsWith(REFRESH_TOKEN_PREFIX));
    assert.equal(rt.httpOnly, true);
    assert.equal(rt.sameSite, 'Strict');
    assert.equal(rt.path, '/api/auth');

    // The page's code runs in the browser: the wire constants go in as an argument.
    const wire = { refresh: ENDPOINTS.refresh, csrf: CSRF_HEADER, csrfValue: CSRF_HEADER_VALUE };
    const visible = await page.evaluate(async (wire) => {
      const found: string[] = [document.cookie];
      for (const store of [localStorage, sessionStorage]) {
        for (let i = 0; i < store.length; i++) found.push(`${store.key(i)}=${store.getItem(store.key(i)!)}`);
      }
      for (const info of await indexedDB.databases()) {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open(info.name!);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        for (const name of db.objectStoreNames) {
          const all = await new Promise<unknown[]>((resolve) => {
            const req = db.transaction(name).objectStore(name).getAll();
            req.onsuccess = () => resolve(req.result);
          });
          found.push(JSON.stringify(all));
        }
        db.close();
      }
      // What an injected script could do: call the refresh endpoint itself and read everything it gets.
      const res = await fetch(wire.refresh, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [wire.csrf]: wire.csrfValue },
        body: '{}',
        credentials: 'include',
      });
      found.push(String(res.status), JSON.stringify([...res.headers]), await res.text());
      return found;
    }, wire);
    assert.equal(visible[0], '', 'document.cookie is empty');
    assert.ok(
      visible.some((v) => v.includes('access_token')),
      'the scan did read the answers (sanity check)',
    );
    const all = visible.join('\n');
    assert.ok(!all.includes(REFRESH_TOKEN_PREFIX), 'no refresh token anywhere page JavaScript can read');
    assert.ok(!all.includes(rt.value));
    // The Set-Cookie header is filtered from what fetch() exposes, yet the browser did rotate it.
    const rotated = (await context.cookies(`${server.url}${ENDPOINTS.refresh}`)).find(
      (c) => c.name === 'tessera_rt',
    );
    assert.notEqual(rotated?.value, rt.value);
    await until(async () => (await shown(page)).state === 'online', 'the page to carry on');
  });

  it('a revoked session shows the signed-out message within one refresh cycle', async () => {
    assert.equal((await shown(page)).screen, 'main');
    const revoke = await cli(['sessions', 'revoke', '--client', 'demo-web', '--db', server.db], server.env);
    assert.equal(revoke.code, 0, revoke.err);
    assert.match(revoke.out, /revoked 1 session/);
    const took = await until(
      async () => (await shown(page)).screen === 'login',
      'the login screen',
      TTL * 1000 + 3_000,
    );
    console.log(`    signed-out message ${took} ms after the revocation`);
    const notice = await page.textContent('#notice');
    assert.match(notice ?? '', /an administrator ended your session/i);
    assert.equal(await page.isVisible('#notice'), true);
    assert.equal(await page.isVisible('#login-form'), true);
    assert.equal((await shown(page)).state, 'expired');
    // Signing in again works, and starts a new session.
    await signIn(page);
    await until(async () => (await shown(page)).ok > 0, 'an API call in the new session');
  });
});
