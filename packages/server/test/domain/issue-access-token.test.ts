import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { PASSWORD, startTestServer } from '../helpers/test-server.js';

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };

describe('access-token lifetime', () => {
  it('exp is exactly iat + the lifetime, whatever the millisecond of issue; expires_in is the lifetime', async () => {
    const s = await startTestServer({ config: { accessTokenTtl: 20 } });
    try {
      for (const ms of [0, 1, 499, 500, 999]) {
        s.clock.set(Date.UTC(2026, 0, 1, 12, 0, 0, ms));
        const res = await s.tessera.app.inject({
          method: 'POST',
          url: ENDPOINTS.login,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
        });
        const body = res.json() as { access_token: string; expires_in: number; refresh_token: string };
        const { iat, exp } = claimsOf(body.access_token);
        assert.equal(exp - iat, 20, `issued at +${ms} ms`);
        assert.equal(body.expires_in, 20, `issued at +${ms} ms`);
        // A refresh half a second later is the same: the child's lifetime is the lifetime too.
        s.clock.advance(500);
        const refreshed = await s.refresh(body.refresh_token);
        const child = claimsOf(refreshed.body.access_token);
        assert.equal(child.exp - child.iat, 20);
        assert.equal(refreshed.body.expires_in, 20);
      }
    } finally {
      await s.close();
    }
  });
});
