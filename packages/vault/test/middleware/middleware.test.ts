import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { createTokenVault, type TokenVault } from '../../src/index.js';
import { requireUpstreamToken } from '../../src/middleware/express.js';
import { tesseraVault } from '../../src/middleware/fastify.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

describe('vault.fetch and the Express and Fastify middleware', () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  let clock: TestClock;
  let vault: TokenVault;
  let api: Server;
  let apiUrl: string;
  /** Access tokens the upstream API refuses (to force a 401). */
  const rejected = new Set<string>();
  let rejectAll = false;
  let apiCalls = 0;

  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: 600 });
    db = tempDb();
    clock = new TestClock();
    vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys: makeKeys(),
      clock,
    });
    api = createServer((req, res) => {
      apiCalls++;
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (rejectAll || rejected.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, method: req.method }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/me`;
  });
  after(async () => {
    await vault.close();
    await up.close();
    api.closeAllConnections();
    await new Promise<void>((r) => api.close(() => r()));
    db.cleanup();
  });

  async function signIn(userId: string) {
    const tokens = await up.signIn();
    await vault.save(userId, tokens);
    return tokens;
  }

  it('vault.fetch attaches the token; on a 401 it refreshes once and retries once', async () => {
    const tokens = await signIn('fetcher');
    const ok = await vault.fetch('fetcher', apiUrl);
    assert.equal(ok.status, 200);
    // The API stops accepting the current token: one refresh, one retry with the new token.
    rejected.add(String(tokens.access_token));
    const refreshesBefore = up.proxy.refreshGrants();
    const callsBefore = apiCalls;
    const retried = await vault.fetch('fetcher', apiUrl, { method: 'POST', body: 'x' });
    assert.equal(retried.status, 200);
    assert.deepEqual(await retried.json(), { ok: true, method: 'POST' });
    assert.equal(up.proxy.refreshGrants() - refreshesBefore, 1);
    assert.equal(apiCalls - callsBefore, 2);
    // A 401 for the new token too is returned as is after one more refresh: never a loop.
    rejectAll = true;
    const refused = await vault.fetch('fetcher', apiUrl);
    assert.equal(refused.status, 401);
    assert.equal(up.proxy.refreshGrants() - refreshesBefore, 2);
    assert.equal(apiCalls - callsBefore, 4);
    rejectAll = false;
  });

  it('Express: req.upstream for a signed-in user; 401 reauthentication_required otherwise', async () => {
    await signIn('exp-user');
    const app = express();
    app.get(
      '/profile',
      requireUpstreamToken(vault, {
        userId: (req) => (req.headers['x-user'] as string | undefined) ?? undefined,
      }),
      async (req, res) => {
        const upstream = await req.upstream!.fetch(apiUrl);
        res.json({ token: req.upstream!.accessToken.slice(0, 4), status: upstream.status });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetch(`${base}/profile`, { headers: { 'x-user': 'exp-user' } });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { status: number }).status, 200);
      const anonymous = await fetch(`${base}/profile`);
      assert.equal(anonymous.status, 401);
      assert.equal(
        ((await anonymous.json()) as { error_code: string }).error_code,
        'reauthentication_required',
      );
      const unknown = await fetch(`${base}/profile`, { headers: { 'x-user': 'never-signed-in' } });
      assert.equal(unknown.status, 401);
      // Upstream down with the token past use: 503 with Retry-After, the set kept.
      clock.advance(601_000);
      up.proxy.down = true;
      const down = await fetch(`${base}/profile`, { headers: { 'x-user': 'exp-user' } });
      assert.equal(down.status, 503);
      assert.ok(Number(down.headers.get('retry-after')) >= 1);
      assert.equal(((await down.json()) as { error_code: string }).error_code, 'temporarily_unavailable');
      up.proxy.down = false;
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('Fastify: request.upstream through app.requireUpstreamToken(); a custom answer for sign-in', async () => {
    await signIn('fst-user');
    const app = Fastify();
    await app.register(tesseraVault, {
      vault,
      userId: (request) => request.headers['x-user'] as string | undefined,
      onReauthenticationRequired: async (_request, reply) => {
        await reply.redirect('/login');
      },
    });
    app.get('/profile', { preHandler: app.requireUpstreamToken() }, async (request) => ({
      user: request.upstream?.userId,
      hasToken: typeof request.upstream?.accessToken === 'string',
    }));
    try {
      const ok = await app.inject({ url: '/profile', headers: { 'x-user': 'fst-user' } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { user: 'fst-user', hasToken: true });
      const anonymous = await app.inject({ url: '/profile' });
      assert.equal(anonymous.statusCode, 302);
      assert.equal(anonymous.headers.location, '/login');
    } finally {
      await app.close();
    }
  });
});
