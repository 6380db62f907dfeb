import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStorage } from '../../src/index.js';
import { harness } from '../support/harness.js';

/**
 * Cookie mode: the server keeps the refresh token in an HttpOnly cookie. This fake
 * plays both the browser's cookie jar and Tessera's `/api/auth/*` endpoints: the jar is only
 * written by answers that arrive, as in a browser.
 */
class CookieServer {
  jar: string | undefined;
  gen = 0;
  seen: { path: string; credentials: RequestCredentials; csrf: string | null; body: string }[] = [];
  /** The next refresh answers are lost after the server rotated (a dropped connection). */
  lose = 0;
  endSession = false;

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers = request.headers;
    this.seen.push({
      path: url.pathname,
      credentials: request.credentials,
      csrf: headers.get('x-tessera-csrf'),
      body: await request.text(),
    });
    if (headers.get('x-tessera-csrf') !== '1' || request.credentials !== 'include') {
      return Response.json({ error: 'access_denied', error_code: 'forbidden' }, { status: 403 });
    }
    if (url.pathname === '/api/auth/login') return this.#issue();
    if (url.pathname === '/api/auth/logout') {
      this.jar = undefined;
      return new Response(null, { status: 204 });
    }
    if (url.pathname === '/api/auth/refresh') {
      if (this.endSession || this.jar === undefined) {
        return Response.json(
          { error: 'invalid_grant', error_code: 'token_revoked', error_description: 'revoked' },
          { status: 400 },
        );
      }
      if (this.lose > 0) {
        this.lose--;
        throw new TypeError('Failed to fetch');
      }
      return this.#issue();
    }
    return new Response(null, { status: 404 });
  };

  #issue(): Response {
    this.gen++;
    this.jar = `tsr_cookie_${this.gen}`;
    return Response.json({ access_token: `at-${this.gen}`, token_type: 'Bearer', expires_in: 30, scope: '' });
  }

  get refreshes() {
    return this.seen.filter((s) => s.path === '/api/auth/refresh');
  }
}

async function cookieClient(server = new CookieServer(), storage = memoryStorage()) {
  const h = await harness({
    tokenEndpoint: 'https://app.test/oauth/token',
    refreshMode: 'cookie',
    fetch: server.fetch,
    storage,
  });
  return { ...h, cookies: server, storage };
}

describe('cookie mode (the SDK never sees the refresh token)', () => {
  it('signs in through /api/auth/login with the browser’s cookies and the CSRF header', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    assert.deepEqual(h.cookies.seen[0]!.path, '/api/auth/login');
    assert.equal(h.cookies.seen[0]!.credentials, 'include');
    assert.equal(h.cookies.seen[0]!.csrf, '1');
    assert.equal(await h.client.getAccessToken(), 'at-1');
    assert.equal(h.client.state, 'active');
    const stored = String(await h.storage.get('tessera:web'));
    assert.ok(!stored.includes('tsr_'), 'no refresh token at rest');
    assert.ok(!stored.includes('refreshToken'));
  });

  it('refreshes silently with POST /api/auth/refresh (JSON nonce only), once per lifetime', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    // 30 s tokens over 10 minutes: one refresh each ~23 s, never more.
    await h.time.advance(10 * 60_000);
    const refreshes = h.cookies.refreshes;
    assert.ok(refreshes.length >= 20 && refreshes.length <= 27, `${refreshes.length} refreshes`);
    for (const r of refreshes) {
      assert.equal(r.credentials, 'include');
      assert.equal(r.csrf, '1');
      const body = JSON.parse(r.body) as Record<string, string>;
      assert.deepEqual(Object.keys(body), ['nonce']);
      assert.ok(!r.body.includes('tsr_'));
    }
    assert.equal(await h.client.getAccessToken(), `at-${h.cookies.gen}`);
    assert.equal(h.count('sessionExpired'), 0);
  });

  it('1,000 concurrent callers at expiry share one refresh request', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    h.time.jump(31_000); // the timer slept (background tab)
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => h.client.getAccessToken()));
    assert.equal(h.cookies.refreshes.length, 1);
    assert.ok(tokens.every((t) => t === 'at-2'));
  });

  it('a lost answer goes offline, keeps the session, and retries with the same cookie', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    h.cookies.lose = 1;
    const jarBefore = h.cookies.jar;
    await h.time.advance(23_300); // the proactive refresh is due at ~23.25 s
    assert.equal(h.client.state, 'offline');
    assert.equal(await h.client.getAccessToken(), 'at-1', 'the cached token, at once');
    assert.equal(h.cookies.jar, jarBefore, 'the browser kept the old cookie');
    await h.time.advance(5_000);
    assert.equal(h.client.state, 'active');
    assert.equal(await h.client.getAccessToken(), 'at-2');
    assert.equal(h.count('sessionExpired'), 0);
  });

  it('the server ending the session (revoked) signs out once, with sessionExpired', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    h.cookies.endSession = true;
    await h.time.advance(30_000);
    assert.equal(h.client.state, 'expired');
    assert.equal(h.count('sessionExpired'), 1);
    assert.equal(await h.client.getAccessToken(), null);
  });

  it('signOut posts /api/auth/logout with the cookie and the CSRF header', async () => {
    const h = await cookieClient();
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    await h.client.signOut();
    const logout = h.cookies.seen.find((s) => s.path === '/api/auth/logout');
    assert.ok(logout);
    assert.equal(logout.credentials, 'include');
    assert.equal(logout.csrf, '1');
    assert.equal(h.cookies.jar, undefined);
    assert.equal(h.client.state, 'signedOut');
  });

  it('token mode is unchanged: cookies are never sent, no CSRF header', async () => {
    const seen: { credentials: string | undefined; csrf: string | null }[] = [];
    const h = await harness({
      fetch: async (input, init) => {
        const request = new Request(input, init);
        seen.push({ credentials: request.credentials, csrf: request.headers.get('x-tessera-csrf') });
        return Response.json({
          access_token: 'at',
          token_type: 'Bearer',
          expires_in: 900,
          refresh_token: 'rt',
        });
      },
    });
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    await h.client.refresh();
    assert.deepEqual(seen, [
      { credentials: 'omit', csrf: null },
      { credentials: 'omit', csrf: null },
    ]);
  });
});
