import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS, REVOCATION_FEED_METADATA } from '@tessera/protocol';
import { createResourceServer } from '@tessera/resource';
import Fastify, { type FastifyInstance } from 'fastify';
import { createUser, loadConfig, saveClient, type TesseraPlugin, tessera } from '../../src/index.js';
import { freePort, PASSWORD } from '../helpers/test-server.js';

// A host app with its own routes, body parser, error handler and 404, and the authorization
// server mounted in it at /auth.
describe('tessera() mounted in a host Fastify app', () => {
  let host: FastifyInstance;
  let plugin: TesseraPlugin;
  let origin: string;
  const issuer = () => `${origin}/auth`;
  const auth = tessera({
    config: loadConfig({
      env: {},
      overrides: {
        db: ':memory:',
        passwordHashCost: 10,
        rateLimitLogin: 0,
        rateLimitRefresh: 0,
        logLevel: 'silent',
      },
    }),
    masterSecret: randomBytes(32),
    background: false,
  });

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    host = Fastify();
    host.setErrorHandler((err: Error, _request, reply) => {
      reply.code(500).send({ host: 'error', message: err.message });
    });
    host.setNotFoundHandler((_request, reply) => {
      reply.code(404).send({ host: 'not found' });
    });
    host.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => {
      done(null, (body as string).split(','));
    });
    host.post('/echo', async (request) => ({ body: request.body, query: request.query }));
    host.get('/cookies', async (request) => ({
      cookies: (request as { cookies?: unknown }).cookies ?? null,
    }));
    host.get('/boom', async () => {
      throw new Error('host failure');
    });
    // The host's public origin; the prefix is appended to make the issuer.
    plugin = tessera({
      config: loadConfig({
        env: {},
        overrides: {
          db: ':memory:',
          issuer: origin,
          passwordHashCost: 10,
          rateLimitLogin: 0,
          rateLimitRefresh: 0,
          logLevel: 'silent',
        },
      }),
      masterSecret: randomBytes(32),
      background: false,
    });
    await host.register(plugin, { prefix: '/auth' });
    await host.listen({ host: '127.0.0.1', port });
    await saveClient(plugin.context, { id: 'web', public: true });
    await saveClient(plugin.context, {
      id: 'api',
      public: false,
      secret: 'resource-server-secret-0123456789',
      grantTypes: [],
      introspectAny: true,
    });
    await createUser(plugin.context, { username: 'alice', password: PASSWORD });
  });
  after(async () => {
    await host?.close();
  });

  it('the metadata reflects the prefix: issuer and every endpoint under /auth', async () => {
    const res = await fetch(`${issuer()}${ENDPOINTS.metadata}`);
    assert.equal(res.status, 200);
    const meta = (await res.json()) as Record<string, string>;
    assert.equal(meta.issuer, issuer());
    assert.equal(meta.token_endpoint, `${issuer()}${ENDPOINTS.token}`);
    assert.equal(meta.jwks_uri, `${issuer()}${ENDPOINTS.jwks}`);
    for (const key of ['revocation_endpoint', 'introspection_endpoint', REVOCATION_FEED_METADATA]) {
      assert.ok(meta[key]!.startsWith(`${issuer()}/`), key);
    }
    // Not at the host's root.
    assert.equal((await fetch(`${origin}${ENDPOINTS.metadata}`)).status, 404);
  });

  it('the OpenAPI document is under the prefix too: paths with /auth, the host origin as server, no host route', async () => {
    const res = await fetch(`${issuer()}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { servers: { url: string }[]; paths: Record<string, unknown> };
    assert.deepEqual(doc.servers, [{ url: origin }]);
    assert.ok(doc.paths[`/auth${ENDPOINTS.token}`]);
    assert.ok(!Object.keys(doc.paths).some((p) => !p.startsWith('/auth/')), Object.keys(doc.paths).join(' '));
  });

  it('sign in, refresh and validate through the prefix (a resource server discovers it from the issuer)', async () => {
    const login = await fetch(`${issuer()}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
    });
    assert.equal(login.status, 200);
    const tokens = (await login.json()) as {
      access_token: string;
      refresh_token: string;
      revocation_endpoint: string;
    };
    assert.equal(tokens.revocation_endpoint, `${issuer()}${ENDPOINTS.revocation}`);
    const refreshed = await fetch(`${issuer()}${ENDPOINTS.token}`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: tokens.refresh_token,
      }),
    });
    assert.equal(refreshed.status, 200);
    const { access_token } = (await refreshed.json()) as { access_token: string };

    const rs = createResourceServer({
      issuer: issuer(),
      audience: issuer(),
      clientId: 'api',
      clientSecret: 'resource-server-secret-0123456789',
      revocations: false,
    });
    try {
      const result = await rs.authenticate(
        new Request(`${origin}/orders`, { headers: { authorization: `Bearer ${access_token}` } }),
      );
      assert.equal(result.ok, true, JSON.stringify(result));
      if (result.ok) assert.equal(result.auth.claims.iss, issuer());
    } finally {
      await rs.close();
    }
  });

  it('the cookie of cookie mode is scoped to the prefix', async () => {
    await saveClient(plugin.context, {
      id: 'spa',
      public: true,
      cookieMode: true,
    });
    const login = await fetch(`${issuer()}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: CSRF_HEADER_VALUE, origin },
      body: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'spa' }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    assert.match(login.headers.get('set-cookie') ?? '', /; Path=\/auth\/api\/auth/);
  });

  it("Tessera's answers keep its own error shape, 404 and no-store under /auth", async () => {
    const json = await fetch(`${issuer()}${ENDPOINTS.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(json.status, 415);
    assert.equal(((await json.json()) as { error_code: string }).error_code, 'unsupported_media_type');
    const missing = await fetch(`${issuer()}/nowhere`);
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_code', 'error_description', 'retryable']);
    const dup = await fetch(`${issuer()}${ENDPOINTS.jwks}?a=1&a=2`);
    assert.equal(dup.status, 400);
  });

  it("the host's routes keep the host's parsers, error handler, 404, limits and headers", async () => {
    // Its own parser, and Fastify's JSON parser, which Tessera's strict parsers did not replace.
    const csv = await fetch(`${origin}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'a,b',
    });
    assert.deepEqual(((await csv.json()) as { body: unknown }).body, ['a', 'b']);
    const nested = await fetch(`${origin}/echo?x=1&x=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Nested values and 100 KiB: Tessera refuses both on its routes, the host does not.
      body: JSON.stringify({ deep: { n: 1 }, big: 'x'.repeat(100 * 1024) }),
    });
    assert.equal(nested.status, 200);
    const echoed = (await nested.json()) as { body: { deep: unknown }; query: unknown };
    assert.deepEqual(echoed.body.deep, { n: 1 });
    assert.deepEqual(echoed.query, { x: ['1', '2'] });
    assert.equal(nested.headers.get('cache-control'), null, 'no-store stays on token routes');

    const boom = await fetch(`${origin}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { host: 'error', message: 'host failure' });
    const missing = await fetch(`${origin}/nowhere`);
    assert.deepEqual(await missing.json(), { host: 'not found' });
    // Tessera's cookie parser is not the host's.
    const cookies = await fetch(`${origin}/cookies`, { headers: { cookie: 'a=1' } });
    assert.deepEqual(await cookies.json(), { cookies: null });
  });

  it('reading the context before registration is a clear error', () => {
    assert.throws(() => auth.context, /register the plugin/);
  });
});
