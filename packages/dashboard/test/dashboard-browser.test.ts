// The dashboard in a real browser (Debian's Chromium through playwright-core), against a real
// server: sign-in, a real login's session in the list, the live event tail, revoking with a reason
// (and the user's next refresh refused), a reuse's lineage and explain-logout, a non-admin and a
// missing CSRF token refused, and the page working under its Content-Security-Policy.
// TESSERA_SCREENSHOTS=1 (`npm run screenshots`) also writes the README's screenshots.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@tessera/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN, AGENTS, type DashboardServer, startDashboardServer } from './support/server.js';

/** Generous: the machine running the tests may be busy; nothing here waits this long when it is not. */
const STEP_MS = 30_000;
const SCREENSHOTS = process.env.TESSERA_SCREENSHOTS === '1';
const SHOTS_DIR = new URL('../../../docs/screenshots/', import.meta.url);

describe('the dashboard in a browser', { timeout: 240_000 }, () => {
  let s: DashboardServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every CSP complaint: console messages and `securitypolicyviolation` events. */
  const cspProblems: string[] = [];
  /** Token values handed out in this test: none may ever appear in the page. */
  const secrets: string[] = [];

  before(async () => {
    s = await startDashboardServer();
    browser = await launchChromium({ timeout: STEP_MS });
    context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { __csp: string[] }).__csp = seen;
      document.addEventListener('securitypolicyviolation', (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to (load|apply|execute|connect)/i.test(m.text())) {
        cspProblems.push(m.text());
      }
    });
    if (SCREENSHOTS) mkdirSync(SHOTS_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const shot = async (name: string, fullPage = false) => {
    if (SCREENSHOTS)
      await page.screenshot({ path: fileURLToPath(new URL(`${name}.png`, SHOTS_DIR)), fullPage });
  };
  const goto = async (hash: string) => {
    await page.goto(`${s.url}/admin/${hash}`);
    await page.waitForSelector('#signed-in-as');
  };
  const login = async (username: string, from?: { ip?: string; userAgent?: string; clientId?: string }) => {
    const t = await s.login(username, from);
    secrets.push(t.access_token, t.refresh_token!);
    return t;
  };
  const assertNoSecrets = async () => {
    const html = await page.content();
    for (const secret of secrets) assert.ok(!html.includes(secret), 'no token value in the page');
  };

  it('serves the page under a strict CSP and the usual security headers', async () => {
    for (const path of [
      '/admin',
      '/admin/',
      '/admin/app.js',
      '/admin/app.css',
      '/admin/sessions/deep/link',
    ]) {
      const res = await fetch(`${s.url}${path}`);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /style-src 'self'(;|$)/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
    }
    const html = await (await fetch(`${s.url}/admin/sessions/deep/link`)).text();
    assert.match(html, /<script type="module" src="app\.js"><\/script>/, 'the page, for any deep path');
    assert.doesNotMatch(html, /<style|style=|<script>/, 'nothing inline');
    const api = await fetch(`${s.url}/admin/api/no-such-thing`);
    assert.equal(api.status, 404, 'an unknown API path is not the page');
    assert.equal(((await api.json()) as { error_code: string }).error_code, 'not_found');
    const anonymous = await fetch(`${s.url}/admin/api/sessions`);
    assert.equal(anonymous.status, 401);
  });

  it('refuses a non-admin at the sign-in', async () => {
    await page.goto(`${s.url}/admin/`);
    await page.waitForSelector('[data-page=sign-in]');
    await page.fill('input[name=username]', 'bob');
    await page.fill('input[name=password]', 'correct horse battery staple');
    await page.click('#sign-in');
    const error = await page.waitForSelector('.error-box[data-error-code=forbidden]');
    assert.match((await error.textContent()) ?? '', /not an administrator/);
    assert.equal(await page.$('#signed-in-as'), null, 'still on the sign-in');
  });

  it('signs in as admin; a session from a real login appears in the list', async () => {
    await page.fill('input[name=username]', ADMIN.username);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('#sign-in');
    await page.waitForSelector('#signed-in-as');
    assert.equal(await page.textContent('#signed-in-as'), 'admin');
    // A few sessions, so that the list and the screenshot show something real.
    await login('dave', { ip: '192.0.2.10', userAgent: AGENTS.safariIphone, clientId: 'mobile' });
    s.clock.advance(60_000);
    const carol = await login('carol', { ip: '198.51.100.4', userAgent: AGENTS.chromeMac });
    await goto('#/sessions');
    const row = await page.waitForSelector(`tr[data-session="${carol.sid}"]`);
    const text = (await row.textContent()) ?? '';
    assert.match(text, /carol/);
    assert.match(text, /web/);
    assert.match(text, /198\.51\.100\.4/);
    assert.match(text, /Chrome 120 on macOS/);
    assert.match(text, /active/);
    await assertNoSecrets();
  });

  it('shows a refresh in the live event tail', async (t) => {
    const carol = await login('carol', { ip: '198.51.100.4' });
    await goto('#/events');
    await page.waitForSelector('#tail-state[data-state=live]');
    const started = Date.now();
    const refreshed = await s.refresh(carol.refresh_token!, { ip: '198.51.100.4' });
    assert.equal(refreshed.status, 200);
    await page.waitForSelector(`#tail tr[data-type="token.refreshed"] >> text=${carol.sid.slice(0, 12)}`);
    t.diagnostic(`the refresh showed in the tail after ${Date.now() - started} ms`);
  });

  it('revokes a session with a reason; the user’s next refresh fails with token_revoked / admin_revoked', async () => {
    const carol = await login('carol', { ip: '198.51.100.4', userAgent: AGENTS.firefoxWindows });
    await goto('#/sessions?user=carol');
    const row = await page.waitForSelector(`tr[data-session="${carol.sid}"]`);
    await (await row.$('button:has-text("Revoke")'))!.click();
    const dialog = await page.waitForSelector('dialog.confirm[open]');
    const confirm = (await dialog.$('button[type=submit]'))!;
    assert.equal(await confirm.isDisabled(), true, 'no confirmation without a reason');
    await dialog.$eval('textarea[name=reason]', (el) => (el as HTMLTextAreaElement).focus());
    await page.keyboard.type('Lost phone, reported by phone');
    await confirm.click();
    await page.waitForSelector(`tr[data-session="${carol.sid}"] [data-status=revoked]`);
    const refused = await s.refresh(carol.refresh_token!);
    assert.equal(refused.body.error_code, 'token_revoked');
    assert.equal(refused.body.session_end_reason, 'admin_revoked');
    // The session page says who ended it and why.
    await goto(`#/sessions/${carol.sid}`);
    const explanation = (await page.textContent('#explanation')) ?? '';
    assert.match(explanation, /administrator admin ended the session/);
    assert.match(explanation, /Lost phone, reported by phone/);
  });

  it('refuses a state change without the CSRF token', async () => {
    const dave = await login('dave', { ip: '192.0.2.10', userAgent: AGENTS.firefoxWindows });
    await goto('#/sessions');
    const answer = await page.evaluate(async (sid) => {
      const res = await fetch(`api/sessions/${sid}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'forged' }),
      });
      return { status: res.status, body: await res.json() };
    }, dave.sid);
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error_code, 'forbidden');
    assert.equal((await s.refresh(dave.refresh_token!)).status, 200, 'the session is untouched');
  });

  it('after a reuse, the session page shows the lineage and an explain-logout that names it', async () => {
    const from = { ip: '198.51.100.4', userAgent: AGENTS.chromeMac };
    const carol = await login('carol', from);
    s.clock.advance(10 * 60_000);
    const first = await s.refresh(carol.refresh_token!, from);
    assert.equal(first.status, 200);
    s.clock.advance(5 * 60_000);
    const second = await s.refresh(first.body.refresh_token as string, from);
    assert.equal(second.status, 200);
    secrets.push(first.body.refresh_token as string, second.body.refresh_token as string);
    // The app retries the refresh it already made (a harmless race): the grace window answers it.
    s.clock.advance(30_000);
    const race = await s.refresh(first.body.refresh_token as string, from);
    assert.equal(race.status, 200);
    // Eleven minutes after it was replaced, the first refresh token comes back from elsewhere.
    s.clock.advance(5 * 60_000 + 30_000);
    const reuse = await s.refresh(carol.refresh_token!, {
      ip: '203.0.113.9',
      userAgent: AGENTS.firefoxWindows,
    });
    assert.equal(reuse.body.error_code, 'token_reused');
    assert.equal(reuse.body.session_end_reason, 'reuse_detected');

    await goto(`#/sessions/${carol.sid}`);
    const explanation = (await page.textContent('#explanation')) ?? '';
    assert.match(explanation, /refresh token #0 was used again 11 minutes after it had been replaced/);
    assert.match(explanation, /from a different IP \(203\.0\.113\.9, previously 198\.51\.100\.4\)/);
    const kinds = await page.$$eval('#lineage > li', (items) =>
      items.map((li) => li.getAttribute('data-kind')),
    );
    assert.deepEqual(kinds.slice(0, 5), ['issued', 'rotated', 'rotated', 'grace', 'reuse']);
    assert.ok(kinds.includes('ended'), 'the end is on the timeline');
    const reuseStep = (await page.textContent('#lineage > li[data-kind=reuse]')) ?? '';
    assert.match(reuseStep, /#0/);
    assert.match(reuseStep, /203\.0\.113\.9 \(changed\)/, 'the new IP is highlighted');
    assert.match(reuseStep, /Firefox 121 on Windows 10 \(changed\)/, 'the new device, parsed, highlighted');
    const rotated = (await page.textContent('#lineage > li[data-kind=rotated]')) ?? '';
    assert.match(rotated, /Chrome 120 on macOS/, 'each step’s device parsed from its user agent');
    assert.ok(await page.$('#lineage > li[data-kind=reuse] .changed'), 'highlighted');
    await assertNoSecrets();
    await shot('session-lineage', true);
  });

  it('finds a user, shows their sessions and events, and revokes all of theirs; and all of a client', async () => {
    const first = await login('dave', {
      ip: '192.0.2.10',
      userAgent: AGENTS.safariIphone,
      clientId: 'mobile',
    });
    const second = await login('dave', { ip: '192.0.2.11', userAgent: AGENTS.chromeMac });
    await goto('#/users');
    await page.fill('input[name=q]', 'dav');
    await page.click('button:has-text("Search")');
    await page.click('#users a:has-text("dave")');
    await page.waitForSelector(`tr[data-session="${second.sid}"]`);
    assert.ok(await page.$('table.events tr[data-type="token.issued"]'), 'their events');
    await page.click('#revoke-user');
    const dialog = await page.waitForSelector('dialog.confirm[open]');
    await dialog.$eval('textarea[name=reason]', (el) => (el as HTMLTextAreaElement).focus());
    await page.keyboard.type('Account compromised');
    await (await dialog.$('button[type=submit]'))!.click();
    await page.waitForSelector('.notice >> text=sessions ended');
    await page.waitForSelector(`tr[data-session="${second.sid}"] [data-status=revoked]`);
    for (const [t, clientId] of [
      [first, 'mobile'],
      [second, 'web'],
    ] as const) {
      const refused = await s.refresh(t.refresh_token!, { clientId });
      assert.equal(refused.body.error_code, 'token_revoked');
      assert.equal(refused.body.session_end_reason, 'admin_revoked');
    }
    // Every active session of one client, from the sessions list filtered by it.
    const mobile = await login('carol', {
      ip: '198.51.100.7',
      userAgent: AGENTS.safariIphone,
      clientId: 'mobile',
    });
    const web = await login('carol', { ip: '198.51.100.4' });
    await goto('#/sessions?client=mobile');
    await page.waitForSelector(`tr[data-session="${mobile.sid}"]`);
    assert.equal(await page.$(`tr[data-session="${web.sid}"]`), null, 'filtered by client');
    await page.click('#revoke-client');
    const clientDialog = await page.waitForSelector('dialog.confirm[open]');
    await clientDialog.$eval('textarea[name=reason]', (el) => (el as HTMLTextAreaElement).focus());
    await page.keyboard.type('Mobile app build withdrawn');
    await (await clientDialog.$('button[type=submit]'))!.click();
    await page.waitForSelector(`tr[data-session="${mobile.sid}"] [data-status=revoked]`);
    assert.equal((await s.refresh(web.refresh_token!)).status, 200, 'the other client’s session lives on');
  });

  it('exports the filtered events as NDJSON and CSV with the admin’s cookie', async () => {
    await goto('#/events?type=token.issued');
    for (const [id, type] of [
      ['#export-ndjson', /application\/x-ndjson/],
      ['#export-csv', /text\/csv/],
    ] as const) {
      const href = await page.getAttribute(id, 'href');
      assert.match(href ?? '', /type=token\.issued/);
      const answer = await page.evaluate(async (url) => {
        const res = await fetch(url!);
        return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
      }, href);
      assert.equal(answer.status, 200, id);
      assert.match(answer.type ?? '', type, id);
      assert.match(answer.text, /token\.issued/, id);
      assert.doesNotMatch(answer.text, /token\.refreshed/, `${id}: filtered`);
    }
  });

  it('the token inspector shows a pasted token’s claims and session, never the token', async () => {
    const dave = await login('dave', { ip: '192.0.2.10', userAgent: AGENTS.safariIphone });
    await goto('#/inspect');
    await page.fill('textarea[name=token]', dave.access_token);
    await page.click('button[type=submit]:has-text("Inspect")');
    const claims = (await page.textContent('#claims', { timeout: STEP_MS })) ?? '';
    assert.match(claims, new RegExp(`"sid": "${dave.sid}"`));
    assert.match((await page.textContent('#inspection')) ?? '', /jwt/);
    assert.equal(await page.inputValue('textarea[name=token]'), '', 'the field is emptied once sent');
    await assertNoSecrets();
  });

  it('rotates the signing keys after a confirmation with a reason', async () => {
    await goto('#/keys');
    const before = await page.$$eval('table.keys tr[data-state=current] code', (c) =>
      c.map((x) => x.textContent),
    );
    await page.click('#rotate-jwt');
    const dialog = await page.waitForSelector('dialog.confirm[open]');
    await dialog.$eval('textarea[name=reason]', (el) => (el as HTMLTextAreaElement).focus());
    await page.keyboard.type('Quarterly rotation');
    await (await dialog.$('button[type=submit]'))!.click();
    const notice = (await (await page.waitForSelector('.notice >> text=Rotated')).textContent()) ?? '';
    const current = /Rotated: (\S+) is current/.exec(notice)?.[1];
    assert.ok(current, notice);
    // The notice comes with the answer; the table follows once the keys are read again.
    await page.waitForSelector(`table.keys tr[data-state=current] code:text-is("${current}")`, {
      timeout: STEP_MS,
    });
    const afterRotation = await page.$$eval('table.keys tr[data-state=current] code', (c) =>
      c.map((x) => x.textContent),
    );
    assert.notDeepEqual(afterRotation, before, 'another key is current');
    assert.ok(!before.includes(current), 'the key the notice names was not current before');
  });

  it('the overview shows its tiles and charts from the counters', async () => {
    await goto('#/');
    await page.waitForSelector('#tiles .tile');
    assert.equal((await page.$$('#tiles .tile')).length, 6);
    assert.match((await page.textContent('#tiles')) ?? '', /Active sessions/);
    await page.waitForSelector('#chart-refreshes canvas');
    await page.waitForSelector('#chart-reuse canvas');
    // The last hour, where this test's activity is, for the README.
    await goto('#/?range=3600000');
    await page.waitForSelector('#range-note >> text=1 min per point');
    await page.waitForSelector('#chart-refreshes canvas');
    await shot('overview');
  });

  it('the pages ran under the CSP without a single violation', async () => {
    for (const hash of ['#/', '#/events', '#/users?q=a', '#/users/carol', '#/keys', '#/inspect']) {
      await goto(hash);
      await page.waitForLoadState('networkidle');
    }
    await goto('#/sessions');
    await page.waitForSelector('tr[data-session]');
    await shot('sessions');
    const violations = await page.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp);
    assert.deepEqual(violations, []);
    assert.deepEqual(cspProblems, []);
  });

  it('an admin session that went unused ends, and the page shows the sign-in again', async () => {
    await goto('#/sessions');
    s.clock.advance(31 * 60_000);
    await page.click('nav a:has-text("Users")');
    await page.waitForSelector('[data-page=sign-in] >> text=Your admin session ended');
    await page.fill('input[name=username]', ADMIN.username);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('#sign-in');
    await page.waitForSelector('#users');
  });
});
