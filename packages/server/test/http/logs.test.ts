import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { basic, PASSWORD, RS_SECRET, SECRET, startTestServer } from '../helpers/test-server.js';

describe('logs never carry secrets', () => {
  it('a full flow at trace level leaves no token, password, client secret or Authorization value in the logs', async () => {
    const s = await startTestServer({ config: { logLevel: 'trace' } });
    const secrets = new Map<string, string>();
    const keep = (what: string, value: string | undefined) => {
      assert.ok(value !== undefined && value.length >= 8, `${what} should be a real value`);
      secrets.set(value, what);
    };
    const inject = async (
      url: string,
      payload: string,
      contentType: string,
      headers: Record<string, string> = {},
      query = '',
    ) => {
      const res = await s.tessera.app.inject({
        method: 'POST',
        url: url + query,
        payload,
        headers: { 'content-type': contentType, 'user-agent': 'log-test', ...headers },
      });
      return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body) };
    };
    const form = (
      f: Record<string, string>,
      headers: Record<string, string> = {},
      url: string = ENDPOINTS.token,
    ) => inject(url, new URLSearchParams(f).toString(), 'application/x-www-form-urlencoded', headers);
    const json = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      inject(url, JSON.stringify(body), 'application/json', headers);
    try {
      keep('password', PASSWORD);
      keep('client secret', SECRET);
      keep('resource-server secret', RS_SECRET);
      const wrongPassword = 'wrong-password-that-must-not-be-logged';
      keep('wrong password', wrongPassword);
      const backendAuth = basic('backend', SECRET);
      const apiAuth = basic('api', RS_SECRET);
      keep('Authorization header', backendAuth.slice('Basic '.length));
      keep('Authorization header', apiAuth.slice('Basic '.length));
      const nonce = 'nonce-value-0123456789-abcdef';
      keep('nonce', nonce);

      // Login (public client), refresh, and the grace-period retry of the same parent.
      const login = await json(ENDPOINTS.login, {
        username: 'alice',
        password: PASSWORD,
        client_id: 'web',
      });
      assert.equal(login.status, 200);
      keep('access token', login.body.access_token);
      keep('refresh token', login.body.refresh_token);
      const refreshed = await form({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: login.body.refresh_token,
        nonce,
      });
      assert.equal(refreshed.status, 200);
      keep('access token', refreshed.body.access_token);
      keep('refresh token', refreshed.body.refresh_token);
      s.clock.advance(1000);
      const retry = await json(ENDPOINTS.refresh, { refresh_token: login.body.refresh_token });
      assert.equal(retry.status, 200);
      assert.equal(retry.body.refresh_token, refreshed.body.refresh_token, 'grace retry gets the same child');

      // Confidential client: password grant with client_secret_basic, client_credentials with client_secret_post.
      const pw = await form(
        { grant_type: 'password', username: 'alice', password: PASSWORD },
        { authorization: backendAuth },
      );
      assert.equal(pw.status, 200);
      keep('access token', pw.body.access_token);
      keep('refresh token', pw.body.refresh_token);
      const cc = await form({
        grant_type: 'client_credentials',
        client_id: 'backend',
        client_secret: SECRET,
      });
      assert.equal(cc.status, 200);
      keep('access token', cc.body.access_token);
      const backendRefresh = await form(
        { grant_type: 'refresh_token', refresh_token: pw.body.refresh_token },
        { authorization: backendAuth },
      );
      assert.equal(backendRefresh.status, 200);
      keep('access token', backendRefresh.body.access_token);
      keep('refresh token', backendRefresh.body.refresh_token);

      // Introspection by the resource server, including a token sent in the query string by mistake.
      const introspected = await inject(
        ENDPOINTS.introspection,
        new URLSearchParams({ token: refreshed.body.access_token }).toString(),
        'application/x-www-form-urlencoded',
        { authorization: apiAuth },
        `?token=${encodeURIComponent(refreshed.body.access_token)}`,
      );
      assert.equal(introspected.status, 200);
      assert.equal(introspected.body.active, true);

      // Failures: wrong password, wrong client secret, bad refresh token, reuse.
      assert.equal(
        (await json(ENDPOINTS.login, { username: 'alice', password: wrongPassword, client_id: 'web' }))
          .status,
        401,
      );
      const wrongSecret = 'wrong-client-secret-0123456789';
      keep('wrong client secret', wrongSecret);
      keep('Authorization header', basic('backend', wrongSecret).slice('Basic '.length));
      assert.equal(
        (await form({ grant_type: 'client_credentials' }, { authorization: basic('backend', wrongSecret) }))
          .status,
        401,
      );
      assert.equal(
        (await form({ grant_type: 'client_credentials', client_id: 'backend', client_secret: wrongSecret }))
          .status,
        401,
      );
      const forged = `${refreshed.body.refresh_token.slice(0, -4)}AAAA`;
      keep('forged refresh token', forged);
      assert.equal(
        (await form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: forged })).status,
        400,
      );
      // Replayed nonce.
      assert.equal(
        (
          await form({
            grant_type: 'refresh_token',
            client_id: 'web',
            refresh_token: refreshed.body.refresh_token,
            nonce,
          })
        ).status,
        400,
      );

      // Revocation of the backend session and logout of the web session with a Bearer token.
      const revoke = await form(
        { token: backendRefresh.body.refresh_token },
        { authorization: backendAuth },
        ENDPOINTS.revocation,
      );
      assert.equal(revoke.status, 200);
      const logout = await inject(ENDPOINTS.logout, '{}', 'application/json', {
        authorization: `Bearer ${refreshed.body.access_token}`,
        cookie: `session=${refreshed.body.refresh_token}`,
      });
      assert.equal(logout.status, 204);
      // Reuse after the grace period ends the family with a logged event.
      s.clock.advance(10 * 60_000);
      assert.equal(
        (
          await form({
            grant_type: 'refresh_token',
            client_id: 'web',
            refresh_token: login.body.refresh_token,
          })
        ).status,
        400,
      );
    } finally {
      await s.close();
    }

    const lines = s.logs
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '');
    assert.ok(lines.length > 20, `expected request logs, got ${lines.length} lines`);
    assert.equal(s.tessera.ctx.log.level, 'trace', 'the test sees everything the server would ever log');
    assert.ok(
      lines.some((l) => l.includes('"/oauth/introspect"')),
      'requests are logged',
    );
    for (const line of lines) {
      for (const [value, what] of secrets) {
        assert.ok(!line.includes(value), `a log line contains a ${what}: ${line.slice(0, 300)}`);
        // A JSON-escaped copy (e.g. inside a nested string) would not match above; look for it too.
        const escaped = JSON.stringify(value).slice(1, -1);
        assert.ok(!line.includes(escaped), `a log line contains an escaped ${what}`);
      }
      // Nothing that looks like one of our refresh tokens or a JWT, even one we did not collect.
      assert.doesNotMatch(
        line,
        /tsr_[A-Za-z0-9_-]{20,}/,
        `a log line contains a refresh token: ${line.slice(0, 300)}`,
      );
      assert.doesNotMatch(
        line,
        /eyJ[A-Za-z0-9_-]{10,}\.eyJ/,
        `a log line contains a JWT: ${line.slice(0, 300)}`,
      );
      assert.doesNotMatch(
        line,
        /"authorization"\s*:\s*"(Basic|Bearer) /i,
        'an Authorization header was logged',
      );
    }
  });
});
