import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createExpressAuth } from '../../src/adapters/express.js';
import { nodeSources } from '../../src/adapters/node-sources.js';
import { AUDIENCE, FakeIssuer, manualClock } from '../support/fake-issuer.js';

describe('Express adapter', () => {
  let fake: FakeIssuer;
  let server: Server;
  let base: string;
  const clock = manualClock(Date.now());

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    const auth = createExpressAuth({ issuer: fake.issuer, audience: AUDIENCE, clock, allowBodyToken: true });
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.get('/me', auth.requireAuth(), (req, res) => {
      res.json({ sub: req.auth?.sub, roles: req.auth?.roles });
    });
    app.post('/me', auth.requireAuth(), (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    app.get('/admin', auth.requireAuth({ roles: ['admin'] }), (_req, res) => {
      res.json({ ok: true });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fake.close();
  });

  it('sets req.auth for a valid token', async () => {
    const token = await fake.sign();
    const res = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sub: 'user-1', roles: ['user'] });
  });

  it('accepts a form-body token when enabled', async () => {
    const token = await fake.sign();
    const res = await fetch(`${base}/me`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${token}`,
    });
    assert.equal(res.status, 200);
  });

  it('answers 401, 403 and 400 with RFC 6750 headers and the shared error bodies', async () => {
    const none = await fetch(`${base}/me`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await none.json()).error_code, 'access_token_missing');

    const bad = await fetch(`${base}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
    assert.match(
      bad.headers.get('www-authenticate') ?? '',
      /^Bearer error="invalid_token", error_description="/,
    );

    const token = await fake.sign();
    const forbidden = await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(Object.keys(await forbidden.json()).sort(), [
      'error',
      'error_code',
      'error_description',
      'retryable',
    ]);

    const twice = await fetch(`${base}/me`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${token}`,
    });
    assert.equal(twice.status, 400);
    assert.equal((await twice.json()).error, 'invalid_request');
  });

  it('sees repeated Authorization headers that Node folds away', () => {
    const sources = nodeSources(
      {
        headers: { authorization: 'Bearer a' },
        rawHeaders: ['Authorization', 'Bearer a', 'authorization', 'Bearer b'],
      },
      undefined,
    );
    assert.deepEqual(sources.authorization, ['Bearer a', 'Bearer b']);
  });
});
