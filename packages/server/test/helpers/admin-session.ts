import assert from 'node:assert/strict';
import { PASSWORD, type TestServer } from './test-server.js';

/** The test server's issuer origin: what a same-origin admin call sends as `Origin`. */
export const ADMIN_ORIGIN = 'http://127.0.0.1:4000';

/**
 * Signs in to the admin API (`alice` is an admin on the test server): the session cookie to send
 * back and the CSRF token that state-changing calls need.
 */
export async function signInAdmin(
  s: TestServer,
  username = 'alice',
  password = PASSWORD,
): Promise<{ cookie: string; csrf: string }> {
  const res = await s.tessera.app.inject({
    method: 'POST',
    url: '/admin/api/session',
    headers: { 'content-type': 'application/json', origin: ADMIN_ORIGIN },
    payload: JSON.stringify({ username, password }),
  });
  assert.equal(res.statusCode, 200, res.body);
  const cookie = String([res.headers['set-cookie']].flat()[0] ?? '').split(';')[0] ?? '';
  return { cookie, csrf: JSON.parse(res.body).csrfToken };
}
