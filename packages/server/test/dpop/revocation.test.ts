import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import { dpopKey, type TestDpopKey } from '../helpers/dpop.js';
import { basic, PASSWORD, SECRET, startTestServer, type TestServer } from '../helpers/test-server.js';

// Revoking (or logging out with) a DPoP-bound token. For a public client the token is the only
// credential, so a thief holding a stolen bound token must not end the victim's session with it:
// a proof of the key is required. A confidential client authenticates with its secret instead.

describe('revoking DPoP-bound tokens', () => {
  let s: TestServer;
  let key: TestDpopKey;
  let other: TestDpopKey;
  let issuer: string;
  const now = () => Math.floor(s.clock.now() / 1000);

  before(async () => {
    s = await startTestServer();
    issuer = s.tessera.ctx.config.issuer;
    await saveClient(s.tessera.ctx, {
      id: 'dpop-spa',
      public: true,
      dpop: true,
      grantTypes: ['refresh_token'],
      defaultScope: 'profile',
    });
    await saveClient(s.tessera.ctx, {
      id: 'dpop-backend',
      public: false,
      secret: SECRET,
      dpop: true,
      grantTypes: ['password', 'refresh_token'],
    });
    key = await dpopKey();
    other = await dpopKey();
  });
  after(() => s.close());

  async function boundSession(clientId = 'dpop-spa') {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (clientId !== 'dpop-spa') headers.authorization = basic(clientId, SECRET);
    headers.dpop = await key.proof('POST', `${issuer}${ENDPOINTS.login}`, { iat: now() });
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      payload: JSON.stringify({
        username: 'alice',
        password: PASSWORD,
        ...(clientId === 'dpop-spa' ? { client_id: clientId } : {}),
      }),
      headers,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().token_type, 'DPoP');
    const tokens = res.json() as { access_token: string; refresh_token: string };
    assert.equal(await statusOf(tokens.refresh_token), 'active');
    return tokens;
  }
  async function revoke(token: string, k: TestDpopKey | null, clientId = 'dpop-spa') {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (k) headers.dpop = await k.proof('POST', `${issuer}${ENDPOINTS.revocation}`, { iat: now() });
    const form: Record<string, string> = { token };
    if (clientId === 'dpop-spa') form.client_id = clientId;
    else headers.authorization = basic(clientId, SECRET);
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.revocation,
      payload: new URLSearchParams(form).toString(),
      headers,
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json() };
  }
  /** The state of a token's session, by the family id read while the token is still active. */
  const sids = new Map<string, string>();
  const statusOf = async (refreshToken: string) => {
    if (!sids.has(refreshToken)) sids.set(refreshToken, (await s.introspect(refreshToken)).sid as string);
    return (await s.tessera.ctx.stores.sessions.findFamily(sids.get(refreshToken)!))?.status;
  };

  it('a public client: a bound refresh token without a proof, or with another key, is refused and left alone', async () => {
    const t = await boundSession();
    for (const k of [null, other]) {
      const res = await revoke(t.refresh_token, k);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error, 'invalid_dpop_proof');
    }
    assert.equal(await statusOf(t.refresh_token), 'active');
    const owner = await revoke(t.refresh_token, key);
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    assert.equal(await statusOf(t.refresh_token), 'revoked');
  });

  it('a public client: a bound access token needs the proof too', async () => {
    const t = await boundSession();
    const refused = await revoke(t.access_token, null);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_dpop_proof');
    assert.equal((await s.introspect(t.access_token)).active, true);
    assert.equal((await revoke(t.access_token, key)).status, 200);
    assert.equal((await s.introspect(t.access_token)).active, false);
  });

  it('a confidential client authenticated with its secret revokes its bound tokens without a proof', async () => {
    const t = await boundSession('dpop-backend');
    const res = await revoke(t.refresh_token, null, 'dpop-backend');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await statusOf(t.refresh_token), 'revoked');
  });

  it('an unbound session is revoked as before, without a proof', async () => {
    const t = await s.login('web');
    assert.equal(await statusOf(t.refresh_token!), 'active');
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.revocation,
      payload: new URLSearchParams({ token: t.refresh_token!, client_id: 'web' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(await statusOf(t.refresh_token!), 'revoked');
  });

  it('logout with a bound refresh token: refused (not quietly ignored) without the proof, done with it', async () => {
    const t = await boundSession();
    const logout = async (k: TestDpopKey | null) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (k) headers.dpop = await k.proof('POST', `${issuer}${ENDPOINTS.logout}`, { iat: now() });
      return s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.logout,
        payload: JSON.stringify({ refresh_token: t.refresh_token, client_id: 'dpop-spa' }),
        headers,
      });
    };
    const thief = await logout(other);
    assert.equal(thief.statusCode, 400, thief.body);
    assert.equal(thief.json().error, 'invalid_dpop_proof');
    assert.equal((await logout(null)).statusCode, 400);
    assert.equal(await statusOf(t.refresh_token), 'active');
    assert.equal((await logout(key)).statusCode, 204);
    assert.equal(await statusOf(t.refresh_token), 'revoked');
  });
});
