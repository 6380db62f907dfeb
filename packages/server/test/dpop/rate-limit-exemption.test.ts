import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import { dpopKey, type TestDpopKey } from '../helpers/dpop.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

// A refresh rotated moments ago is exempt from the refresh limit for its client (the owner's
// other tabs retry it within the grace period). A thief presenting that token with another key
// is refused; the refusal must leave the owner's exemption as it was.

describe('a wrong-key refresh leaves the owner rate-limit exemption alone', () => {
  let s: TestServer;
  let owner: TestDpopKey;
  let thief: TestDpopKey;
  const now = () => Math.floor(s.clock.now() / 1000);
  const tokenUrl = () => `${s.tessera.ctx.config.issuer}${ENDPOINTS.token}`;

  before(async () => {
    s = await startTestServer({ config: { rateLimitRefresh: 1 } });
    await saveClient(s.tessera.ctx, {
      id: 'dpop-spa',
      public: true,
      dpop: true,
      grantTypes: ['refresh_token'],
      defaultScope: 'profile',
    });
    // Without the flag: a proof at sign-in binds the session, and a refresh without one reaches
    // the binding check instead of being refused at the door.
    await saveClient(s.tessera.ctx, {
      id: 'spa-optional',
      public: true,
      grantTypes: ['refresh_token'],
      defaultScope: 'profile',
    });
    owner = await dpopKey();
    thief = await dpopKey();
  });
  after(() => s.close());

  const refresh = async (
    refreshToken: string,
    key: TestDpopKey | null,
    ip: string,
    clientId = 'dpop-spa',
  ) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (key) headers.dpop = await key.proof('POST', tokenUrl(), { iat: now() });
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.token,
      remoteAddress: ip,
      headers,
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: refreshToken,
      }).toString(),
    });
    return { status: res.statusCode, body: res.json() };
  };

  for (const [name, thiefKey, clientId] of [
    ['another key', 'other', 'dpop-spa'],
    ['no proof at all', 'none', 'spa-optional'],
  ] as const) {
    it(`the owner's grace retries stay exempt after a refusal with ${name}`, async () => {
      const login = await s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.login,
        payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: clientId }),
        headers: {
          'content-type': 'application/json',
          dpop: await owner.proof('POST', `${s.tessera.ctx.config.issuer}${ENDPOINTS.login}`, { iat: now() }),
        },
      });
      assert.equal(login.statusCode, 200, login.body);
      assert.equal(login.json().token_type, 'DPoP');
      const parent = login.json().refresh_token as string;
      // Its own IP for each case, so the cases do not share a count.
      const ownerIp = thiefKey === 'other' ? '10.0.0.1' : '10.0.0.2';
      const first = await refresh(parent, owner, ownerIp, clientId);
      assert.equal(first.status, 200, JSON.stringify(first.body));

      const stolen = await refresh(parent, thiefKey === 'other' ? thief : null, '203.0.113.9', clientId);
      assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
      assert.equal(stolen.body.error, 'invalid_dpop_proof');

      // The owner's other tabs present the parent within grace: exempt, so more of them than the
      // limit all get the same child (before, the thief's refusal had cancelled the exemption and
      // the second of these was refused 429).
      for (let tab = 0; tab < 3; tab++) {
        const retry = await refresh(parent, owner, ownerIp, clientId);
        assert.equal(retry.status, 200, `tab ${tab}: ${JSON.stringify(retry.body)}`);
        assert.equal(retry.body.refresh_token, first.body.refresh_token);
      }
    });
  }

  it('a failed refresh still ends its own exemption (a refused token is counted again)', async () => {
    // Not signed in by anyone: every attempt with a token of ours that is refused is counted.
    const login = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'dpop-spa' }),
      headers: {
        'content-type': 'application/json',
        dpop: await owner.proof('POST', `${s.tessera.ctx.config.issuer}${ENDPOINTS.login}`, { iat: now() }),
      },
    });
    const token = login.json().refresh_token as string;
    const ip = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await refresh(token, thief, ip)).status);
    assert.deepEqual(statuses, [400, 429, 429]);
  });
});
