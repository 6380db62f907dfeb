import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import { processIntrospectionBody } from '../../src/introspection/introspect-token.js';
import {
  AUDIENCE,
  bearer,
  FakeIssuer,
  manualClock,
  RS_CLIENT_ID,
  RS_CLIENT_SECRET,
} from '../support/fake-issuer.js';

describe('opaque tokens (introspection)', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  const clock = manualClock(Date.now());
  const now = () => Math.floor(clock.now() / 1000);
  const active = (over: Record<string, unknown> = {}) => ({
    active: true as const,
    token_type: 'Bearer' as const,
    scope: 'orders:read',
    client_id: 'web-app',
    sub: 'user-9',
    exp: now() + 30,
    iat: now(),
    iss: fake.issuer,
    aud: AUDIENCE,
    jti: 'op-1',
    sid: 'family-op',
    ...over,
  });

  before(async () => {
    fake = await FakeIssuer.start();
    rs = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clientId: RS_CLIENT_ID,
      clientSecret: RS_CLIENT_SECRET,
      revocations: false,
      clock,
    });
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  it('accepts an active token and maps the answer', async () => {
    fake.introspection.set('tsa_opaque1', active());
    const result = await rs.authenticate(bearer('tsa_opaque1'));
    assert.ok(result.ok);
    assert.equal(result.auth.format, 'opaque');
    assert.equal(result.auth.sub, 'user-9');
    assert.deepEqual(result.auth.scope, ['orders:read']);
    assert.equal(result.auth.sid, 'family-op');
  });

  it('caches the answer, but never past exp', async () => {
    fake.introspection.set('tsa_opaque2', active({ exp: now() + 20 }));
    const start = fake.counts.introspection;
    await Promise.all([1, 2, 3].map(() => rs.authenticate(bearer('tsa_opaque2'))));
    assert.equal(fake.counts.introspection - start, 1, 'concurrent requests share one call');
    clock.advance(19_000);
    assert.ok((await rs.authenticate(bearer('tsa_opaque2'))).ok);
    assert.equal(fake.counts.introspection - start, 1, 'served from cache before exp');
    clock.advance(1_000);
    // The issuer would still (wrongly) say active: the cache must not be what keeps it alive.
    fake.introspection.set('tsa_opaque2', active({ exp: now() + 60 }));
    assert.ok((await rs.authenticate(bearer('tsa_opaque2'))).ok);
    assert.equal(fake.counts.introspection - start, 2, 'asked again at exp');
  });

  it('refuses inactive, foreign-issuer, foreign-audience and refresh tokens', async () => {
    fake.introspection.set('tsa_iss', active({ iss: 'https://evil.test' }));
    fake.introspection.set('tsa_aud', active({ aud: 'https://other.test' }));
    fake.introspection.set('tsa_rt', active({ token_type: 'refresh_token' }));
    fake.introspection.set('tsa_exp', active({ exp: now() - 1 }));
    for (const token of ['tsa_unknown', 'tsa_iss', 'tsa_aud', 'tsa_rt', 'tsa_exp']) {
      const result = await rs.authenticate(bearer(token));
      assert.ok(!result.ok && result.status === 401 && result.error.error === 'invalid_token', token);
    }
  });

  it('introspection answer without aud: not accepted for the configured audience', async () => {
    const { aud: _, ...withoutAud } = active({ jti: 'op-noaud' });
    fake.introspection.set('tsa_noaud', withoutAud);
    fake.introspection.set('tsa_emptyaud', active({ aud: [] }));
    fake.introspection.set('tsa_listaud', active({ aud: ['https://other.test', AUDIENCE] }));
    for (const token of ['tsa_noaud', 'tsa_emptyaud']) {
      const result = await rs.authenticate(bearer(token));
      assert.ok(!result.ok && result.status === 401 && result.error.error === 'invalid_token', token);
    }
    // A list that names this API is still accepted.
    assert.ok((await rs.authenticate(bearer('tsa_listaud'))).ok);
  });

  it('answers 503 when introspection fails, and refuses opaque tokens when introspection is off', async () => {
    const badCreds = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clientId: RS_CLIENT_ID,
      clientSecret: 'wrong',
      revocations: false,
      clock,
    });
    const result = await badCreds.authenticate(bearer('tsa_opaque1'));
    assert.ok(!result.ok && result.status === 503 && result.error.retryable);
    const jwtOnly = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
    const refused = await jwtOnly.authenticate(bearer('tsa_opaque1'));
    assert.ok(!refused.ok && refused.status === 401);
  });

  it('processIntrospectionBody reads malformed active answers as inactive', () => {
    assert.deepEqual(processIntrospectionBody({ active: true, sub: 1 }), { active: false });
    assert.deepEqual(processIntrospectionBody({ active: false, sub: 'x' }), { active: false });
    assert.throws(() => processIntrospectionBody({}));
  });
});
