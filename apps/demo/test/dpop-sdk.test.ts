import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTesseraClient } from '@tessera/client';
import { createDpop, memoryKeyStore, storageKeyStore } from '@tessera/client/dpop';
import { createFetch } from '@tessera/client/fetch';
import { encryptedFileStorage } from '@tessera/client/node';
import { tesseraResource } from '@tessera/resource/fastify';
import { createUser, loadConfig, saveClient, type TesseraPlugin, tessera } from '@tessera/server';
import { freePort, launchChromium, until } from '@tessera/test-support';
import { build } from 'esbuild';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';

// The SDK's DPoP mode against the Tessera server and the resource middleware, mounted in one
// host app (one origin, as a browser app would have it): in Node with the key in the encrypted
// file store, and in Chromium with two tabs sharing one IndexedDB key.

const PASSWORD = 'correct horse battery staple';
const AUDIENCE = 'https://api.example.test';

let host: FastifyInstance;
let plugin: TesseraPlugin;
let origin = '';
let dir = '';
const issuer = () => `${origin}/auth`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-dpop-sdk-'));
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  host = Fastify();
  plugin = tessera({
    config: loadConfig({
      env: {},
      overrides: {
        db: ':memory:',
        issuer: origin,
        audience: AUDIENCE,
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
  await host.register(tesseraResource, { issuer: `${origin}/auth`, audience: AUDIENCE, revocations: false });
  host.get('/api/orders', { onRequest: host.requireAuth() }, async (request) => ({ sub: request.auth?.sub }));
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./support/dpop-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tessera/source'],
    write: false,
  });
  const script = bundle.outputFiles[0]!.text;
  host.get('/', async (_request, reply) =>
    reply
      .type('text/html')
      .send('<!doctype html><title>dpop</title><script type="module" src="/sdk.js"></script>'),
  );
  host.get('/sdk.js', async (_request, reply) => reply.type('text/javascript').send(script));
  await host.listen({ host: '127.0.0.1', port });
  await saveClient(plugin.context, {
    id: 'dpop-web',
    public: true,
    dpop: true,
    grantTypes: ['refresh_token'],
  });
  await createUser(plugin.context, { username: 'alice', password: PASSWORD });
});
after(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rotations = async () =>
  (await plugin.context.stores.events.list({ type: 'token.refreshed', limit: 10_000 })).length;

describe('the SDK in DPoP mode against Tessera, in Node', () => {
  it('signs in, refreshes and calls the API with proofs of its stored key; a stolen refresh token is useless', async () => {
    const stored = encryptedFileStorage({ path: join(dir, 'session.enc'), key: randomBytes(32) });
    const dpop = createDpop({ tokenEndpoint: `${issuer()}/oauth/token`, keyStore: storageKeyStore(stored) });
    const client = createTesseraClient({
      tokenEndpoint: `${issuer()}/oauth/token`,
      loginEndpoint: `${issuer()}/api/auth/login`,
      clientId: 'dpop-web',
      storage: stored,
      fetch: dpop.fetch,
    });
    await client.signInWithPassword({ username: 'alice', password: PASSWORD });
    const api = createFetch(client, { fetch: dpop.fetch });
    const first = await api(`${origin}/api/orders`);
    assert.equal(first.status, 200, await first.clone().text());
    const before = await rotations();
    const token = await client.refresh();
    assert.equal(await rotations(), before + 1);
    assert.equal((await api(`${origin}/api/orders`)).status, 200);

    // The bound access token without a proof (as Bearer) is refused by the middleware.
    const bearer = await fetch(`${origin}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bearer.status, 401);
    assert.match(bearer.headers.get('www-authenticate') ?? '', /^DPoP /);

    // The refresh token, copied out of storage, with another key: refused, the session goes on.
    const session = JSON.parse((await stored.get('tessera:dpop-web')) ?? '{}') as { refreshToken: string };
    const thief = createDpop({ tokenEndpoint: `${issuer()}/oauth/token`, keyStore: memoryKeyStore() });
    const stolen = await thief.fetch(`${issuer()}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: session.refreshToken,
        client_id: 'dpop-web',
      }),
    });
    assert.equal(stolen.status, 400);
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_dpop_proof');
    assert.notEqual(await client.refresh(), token);
    assert.equal(client.state, 'active');
    client.close();
  });
});

describe('the SDK in DPoP mode in Chromium: two tabs, one key, one refresh', { timeout: 60_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  const call = <T>(page: Page, script: string) => page.evaluate(script) as Promise<T>;

  it('both tabs prove the same key; a refresh started in both at once rotates once; both call the API', async () => {
    const context = await browser.newContext();
    const a = await context.newPage();
    await a.goto(origin);
    await until(() => call<boolean>(a, 'globalThis.dpopTest?.ready() ?? false'), 'tab A');
    await call(a, `dpopTest.signIn(${JSON.stringify(PASSWORD)})`);
    const b = await context.newPage();
    await b.goto(origin);
    await until(() => call<boolean>(b, 'globalThis.dpopTest?.ready() ?? false'), 'tab B');
    const [ja, jb] = await Promise.all([
      call<string>(a, 'dpopTest.thumbprint()'),
      call<string>(b, 'dpopTest.thumbprint()'),
    ]);
    assert.equal(ja, jb, 'one key for every tab of the origin');
    assert.match(ja, /^[A-Za-z0-9_-]{43}$/);
    const current = await call<string>(a, 'dpopTest.token()');
    assert.equal(
      await call<string>(b, 'dpopTest.token()'),
      current,
      'tab B read the session tab A signed in',
    );
    const before = await rotations();
    const refreshIf = `dpopTest.refreshIf(${JSON.stringify(current)})`;
    const [ta, tb] = await Promise.all([call<string>(a, refreshIf), call<string>(b, refreshIf)]);
    assert.notEqual(ta, current);
    assert.equal(ta, tb, 'the tab that did not refresh got the tokens handed over');
    assert.equal(await rotations(), before + 1, 'one refresh for both tabs');
    for (const page of [a, b]) {
      const res = await call<{ status: number; body: string }>(page, 'dpopTest.orders()');
      assert.equal(res.status, 200, res.body);
    }
    await context.close();
  });
});
