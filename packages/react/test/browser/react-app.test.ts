import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchChromium } from '@tessera/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AuthServer, USER } from '../support/auth-server.js';
import { bundle, REACTS, type ReactMajor } from '../support/bundle.js';

/**
 * A real React app (test/app/app.tsx) bundled by esbuild with React 19 and with React 18, in
 * Chromium against a small authorization server: sign in, a silent refresh that re-renders only
 * what changed, two tabs, offline, and a session the server ended.
 */
const STEP_TIMEOUT = 10_000;

interface AppApi {
  version: string;
  renders: { user: number; token: number; status: number };
  setOffset(ms: number): void;
  resume(): void;
  state(): string;
  token(): Promise<string | null>;
  settle(): Promise<void>;
}

let browser: Browser;
before(async () => {
  browser = await launchChromium({ timeout: STEP_TIMEOUT });
});
after(() => browser?.close());

function app<K extends keyof AppApi>(page: Page, name: K, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ([n, a]) => {
      const api = (globalThis as unknown as { app: Record<string, unknown> }).app;
      const member = api[n as string];
      return typeof member === 'function'
        ? (member as (...x: unknown[]) => unknown)(...(a as unknown[]))
        : member;
    },
    [name, args] as const,
  );
}

const renders = (page: Page) => app(page, 'renders') as Promise<AppApi['renders']>;
const token = (page: Page) => page.getAttribute('#token', 'data-token');
const status = (page: Page) => page.textContent('#status');

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function open(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(origin);
  await until(async () => (await status(page)) !== 'loading', 'the stored session to be read');
  return page;
}

async function signIn(page: Page, password = USER.password): Promise<void> {
  await page.fill('#username', USER.username);
  await page.fill('#password', password);
  await page.click('#sign-in');
}

for (const major of Object.keys(REACTS) as ReactMajor[]) {
  describe(`@tessera/react with React ${major} in Chromium`, { timeout: 90_000 }, () => {
    let server: AuthServer;
    let context: BrowserContext;
    let first: Page;

    before(async () => {
      server = await AuthServer.start();
      server.files.set('/app.js', {
        type: 'text/javascript',
        body: await bundle('app.tsx', major, 'browser'),
      });
      server.files.set('/', {
        type: 'text/html',
        body: '<!doctype html><title>app</title><div id="root"></div><script type="module" src="/app.js"></script>',
      });
      context = await browser.newContext();
    });
    after(async () => {
      await context?.close();
      await server?.stop();
    });

    it('signs in through the form: a wrong password says so, the right one shows the user', async () => {
      first = await open(context, server.origin);
      assert.match(String(await app(first, 'version')), new RegExp(`^${major}\\.`));
      assert.equal(await status(first), 'signedOut');
      await signIn(first, 'wrong');
      await until(
        async () => (await first.textContent('#login-error')) === 'invalid_credentials',
        'the error',
      );
      await signIn(first);
      await until(async () => (await status(first)) === 'signedIn', 'signed in');
      assert.equal(await first.textContent('#user'), USER.name);
      assert.ok((await token(first))?.includes('.'), 'a JWT access token');
    });

    it('a silent refresh re-renders the token’s reader once, and nothing that did not change', async () => {
      const before = await renders(first);
      const oldToken = await token(first);
      const refreshes = server.refreshes.length;
      await app(first, 'setOffset', 590_000); // inside the lead window of a 600 s token
      await app(first, 'resume');
      await until(async () => (await token(first)) !== oldToken, 'the new token on the page');
      // The refresh's last event (back to active) has run, and React has committed what followed.
      await until(async () => (await app(first, 'state')) === 'active', 'the refresh to end');
      await app(first, 'settle');
      const after = await renders(first);
      assert.equal(server.refreshes.length - refreshes, 1);
      assert.equal(after.token - before.token, 1, 'the token badge: once');
      assert.equal(after.user - before.user, 0, 'the user name: not at all');
      assert.equal(after.status - before.status, 0, 'the status: not at all');
      assert.equal(await status(first), 'signedIn');
    });

    it('two tabs: the second is signed in from the first; one refresh serves both; a sign-out ends both', async () => {
      const second = await open(context, server.origin);
      assert.equal(await status(second), 'signedIn');
      assert.equal(await second.textContent('#user'), USER.name);
      assert.equal(await token(second), await token(first));
      const refreshes = server.refreshes.length;
      const oldToken = await token(first);
      for (const tab of [first, second]) await app(tab, 'setOffset', 2 * 590_000);
      await app(first, 'resume');
      await until(async () => (await token(second)) !== oldToken, 'the second tab to get the new token');
      assert.equal(await token(second), await token(first));
      // Its own clock says the refresh is due too: the hand-over means it needs none.
      assert.equal(await app(second, 'token'), await token(first));
      assert.equal(server.refreshes.length - refreshes, 1, 'one refresh for two tabs');
      await second.click('#sign-out');
      await until(async () => (await status(first)) === 'signedOut', 'the first tab signed out too');
      assert.ok(await first.isVisible('#login'));
      await second.close();
    });

    it('offline: a notice above the app, still signed in; back online, the notice goes', async () => {
      await signIn(first);
      await until(async () => (await status(first)) === 'signedIn', 'signed in');
      await context.setOffline(true);
      await until(async () => (await status(first)) === 'offline', 'offline');
      assert.ok(await first.isVisible('#offline'));
      assert.ok(await first.isVisible('#main'), 'the app stays');
      assert.equal(await first.textContent('#user'), USER.name);
      await context.setOffline(false);
      await until(async () => (await status(first)) === 'signedIn', 'online again');
      assert.equal(await first.isVisible('#offline'), false);
    });

    it('the server ends the session: the expired screen with the reason, then the sign-in form works again', async () => {
      server.revokeAll();
      await app(first, 'setOffset', 4 * 600_000); // past expiry: the next call must refresh
      await app(first, 'resume');
      await until(async () => (await status(first)) === 'expired', 'expired');
      assert.match((await first.textContent('#notice')) ?? '', /token_revoked/);
      assert.equal(await first.$('#token'), null, 'no token on the page any more');
      await signIn(first);
      await until(async () => (await status(first)) === 'signedIn', 'signed in again');
    });
  });
}
