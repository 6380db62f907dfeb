import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { createTessera, createUser, loadConfig, saveClient, type Tessera } from '@tessera/server';
import { freePort } from '@tessera/test-support';
import Fastify, { type FastifyInstance } from 'fastify';
// The README's custom-format example, as written there (scripts/readme-blocks.mjs writes it out).
import { hmacFormat } from '../../../../test/readme-blocks/hmac-format.js';
import { tesseraResource } from '../../src/adapters/fastify.js';

const PASSWORD = 'correct horse battery staple';
const RS_SECRET = 'resource-server-secret-0123456789';

/** Waits for `check` to hold, for at most `ms` (the feed is real network, not virtual time). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`condition not met within ${ms} ms`);
}

describe('the Tessera server and the resource middleware together', () => {
  let dir: string;
  let tessera: Tessera;
  let issuer: string;
  let api: FastifyInstance;

  const login = async (clientId: string) => {
    const res = await fetch(`${issuer}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: clientId }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { access_token: string; refresh_token: string };
  };
  const call = (token: string) =>
    api.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    tessera = await createTessera({
      config: loadConfig({
        env: {},
        overrides: {
          db: join(dir, 't.db'),
          port,
          logLevel: 'silent',
          passwordHashCost: 10,
          revocationFeedPoll: 1,
        },
      }),
      masterSecret: randomBytes(32),
      background: false,
      formats: () => [hmacFormat()],
    });
    await createUser(tessera.ctx, { username: 'alice', password: PASSWORD, roles: ['admin'] });
    await saveClient(tessera.ctx, { id: 'web', public: true, defaultScope: 'orders:read' });
    await saveClient(tessera.ctx, { id: 'web-opaque', public: true, accessTokenFormat: 'opaque' });
    await saveClient(tessera.ctx, { id: 'web-paseto', public: true, accessTokenFormat: 'paseto' });
    await saveClient(tessera.ctx, { id: 'web-custom', public: true, accessTokenFormat: 'hmac-demo' });
    await saveClient(tessera.ctx, {
      id: 'api',
      public: false,
      secret: RS_SECRET,
      introspectAny: true,
      grantTypes: [],
    });
    await tessera.listen();

    api = Fastify();
    await api.register(tesseraResource, {
      issuer,
      audience: issuer,
      clientId: 'api',
      clientSecret: RS_SECRET,
    });
    api.get('/me', { onRequest: api.requireAuth() }, async (request) => ({
      sub: request.auth!.sub,
      format: request.auth!.format,
      roles: request.auth!.roles,
    }));
    await api.ready();
  });

  after(async () => {
    await api.close();
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [clientId, prefix] of [
    ['web', /^eyJ/],
    ['web-opaque', /^tsa_/],
    ['web-paseto', /^v4\.public\./],
    ['web-custom', /^demo\./],
  ] as const) {
    it(`accepts a ${clientId} access token and refuses it within seconds of logout`, async () => {
      const tokens = await login(clientId);
      assert.match(tokens.access_token, prefix);
      const ok = await call(tokens.access_token);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json().roles, ['admin']);

      const logout = await fetch(`${issuer}${ENDPOINTS.logout}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      });
      assert.equal(logout.status, 204);
      // Opaque, PASETO and custom tokens are checked by introspection (cached, so also via the feed);
      // JWTs are refused once the feed delivers the session's revocation.
      await eventually(async () => (await call(tokens.access_token)).statusCode === 401);
      const refused = await call(tokens.access_token);
      assert.match(String(refused.headers['www-authenticate']), /invalid_token/);
    });
  }

  it('introspection and RFC 7009 revocation work for every format', async () => {
    for (const clientId of ['web', 'web-opaque', 'web-paseto', 'web-custom']) {
      const tokens = await login(clientId);
      const introspect = async () => {
        const res = await fetch(`${issuer}${ENDPOINTS.introspection}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`api:${RS_SECRET}`).toString('base64')}`,
          },
          body: new URLSearchParams({ token: tokens.access_token }),
        });
        return (await res.json()) as { active: boolean; client_id?: string };
      };
      const active = await introspect();
      assert.equal(active.active, true, clientId);
      assert.equal(active.client_id, clientId);
      const revoked = await fetch(`${issuer}${ENDPOINTS.revocation}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token, client_id: clientId }),
      });
      assert.equal(revoked.status, 200);
      assert.deepEqual(await introspect(), { active: false }, clientId);
    }
  });

  it('the revocation feed is for resource servers only, and answers a JSON snapshot', async () => {
    const anonymous = await fetch(`${issuer}${ENDPOINTS.revocationFeed}`);
    assert.equal(anonymous.status, 401);
    const snapshot = await fetch(`${issuer}${ENDPOINTS.revocationFeed}`, {
      headers: {
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`api:${RS_SECRET}`).toString('base64')}`,
      },
    });
    assert.equal(snapshot.status, 200);
    const body = (await snapshot.json()) as { seq: number; notices: { kind: string; value: string }[] };
    assert.ok(body.seq >= 1);
    assert.ok(body.notices.some((n) => n.kind === 'family'));
    assert.ok(body.notices.some((n) => n.kind === 'jti'));
  });
});
