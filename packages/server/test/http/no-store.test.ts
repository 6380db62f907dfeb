import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import {
  basic,
  PASSWORD,
  RS_SECRET,
  SECRET,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const CSRF = { [CSRF_HEADER]: CSRF_HEADER_VALUE };

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  /** The status the case must get, so each case proves it reached what it names. */
  status: number;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('every answer of a token-bearing endpoint is Cache-Control: no-store, Pragma: no-cache', () => {
  let srv: TestServer;
  let refreshToken: string;
  let accessToken: string;
  let spaCookie: string;
  before(async () => {
    // Two sign-ins below, the password grant's wrong password and one wrong password at login use
    // the login limit up (the password grant counts against it too); the next login is refused.
    srv = await startTestServer({ config: { rateLimitLogin: 4 } });
    await saveClient(srv.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
    const tokens = await srv.login();
    refreshToken = tokens.refresh_token!;
    accessToken = tokens.access_token;
    const spa = await srv.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      headers: { ...JSON_TYPE, ...CSRF },
      payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'spa' }),
    });
    assert.equal(spa.statusCode, 200, spa.body);
    spaCookie = (spa.cookies as { name: string; value: string }[]).find(
      (c) => c.name === 'tessera_rt',
    )!.value;
  });
  after(() => srv.close());

  const cases = (): Case[] => [
    // The token endpoint: each grant, and its refusals at every stage.
    {
      name: 'token: refresh grant',
      url: ENDPOINTS.token,
      headers: FORM,
      payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: refreshToken }),
      status: 200,
    },
    {
      name: 'token: client_credentials grant',
      url: ENDPOINTS.token,
      headers: { ...FORM, authorization: basic('backend', SECRET) },
      payload: form({ grant_type: 'client_credentials' }),
      status: 200,
    },
    {
      name: 'token: password grant, wrong password',
      url: ENDPOINTS.token,
      headers: { ...FORM, authorization: basic('backend', SECRET) },
      payload: form({ grant_type: 'password', username: 'alice', password: 'wrong-password' }),
      status: 400,
    },
    {
      name: 'token: unsupported grant',
      url: ENDPOINTS.token,
      headers: FORM,
      payload: form({ grant_type: 'implicit', client_id: 'web' }),
      status: 400,
    },
    {
      name: 'token: bad Basic credentials',
      url: ENDPOINTS.token,
      headers: { ...FORM, authorization: 'Basic bm9wZQ==' },
      payload: form({ grant_type: 'refresh_token', refresh_token: 'x' }),
      status: 401,
    },
    {
      name: 'token: wrong content type (refused by the body parser)',
      url: ENDPOINTS.token,
      headers: { 'content-type': 'text/plain' },
      payload: 'grant_type=refresh_token',
      status: 415,
    },
    {
      name: 'token: duplicated query parameter (refused by an app-wide hook, before the route runs)',
      url: `${ENDPOINTS.token}?a=1&a=2`,
      headers: FORM,
      payload: form({ grant_type: 'refresh_token' }),
      status: 400,
    },
    // Revocation and introspection.
    {
      name: 'revoke',
      url: ENDPOINTS.revocation,
      headers: FORM,
      payload: form({ token: 'unknown', client_id: 'web' }),
      status: 200,
    },
    {
      name: 'revoke without a client',
      url: ENDPOINTS.revocation,
      headers: FORM,
      payload: form({ token: 'unknown' }),
      status: 401,
    },
    {
      name: 'introspect',
      url: ENDPOINTS.introspection,
      headers: { ...FORM, authorization: basic('api', RS_SECRET) },
      payload: form({ token: accessToken }),
      status: 200,
    },
    {
      name: 'introspect by a public client',
      url: ENDPOINTS.introspection,
      headers: FORM,
      payload: form({ token: accessToken, client_id: 'web' }),
      status: 401,
    },
    // The first-party endpoints, with and without the cookie.
    {
      name: 'login, wrong password',
      url: ENDPOINTS.login,
      headers: JSON_TYPE,
      payload: JSON.stringify({ username: 'alice', password: 'wrong-password', client_id: 'web' }),
      status: 401,
    },
    {
      name: 'login, rate limited',
      url: ENDPOINTS.login,
      headers: JSON_TYPE,
      payload: JSON.stringify({ username: 'alice', password: 'wrong-password', client_id: 'web' }),
      status: 429,
    },
    {
      name: 'refresh (JSON), unknown token',
      url: ENDPOINTS.refresh,
      headers: JSON_TYPE,
      payload: JSON.stringify({ refresh_token: 'garbage', client_id: 'web' }),
      status: 400,
    },
    {
      name: 'refresh (cookie)',
      url: ENDPOINTS.refresh,
      headers: { ...JSON_TYPE, ...CSRF, cookie: `tessera_rt=${spaCookie}` },
      payload: '{}',
      status: 200,
    },
    {
      name: 'refresh (cookie), no CSRF header',
      url: ENDPOINTS.refresh,
      headers: { ...JSON_TYPE, cookie: `tessera_rt=${spaCookie}` },
      payload: '{}',
      status: 403,
    },
    {
      name: 'logout without a token',
      url: ENDPOINTS.logout,
      headers: JSON_TYPE,
      payload: '{}',
      status: 400,
    },
    {
      name: 'logout by access token',
      url: ENDPOINTS.logout,
      headers: { ...JSON_TYPE, authorization: `Bearer ${accessToken}` },
      payload: '{}',
      status: 204,
    },
    // The revocation feed's snapshot.
    {
      name: 'revocation feed snapshot',
      method: 'GET',
      url: ENDPOINTS.revocationFeed,
      headers: { accept: 'application/json', authorization: basic('api', RS_SECRET) },
      status: 200,
    },
    {
      name: 'revocation feed, not a resource server',
      method: 'GET',
      url: ENDPOINTS.revocationFeed,
      headers: { accept: 'application/json', authorization: basic('backend', SECRET) },
      status: 403,
    },
  ];

  it('success and error answers alike', async () => {
    const all = cases();
    for (const c of all) {
      const res = await srv.tessera.app.inject({
        method: c.method ?? 'POST',
        url: c.url,
        headers: c.headers ?? {},
        ...(c.payload === undefined ? {} : { payload: c.payload }),
      });
      assert.equal(res.statusCode, c.status, `${c.name}: ${res.body}`);
      assert.equal(res.headers['cache-control'], 'no-store', c.name);
      assert.equal(res.headers.pragma, 'no-cache', c.name);
    }
    // Every token-bearing endpoint is covered above.
    const covered = new Set(all.map((c) => c.url.split('?')[0]));
    for (const path of [
      ENDPOINTS.token,
      ENDPOINTS.revocation,
      ENDPOINTS.introspection,
      ENDPOINTS.login,
      ENDPOINTS.refresh,
      ENDPOINTS.logout,
      ENDPOINTS.revocationFeed,
    ]) {
      assert.ok(covered.has(path), path);
    }
  });

  it('the hook is encapsulated: metadata and keys keep their public caching', async () => {
    for (const url of [ENDPOINTS.metadata, ENDPOINTS.jwks]) {
      const res = await srv.tessera.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['cache-control']), /^public, max-age=\d+$/, url);
      assert.equal(res.headers.pragma, undefined, url);
    }
  });
});
