import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import { hasErrorCode, saveClient } from '../../src/index.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

/** Browser cookie mode. The issuer of `startTestServer` is http://127.0.0.1:4000 (loopback). */

const CSRF = { [CSRF_HEADER]: CSRF_HEADER_VALUE };

interface Answer {
  status: number;
  body: any;
  setCookie: string[];
  cookie: string | undefined;
  headers: Record<string, unknown>;
}

async function post(
  srv: TestServer,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; cookie?: string; name?: string } = {},
): Promise<Answer> {
  const name = options.name ?? 'tessera_rt';
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.cookie !== undefined) headers.cookie = `${name}=${options.cookie}`;
  const res = await srv.tessera.app.inject({
    method: 'POST',
    url: path,
    headers,
    ...(options.body === undefined ? {} : { payload: JSON.stringify(options.body) }),
  });
  const raw = res.headers['set-cookie'];
  const setCookie = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const ours = (res.cookies as { name: string; value: string }[]).find((c) => c.name === name);
  return {
    status: res.statusCode,
    body: res.body === '' ? undefined : JSON.parse(res.body),
    setCookie,
    cookie: ours?.value || undefined,
    headers: res.headers as Record<string, unknown>,
  };
}

const credentials = { username: 'alice', password: PASSWORD, client_id: 'spa' };

async function cookieLogin(srv: TestServer, name?: string): Promise<Answer> {
  const res = await post(srv, ENDPOINTS.login, {
    body: credentials,
    headers: CSRF,
    ...(name ? { name } : {}),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res;
}

async function refresh(srv: TestServer, cookie: string, headers: Record<string, string> = CSRF) {
  return post(srv, ENDPOINTS.refresh, { cookie, headers, body: {} });
}

async function familyOf(srv: TestServer, accessToken: string) {
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
  return srv.tessera.ctx.stores.sessions.findFamily(claims.sid);
}

describe('cookie mode over plain http on loopback', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await saveClient(srv.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
  });
  after(() => srv.close());

  it('login puts the refresh token only in an HttpOnly, SameSite=Strict cookie, never in the body', async () => {
    const res = await cookieLogin(srv);
    assert.equal(typeof res.body.access_token, 'string');
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(res.body.refresh_token_expires_in, undefined);
    assert.ok(
      !JSON.stringify(res.body).includes(REFRESH_TOKEN_PREFIX),
      'no refresh token anywhere in the body',
    );
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.setCookie.length, 1);
    const header = res.setCookie[0]!;
    assert.match(header, /^tessera_rt=tsr_[A-Za-z0-9_-]+; /);
    const attrs = header.split('; ').slice(1);
    assert.ok(attrs.includes('HttpOnly'), header);
    assert.ok(attrs.includes('SameSite=Strict'), header);
    assert.ok(attrs.includes('Path=/api/auth'), header);
    assert.ok(!attrs.includes('Secure'), 'plain http on loopback: no Secure (browsers would drop it)');
    assert.ok(!attrs.some((a) => a.startsWith('Domain')), header);
    assert.ok(attrs.includes(`Max-Age=${14 * 24 * 3600}`), header);
  });

  it('refresh reads the cookie, rotates it, and answers without a refresh token', async () => {
    const login = await cookieLogin(srv);
    const res = await refresh(srv, login.cookie!);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.refresh_token, undefined);
    assert.notEqual(res.body.access_token, login.body.access_token);
    assert.ok(res.cookie?.startsWith(REFRESH_TOKEN_PREFIX));
    assert.notEqual(res.cookie, login.cookie, 'rotated');
    assert.equal((await familyOf(srv, res.body.access_token))?.generation, 1);
    // The next refresh uses the new cookie.
    const again = await refresh(srv, res.cookie!);
    assert.equal(again.status, 200);
    assert.equal((await familyOf(srv, again.body.access_token))?.generation, 2);
  });

  it('grace period: the parent cookie presented again gets the same access token and the same child cookie', async () => {
    const login = await cookieLogin(srv);
    const first = await refresh(srv, login.cookie!);
    srv.clock.advance(10_000);
    const retry = await refresh(srv, login.cookie!);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.access_token, first.body.access_token);
    assert.equal(retry.cookie, first.cookie);
    assert.equal((await familyOf(srv, retry.body.access_token))?.generation, 1);
  });

  it('concurrent cookie refreshes coalesce: one rotation, identical answers', async () => {
    const login = await cookieLogin(srv);
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(srv, login.cookie!)));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(new Set(answers.map((a) => a.body.access_token)).size, 1);
    assert.equal(new Set(answers.map((a) => a.cookie)).size, 1);
    assert.equal((await familyOf(srv, answers[0]!.body.access_token))?.generation, 1);
  });

  it('reuse after the grace period ends the session and clears the cookie', async () => {
    const login = await cookieLogin(srv);
    const first = await refresh(srv, login.cookie!);
    srv.clock.advance(6 * 60_000);
    const reused = await refresh(srv, login.cookie!);
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error_code, 'token_reused');
    assert.ok(
      reused.setCookie.some((c) => /^tessera_rt=;/.test(c) && /Max-Age=0|Expires=Thu, 01 Jan 1970/.test(c)),
    );
    assert.equal((await familyOf(srv, first.body.access_token))?.status, 'revoked');
  });

  it('CSRF: refresh without the custom header, cross-site, or from a foreign Origin is refused with 403', async () => {
    const login = await cookieLogin(srv);
    const cases: Record<string, string>[] = [
      {},
      { 'x-tessera-csrf': 'yes' },
      { ...CSRF, 'sec-fetch-site': 'cross-site' },
      { ...CSRF, 'sec-fetch-site': 'same-site' },
      { ...CSRF, origin: 'https://evil.example' },
      { ...CSRF, origin: 'null' },
    ];
    for (const headers of cases) {
      const res = await refresh(srv, login.cookie!, headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.body.error_code, 'forbidden');
      assert.equal(res.setCookie.length, 0, 'no cookie handed out');
    }
    // Nothing was rotated by the refused requests.
    assert.equal((await familyOf(srv, login.body.access_token))?.generation, 0);
    // The issuer's own origin, and a same-origin browser request, are accepted.
    const ok = await refresh(srv, login.cookie!, {
      ...CSRF,
      origin: 'http://127.0.0.1:4000',
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(ok.status, 200);
    const ownHost = await refresh(srv, ok.cookie!, {
      ...CSRF,
      origin: 'http://localhost:4000',
      host: 'localhost:4000',
    });
    assert.equal(ownHost.status, 200, 'the request’s own origin (Origin matches Host) is same-origin');
  });

  it('CSRF: a cookie-mode login without the header is refused before the password is checked', async () => {
    const res = await post(srv, ENDPOINTS.login, { body: credentials });
    assert.equal(res.status, 403);
    assert.equal(res.body.error_code, 'forbidden');
    assert.equal(res.setCookie.length, 0);
    const crossSite = await post(srv, ENDPOINTS.login, {
      body: credentials,
      headers: { ...CSRF, origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);
  });

  it('a refresh request with the CSRF header but no cookie: session_expired (the SDK shows the login screen)', async () => {
    const res = await post(srv, ENDPOINTS.refresh, { headers: CSRF });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'session_expired');
  });

  it('the cookie-mode refresh token is refused in a JSON body and at the token endpoint', async () => {
    const login = await cookieLogin(srv);
    const body = await post(srv, ENDPOINTS.refresh, { body: { refresh_token: login.cookie } });
    assert.equal(body.status, 400);
    assert.equal(body.body.error_code, 'unauthorized_client');
    const form = await srv.token({
      grant_type: 'refresh_token',
      client_id: 'spa',
      refresh_token: login.cookie!,
    });
    assert.equal(form.status, 400);
    assert.equal(form.body.error_code, 'unauthorized_client');
    assert.equal((await familyOf(srv, login.body.access_token))?.generation, 0);
  });

  it('logout revokes the family and clears the cookie; the old cookie then fails', async () => {
    const login = await cookieLogin(srv);
    const res = await post(srv, ENDPOINTS.logout, { cookie: login.cookie!, headers: CSRF });
    assert.equal(res.status, 204);
    const cleared = res.setCookie.find((c) => c.startsWith('tessera_rt='));
    assert.ok(cleared, 'a Set-Cookie clears the cookie');
    assert.match(cleared, /^tessera_rt=;/);
    assert.match(cleared, /Path=\/api\/auth/);
    assert.match(cleared, /Max-Age=0|Expires=Thu, 01 Jan 1970/);
    assert.equal((await familyOf(srv, login.body.access_token))?.status, 'revoked');
    const after = await refresh(srv, login.cookie!);
    assert.equal(after.status, 400);
    assert.equal(after.body.error_code, 'token_revoked');
  });

  it('logout without the CSRF header is refused and ends nothing', async () => {
    const login = await cookieLogin(srv);
    const res = await post(srv, ENDPOINTS.logout, { cookie: login.cookie! });
    assert.equal(res.status, 403);
    assert.equal(res.setCookie.length, 0);
    assert.equal((await familyOf(srv, login.body.access_token))?.status, 'active');
  });

  it('clients without cookie mode are unchanged: the refresh token in the body, no cookie', async () => {
    const res = await post(srv, ENDPOINTS.login, {
      body: { ...credentials, client_id: 'web' },
    });
    assert.equal(res.status, 200);
    assert.ok(res.body.refresh_token.startsWith(REFRESH_TOKEN_PREFIX));
    assert.equal(res.setCookie.length, 0);
    const refreshed = await post(srv, ENDPOINTS.refresh, {
      body: { refresh_token: res.body.refresh_token },
    });
    assert.equal(refreshed.status, 200);
    assert.ok(refreshed.body.refresh_token.startsWith(REFRESH_TOKEN_PREFIX));
  });

  it('warns at start about plain http, and never logs a cookie or a token', async () => {
    await srv.tessera.app.ready();
    const warning = srv.logs.find((l) => l.includes('cookie mode over plain http'));
    assert.ok(warning, 'a warning at start');
    assert.ok(!srv.logs.some((l) => l.includes(REFRESH_TOKEN_PREFIX)), 'no refresh token in the logs');
  });

  it('cookie mode is for public clients only', async () => {
    await assert.rejects(
      saveClient(srv.tessera.ctx, { id: 'bff', public: false, cookieMode: true }),
      (err: unknown) => hasErrorCode(err, 'ERR_TESSERA_INPUT'),
    );
  });
});

describe('cookie mode over https', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ config: { issuer: 'https://auth.example.com' } });
    await saveClient(srv.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
  });
  after(() => srv.close());

  it('the cookie is __Host-tessera_rt; Path=/; Secure; HttpOnly; SameSite=Strict; no Domain', async () => {
    const res = await cookieLogin(srv, '__Host-tessera_rt');
    const header = res.setCookie[0]!;
    assert.match(header, /^__Host-tessera_rt=tsr_/);
    const attrs = header.split('; ').slice(1);
    for (const a of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']) assert.ok(attrs.includes(a), header);
    assert.ok(!attrs.some((a) => a.startsWith('Domain')), header);
    const refreshed = await post(srv, ENDPOINTS.refresh, {
      name: '__Host-tessera_rt',
      cookie: res.cookie!,
      headers: { ...CSRF, origin: 'https://auth.example.com' },
      body: {},
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.refresh_token, undefined);
    assert.notEqual(refreshed.cookie, res.cookie);
  });
});

describe('cookie mode over plain http off loopback', () => {
  it('is refused: a cookie without Secure would cross the network in clear', async () => {
    const srv = await startTestServer({ config: { issuer: 'http://10.1.2.3:4000' } });
    try {
      await saveClient(srv.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
      const res = await post(srv, ENDPOINTS.login, { body: credentials, headers: CSRF });
      assert.equal(res.status, 400);
      assert.equal(res.body.error_code, 'unauthorized_client');
      assert.equal(res.setCookie.length, 0);
    } finally {
      await srv.close();
    }
  });
});
