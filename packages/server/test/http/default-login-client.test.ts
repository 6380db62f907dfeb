import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import { PASSWORD, startTestServer } from '../helpers/test-server.js';

const login = (s: Awaited<ReturnType<typeof startTestServer>>, body: Record<string, string>) =>
  s.tessera.app.inject({
    method: 'POST',
    url: ENDPOINTS.login,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

describe('POST /api/auth/login without client_id', () => {
  it('is refused with invalid_request when no default login client is configured', async () => {
    const s = await startTestServer();
    try {
      const res = await login(s, { username: 'alice', password: PASSWORD });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /client_id/);
    } finally {
      await s.close();
    }
  });

  it('signs in to the configured default client (loginDefaultClientId); an explicit client_id still wins', async () => {
    const s = await startTestServer({ config: { loginDefaultClientId: 'mobile' } });
    try {
      const res = await login(s, { username: 'alice', password: PASSWORD });
      assert.equal(res.statusCode, 200, res.body);
      const claims = JSON.parse(Buffer.from(res.json().access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.client_id, 'mobile');
      const explicit = await login(s, { username: 'alice', password: PASSWORD, client_id: 'web' });
      const explicitClaims = JSON.parse(
        Buffer.from(explicit.json().access_token.split('.')[1], 'base64url').toString(),
      );
      assert.equal(explicitClaims.client_id, 'web');
    } finally {
      await s.close();
    }
  });

  it('refuses a default that is missing or confidential (it would sign in without its secret)', async () => {
    const missing = await startTestServer({ config: { loginDefaultClientId: 'nope' } });
    try {
      const res = await login(missing, { username: 'alice', password: PASSWORD });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_client');
    } finally {
      await missing.close();
    }
    const confidential = await startTestServer({ config: { loginDefaultClientId: 'backend' } });
    try {
      await saveClient(confidential.tessera.ctx, {
        id: 'backend',
        public: false,
        secret: 'confidential-client-secret-0123456789',
        grantTypes: ['refresh_token', 'password'],
      });
      const res = await login(confidential, { username: 'alice', password: PASSWORD });
      assert.equal(res.json().error, 'invalid_client');
    } finally {
      await confidential.close();
    }
  });
});
