import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { failureResponse } from '../../src/core/answers.js';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import { AUDIENCE, bearer, FakeIssuer, manualClock } from '../support/fake-issuer.js';

describe('authenticate (Fetch core)', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  const clock = manualClock(Date.now());

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  it('accepts a valid ES256 token and maps its claims', async () => {
    const token = await fake.sign({ claims: { jti: 'j-1', roles: ['admin'] } });
    const result = await rs.authenticate(bearer(token));
    assert.ok(result.ok, JSON.stringify(!result.ok && result.error.toBody()));
    assert.equal(result.auth.sub, 'user-1');
    assert.equal(result.auth.clientId, 'web-app');
    assert.deepEqual(result.auth.scope, ['orders:read', 'profile']);
    assert.deepEqual(result.auth.roles, ['admin']);
    assert.equal(result.auth.sid, 'family-1');
    assert.equal(result.auth.jti, 'j-1');
    assert.equal(result.auth.format, 'jwt');
    assert.ok(Object.isFrozen(result.auth) && Object.isFrozen(result.auth.claims));
  });

  it('accepts EdDSA and RS256 tokens, and typ application/at+jwt', async () => {
    for (const key of fake.keys) {
      const result = await rs.authenticate(bearer(await fake.sign({ key })));
      assert.ok(result.ok, key.alg);
    }
    const result = await rs.authenticate(bearer(await fake.sign({ header: { typ: 'application/at+jwt' } })));
    assert.ok(result.ok);
  });

  it('serves a repeated token from the verified cache, without another signature check', async () => {
    const token = await fake.sign();
    assert.ok((await rs.authenticate(bearer(token))).ok);
    const before = rs.stats();
    assert.ok((await rs.authenticate(bearer(token))).ok);
    const afterStats = rs.stats();
    assert.equal(afterStats.signatureChecks, before.signatureChecks);
    assert.equal(afterStats.cacheHits, before.cacheHits + 1);
  });

  it('never serves a cache entry past exp, and says "expired" apart from invalid', async () => {
    const token = await fake.sign({ claims: { exp: fake.nowSeconds + 60 } });
    assert.ok((await rs.authenticate(bearer(token))).ok);
    clock.advance(66_000);
    try {
      const result = await rs.authenticate(bearer(token));
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.status, 401);
      assert.equal(result.error.code, 'access_token_expired');
      assert.match(
        result.wwwAuthenticate ?? '',
        /^Bearer error="invalid_token", error_description="The access token has expired"$/,
      );
    } finally {
      clock.advance(-66_000);
    }
  });

  it('accepts a token within the 5 s leeway after exp, refuses beyond it', async () => {
    const token = await fake.sign({ claims: { exp: fake.nowSeconds - 3 } });
    assert.ok((await rs.authenticate(bearer(token))).ok);
    const late = await fake.sign({ claims: { exp: fake.nowSeconds - 6 } });
    const result = await rs.authenticate(bearer(late));
    assert.ok(!result.ok && result.error.code === 'access_token_expired');
  });

  it('answers a missing token with 401 and a bare Bearer challenge', async () => {
    const result = await rs.authenticate(new Request('http://api.test/'));
    assert.ok(!result.ok);
    assert.equal(result.status, 401);
    assert.equal(result.wwwAuthenticate, 'Bearer');
    assert.equal(result.error.code, 'access_token_missing');
    const res = failureResponse(result);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await res.json(), {
      error: 'invalid_request',
      error_description: 'No access token was presented',
      error_code: 'access_token_missing',
      retryable: false,
    });
  });

  it('treats another scheme (Basic) as no bearer token', async () => {
    const result = await rs.authenticate(
      new Request('http://api.test/', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
    );
    assert.ok(!result.ok && result.status === 401 && result.wwwAuthenticate === 'Bearer');
  });

  it('answers 400 invalid_request for a token sent two ways, a malformed header, or a query token', async () => {
    const token = await fake.sign();
    const cases: Request[] = [
      new Request(`http://api.test/?access_token=${token}`, {
        headers: { authorization: `Bearer ${token}` },
      }),
      new Request('http://api.test/', { headers: { authorization: 'Bearer' } }),
      new Request('http://api.test/', { headers: { authorization: `Bearer ${token} extra` } }),
      new Request('http://api.test/', { headers: { authorization: `Bearer ${token}, Bearer ${token}` } }),
      new Request(`http://api.test/?access_token=${token}`),
    ];
    for (const request of cases) {
      const result = await rs.authenticate(request);
      assert.ok(!result.ok);
      assert.equal(result.status, 400);
      assert.equal(result.error.code, 'invalid_request');
      assert.match(
        result.wwwAuthenticate ?? '',
        /^Bearer error="invalid_request", error_description="[^"]+"$/,
      );
    }
  });

  it('accepts query and form-body tokens only when enabled, and still refuses them sent twice', async () => {
    const open = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      allowQueryToken: true,
      allowBodyToken: true,
    });
    const token = await fake.sign();
    assert.ok((await open.authenticate(new Request(`http://api.test/?access_token=${token}`))).ok);
    const form = (extra: string) =>
      new Request(`http://api.test/${extra}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}&x=1`,
      });
    assert.ok((await open.authenticate(form(''))).ok);
    const twice = await open.authenticate(form(`?access_token=${token}`));
    assert.ok(!twice.ok && twice.status === 400);
  });

  it('checks scopes (all) and roles (any) with 403 insufficient_scope', async () => {
    const token = await fake.sign({ claims: { scope: 'orders:read', roles: ['user'] } });
    const ok = await rs.authenticate(bearer(token), { scopes: ['orders:read'], roles: ['admin', 'user'] });
    assert.ok(ok.ok);
    const noScope = await rs.requireAuth({ scopes: ['orders:read', 'orders:write'] })(bearer(token));
    assert.ok(!noScope.ok);
    assert.equal(noScope.status, 403);
    assert.equal(noScope.error.code, 'insufficient_scope');
    assert.match(noScope.wwwAuthenticate ?? '', /error="insufficient_scope"/);
    assert.match(noScope.wwwAuthenticate ?? '', /scope="orders:read orders:write"/);
    const noRole = await rs.authenticate(bearer(token), { roles: ['admin'] });
    assert.ok(!noRole.ok && noRole.status === 403);
  });

  it('puts the realm in every challenge when configured', async () => {
    const withRealm = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      realm: 'orders',
    });
    const result = await withRealm.authenticate(new Request('http://api.test/'));
    assert.ok(!result.ok && result.wwwAuthenticate === 'Bearer realm="orders"');
    const bad = await withRealm.authenticate(bearer('abc.def.ghi'));
    assert.ok(!bad.ok);
    assert.match(bad.wwwAuthenticate ?? '', /^Bearer realm="orders", error="invalid_token"/);
  });

  it('refuses dangerous configuration at creation', () => {
    const base = { issuer: fake.issuer, audience: AUDIENCE };
    assert.throws(() => createResourceServer({ ...base, algorithms: ['none'] }), /never be allowed/);
    assert.throws(() => createResourceServer({ ...base, algorithms: ['HS256'] }), /never be allowed/);
    assert.throws(() => createResourceServer({ ...base, algorithms: [] }), /must not be empty/);
    assert.throws(() => createResourceServer({ ...base, audience: [] }), /audience/);
    assert.throws(() => createResourceServer({ ...base, issuer: 'not a url' }), /issuer/);
    assert.throws(() => createResourceServer({ ...base, clientId: 'x' }), /together/);
    assert.throws(() => createResourceServer({ ...base, revocations: true }), /clientId/);
  });

  it('answers 503 (retryable, no challenge) when the issuer is unreachable', async () => {
    const down = createResourceServer({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, clock });
    const result = await down.authenticate(
      bearer(await fake.sign({ claims: { iss: 'http://127.0.0.1:9' } })),
    );
    assert.ok(!result.ok);
    assert.equal(result.status, 503);
    assert.equal(result.error.code, 'temporarily_unavailable');
    assert.equal(result.wwwAuthenticate, undefined);
    assert.equal(failureResponse(result).headers.get('retry-after'), '5');
  });
});
