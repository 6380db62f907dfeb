import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { deriveServerKeys } from '../../src/crypto/secrets.js';
import { DpopNonces, dpopNonceKey } from '../../src/dpop/dpop-nonces.js';
import { saveClient } from '../../src/index.js';
import { dpopKey, type TestDpopKey } from '../helpers/dpop.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

describe('server DPoP nonces', () => {
  it('are derived from the secret: the same on every instance, current and previous period accepted', () => {
    const master = randomBytes(32);
    const a = new DpopNonces(dpopNonceKey(deriveServerKeys(master)), 300_000);
    const b = new DpopNonces(dpopNonceKey(deriveServerKeys(master)), 300_000);
    const elsewhere = new DpopNonces(dpopNonceKey(deriveServerKeys(randomBytes(32))), 300_000);
    const t = 1_800_000_000_000;
    const nonce = a.current(t);
    assert.equal(b.current(t), nonce, 'another instance with the same secret');
    assert.equal(b.accepts(nonce, t), true);
    assert.equal(elsewhere.accepts(nonce, t), false, 'another secret');
    assert.equal(a.accepts(nonce, t + 300_000), true, 'the previous period');
    assert.equal(a.accepts(nonce, t + 600_000), false, 'two periods on: stale');
    assert.notEqual(a.current(t + 300_000), nonce, 'rotates each period');
    assert.match(nonce, /^[A-Za-z0-9_-]{32}$/);
  });

  describe('at the token endpoint, for a client added with --dpop-nonce', () => {
    let s: TestServer;
    let key: TestDpopKey;
    let htu: string;
    const now = () => Math.floor(s.clock.now() / 1000);
    before(async () => {
      s = await startTestServer();
      await saveClient(s.tessera.ctx, {
        id: 'nonce-app',
        public: true,
        dpop: true,
        dpopNonce: true,
        grantTypes: ['password', 'refresh_token'],
      });
      key = await dpopKey();
      htu = `${s.tessera.ctx.config.issuer}${ENDPOINTS.token}`;
    });
    after(() => s.close());
    const grant = async (nonce?: string) =>
      s.token(
        { grant_type: 'password', client_id: 'nonce-app', username: 'alice', password: PASSWORD },
        { dpop: await key.proof('POST', htu, { iat: now(), ...(nonce === undefined ? {} : { nonce }) }) },
      );

    it('a first proof without a nonce gets use_dpop_nonce with a DPoP-Nonce header; the retry with it succeeds', async () => {
      const first = await grant();
      assert.equal(first.status, 400);
      assert.equal(first.body.error, 'use_dpop_nonce');
      const nonce = first.headers['dpop-nonce'];
      assert.equal(typeof nonce, 'string');
      const retry = await grant(nonce as string);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(retry.headers['dpop-nonce'], nonce);
    });

    it('refuses a stale server nonce (two periods old) with use_dpop_nonce and a fresh one', async () => {
      const old = (await grant()).headers['dpop-nonce'] as string;
      s.clock.advance(s.tessera.ctx.config.dpopNoncePeriod * 1000);
      assert.equal((await grant(old)).status, 200, 'the previous period is still accepted');
      s.clock.advance(s.tessera.ctx.config.dpopNoncePeriod * 1000);
      const stale = await grant(old);
      assert.equal(stale.status, 400);
      assert.equal(stale.body.error, 'use_dpop_nonce');
      assert.match(stale.body.error_description, /stale/);
      assert.notEqual(stale.headers['dpop-nonce'], old);
      assert.equal((await grant(stale.headers['dpop-nonce'] as string)).status, 200);
    });

    it('refuses a made-up nonce', async () => {
      const res = await grant('A'.repeat(32));
      assert.equal(res.body.error, 'use_dpop_nonce');
    });
  });
});
