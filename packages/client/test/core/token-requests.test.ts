import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TesseraError } from '@tessera/protocol';
import { processTokenResponse } from '../../src/core/process-token-response.js';
import {
  cookieRefreshRequest,
  loginRequest,
  logoutRequest,
  type RequestConfig,
  refreshRequest,
  revocationRequest,
} from '../../src/core/token-requests.js';
import { isUnreachable } from '../../src/core/unreachable.js';

const publicClient: RequestConfig = { clientId: 'web', clientSecret: undefined, cookie: false };
const confidential: RequestConfig = { clientId: 'svc:1', clientSecret: 'sé cret', cookie: false };
const cookie: RequestConfig = { clientId: 'web', clientSecret: undefined, cookie: true };
const URL_ = 'https://auth.test/oauth/token';

const basic = (r: Request) =>
  Buffer.from((r.headers.get('authorization') ?? '').replace('Basic ', ''), 'base64').toString();

describe('token requests, built without sending', () => {
  it('refresh, public client: a form with client_id and the nonce, no cookies, no-store', async () => {
    const r = refreshRequest(publicClient, URL_, 'rt-1', 'n-1');
    assert.equal(r.method, 'POST');
    assert.equal(r.url, URL_);
    assert.equal(r.headers.get('content-type'), 'application/x-www-form-urlencoded');
    assert.equal(r.headers.get('accept'), 'application/json');
    assert.equal(r.headers.get('authorization'), null);
    assert.equal(r.credentials, 'omit');
    assert.equal(r.cache, 'no-store');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(await r.text())), {
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      nonce: 'n-1',
      client_id: 'web',
    });
  });

  it('refresh, confidential client: client_secret_basic, form-encoded, and no client_id in the body', async () => {
    const r = refreshRequest(confidential, URL_, 'rt-1');
    assert.equal(basic(r), 'svc%3A1:s%C3%A9+cret');
    const body = new URLSearchParams(await r.text());
    assert.equal(body.get('client_id'), null);
    assert.equal(body.get('nonce'), null);
  });

  it('revocation (RFC 7009) follows the same client rule', async () => {
    const pub = new URLSearchParams(await revocationRequest(publicClient, URL_, 'rt-1').text());
    assert.deepEqual(Object.fromEntries(pub), {
      token: 'rt-1',
      token_type_hint: 'refresh_token',
      client_id: 'web',
    });
    const conf = revocationRequest(confidential, URL_, 'rt-1');
    assert.equal(new URLSearchParams(await conf.text()).get('client_id'), null);
    assert.equal(basic(conf), 'svc%3A1:s%C3%A9+cret');
  });

  it('login: JSON with client_id for a public client, Basic for a confidential one', async () => {
    const pub = loginRequest(publicClient, URL_, 'ada', 'pw');
    assert.equal(pub.headers.get('content-type'), 'application/json');
    assert.deepEqual(await pub.json(), { username: 'ada', password: 'pw', client_id: 'web' });
    const conf = loginRequest(confidential, URL_, 'ada', 'pw');
    assert.deepEqual(await conf.json(), { username: 'ada', password: 'pw' });
    assert.equal(basic(conf), 'svc%3A1:s%C3%A9+cret');
  });

  it('cookie mode: cookies included, the CSRF header, and only the nonce in the body', async () => {
    const r = cookieRefreshRequest(cookie, 'https://app.test/api/auth/refresh', 'n-1');
    assert.equal(r.credentials, 'include');
    assert.equal(r.headers.get('x-tessera-csrf'), '1');
    assert.deepEqual(await r.json(), { nonce: 'n-1' });
    const out = logoutRequest(cookie, 'https://app.test/api/auth/logout');
    assert.equal(out.credentials, 'include');
    assert.deepEqual(await out.json(), {});
  });
});

describe('processTokenResponse', () => {
  const tokens = { access_token: 'at', token_type: 'Bearer', expires_in: 900, refresh_token: 'rt' };

  it('a token answer becomes the token set', async () => {
    assert.deepEqual(await processTokenResponse(Response.json(tokens), 0), tokens);
  });

  it('an error answer becomes the TesseraError of the table, with Retry-After', async () => {
    const reused = Response.json({ error: 'invalid_grant', error_code: 'token_reused' }, { status: 400 });
    await assert.rejects(processTokenResponse(reused, 0), { code: 'token_reused', endsSession: true });
    const limited = Response.json(
      { error: 'rate_limited' },
      { status: 429, headers: { 'retry-after': '7' } },
    );
    await assert.rejects(processTokenResponse(limited, 0), { code: 'rate_limited', retryAfter: 7 });
  });

  it('a standard server’s invalid_grant (no Tessera code) ends the session', async () => {
    const res = Response.json({ error: 'invalid_grant' }, { status: 400 });
    await assert.rejects(processTokenResponse(res, 0), { code: 'invalid_grant', endsSession: true });
  });

  const html = (status: number) =>
    new Response('<html>Sign in to the Wi-Fi</html>', { status, headers: { 'content-type': 'text/html' } });
  for (const [name, response] of [
    ['a 200 without an access token', () => Response.json({ token_type: 'Bearer' })],
    ['a 200 portal page', () => html(200)],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'http://portal/' } })],
    ['511 Network Authentication Required', () => html(511)],
    ['a 4xx that is not JSON', () => html(403)],
    [
      'a body cut off mid-way',
      () => new Response(new ReadableStream({ pull: (c) => c.error(new TypeError('terminated')) })),
    ],
  ] as const) {
    it(`${name}: not the OAuth server's answer — unreachable (retried, offline), never a session or a sign-out`, async () => {
      const error = await processTokenResponse(response(), 0).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TesseraError && error.retryable && !error.endsSession);
      assert.ok(isUnreachable(error));
    });
  }

  it('a 5xx whatever its body is the server’s own transient trouble, not unreachable', async () => {
    const error = await processTokenResponse(html(502), 0).catch((e: unknown) => e);
    assert.ok(error instanceof TesseraError && error.code === 'server_error' && error.retryable);
    assert.equal(isUnreachable(error), false);
  });
});
