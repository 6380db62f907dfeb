import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { tesseraResource } from '../../src/adapters/fastify.js';
import { createResourceServer } from '../../src/core/create-resource-server.js';
import { AUDIENCE, FakeIssuer, manualClock } from '../support/fake-issuer.js';

describe('Fastify adapter', () => {
  let fake: FakeIssuer;
  let app: FastifyInstance;
  const clock = manualClock(Date.now());

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    app = Fastify();
    await app.register(tesseraResource, { issuer: fake.issuer, audience: AUDIENCE, clock, realm: 'api' });
    app.get('/me', { onRequest: app.requireAuth() }, async (request) => ({
      sub: request.auth?.sub,
      scope: request.auth?.scope,
    }));
    app.get('/orders', { preHandler: app.requireAuth({ scopes: ['orders:write'] }) }, async () => ({
      ok: true,
    }));
    app.get('/public', async (request) => ({ auth: request.auth }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await fake.close();
  });

  it('sets request.auth for a valid token', async () => {
    const token = await fake.sign();
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { sub: 'user-1', scope: ['orders:read', 'profile'] });
  });

  it('leaves request.auth null on unguarded routes', async () => {
    const res = await app.inject({ url: '/public' });
    assert.deepEqual(res.json(), { auth: null });
  });

  it('answers 401 with a bare challenge when no token is sent', async () => {
    const res = await app.inject({ url: '/me' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="api"');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), {
      error: 'invalid_request',
      error_description: 'No access token was presented',
      error_code: 'access_token_missing',
      retryable: false,
    });
  });

  it('answers 401 invalid_token, telling expiry apart', async () => {
    const expired = await fake.sign({ claims: { exp: fake.nowSeconds - 60 } });
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${expired}` } });
    assert.equal(res.statusCode, 401);
    assert.equal(
      res.headers['www-authenticate'],
      'Bearer realm="api", error="invalid_token", error_description="The access token has expired"',
    );
    assert.equal(res.json().error_code, 'access_token_expired');
    const forged = await app.inject({ url: '/me', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json().error_code, 'access_token_invalid');
  });

  it('answers 403 insufficient_scope with the needed scope', async () => {
    const token = await fake.sign();
    const res = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 403);
    assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope".*scope="orders:write"/);
    assert.equal(res.json().error, 'insufficient_scope');
  });

  it('answers 400 invalid_request for a token sent two ways', async () => {
    const token = await fake.sign();
    const res = await app.inject({
      url: `/me?access_token=${token}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_request');
    assert.match(String(res.headers['www-authenticate']), /error="invalid_request"/);
  });

  it('guards every route with global: { scopes }, and accepts an existing core', async () => {
    const rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
    const guarded = Fastify();
    await guarded.register(tesseraResource, { server: rs, global: { scopes: ['profile'] } });
    guarded.get('/x', async (request) => ({ sub: request.auth?.sub }));
    guarded.get('/y', { preHandler: guarded.requireAuth({ scopes: ['admin'] }) }, async () => ({}));
    const token = await fake.sign();
    assert.equal((await guarded.inject({ url: '/x' })).statusCode, 401);
    const ok = await guarded.inject({ url: '/x', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(ok.json(), { sub: 'user-1' });
    const y = await guarded.inject({ url: '/y', headers: { authorization: `Bearer ${token}` } });
    assert.equal(y.statusCode, 403, 'route rules apply on top of the global hook, without re-verifying');
    assert.equal(guarded.resourceServer, rs);
    await guarded.close();
  });
});
