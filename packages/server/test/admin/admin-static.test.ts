import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminStatic } from '../../src/admin/admin-static.js';
import { registerErrorHandling } from '../../src/http/error-handler.js';
import { loadConfig, tessera } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const strictCsp = (csp: string | undefined) => {
  assert.match(csp ?? '', /default-src 'self'/);
  assert.match(csp ?? '', /script-src 'self';/);
  assert.match(csp ?? '', /style-src 'self';/);
  assert.match(csp ?? '', /frame-ancestors 'none'/);
  assert.doesNotMatch(csp ?? '', /unsafe-/);
};

describe('the dashboard’s pages under /admin', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const get = (url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') => s.tessera.app.inject({ method, url });

  it('serves the page, its script and its stylesheet with a strict CSP and the usual headers', async () => {
    for (const [url, type] of [
      ['/admin', /text\/html/],
      ['/admin/', /text\/html/],
      ['/admin/app.js', /javascript/],
      ['/admin/app.css', /text\/css/],
      ['/admin/favicon.svg', /image\/svg\+xml/],
    ] as const) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), type, url);
      strictCsp(res.headers['content-security-policy'] as string);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', url);
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin', url);
    }
    assert.match((await get('/admin/')).body, /<base href="\/admin\/" \/>/);
  });

  it('answers any other /admin path with the page, but an unknown API path with the one error shape', async () => {
    const deep = await get('/admin/sessions/abc');
    assert.equal(deep.statusCode, 200);
    assert.match(deep.body, /<script type="module" src="app\.js">/);
    for (const url of ['/admin/api/no-such-thing', '/admin/api/sessions/x/y/z']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error_code, 'not_found', url);
    }
    const post = await get('/admin/whatever', 'POST');
    assert.equal(post.statusCode, 404, 'the pages take GET only');
    assert.equal((await get('/admin/api/openapi.json')).statusCode, 200, 'the API is not shadowed');
    assert.equal((await get('/admin/api/sessions')).statusCode, 401, 'nor its guard');
  });

  it('puts no CSP of the dashboard on the rest of the server', async () => {
    const res = await get('/.well-known/oauth-authorization-server');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-security-policy'], undefined);
  });
});

describe('the dashboard mounted under a prefix', () => {
  let host: FastifyInstance;
  before(async () => {
    host = Fastify();
    host.get('/hello', async () => ({ hello: 'host' }));
    await host.register(
      tessera({
        config: loadConfig({
          env: {},
          overrides: {
            db: ':memory:',
            issuer: 'http://127.0.0.1:4000',
            passwordHashCost: 10,
            logLevel: 'silent',
          },
        }),
        masterSecret: randomBytes(32),
        background: false,
      }),
      { prefix: '/auth' },
    );
    await host.ready();
  });
  after(() => host.close());

  it('names its base under the prefix, so the script, the stylesheet and api/ resolve there', async () => {
    const page = await host.inject({ url: '/auth/admin/users/carol' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<base href="\/auth\/admin\/" \/>/);
    assert.equal((await host.inject({ url: '/auth/admin/app.js' })).statusCode, 200);
    assert.equal((await host.inject({ url: '/auth/admin/api/sessions' })).statusCode, 401);
    const hello = await host.inject({ url: '/hello' });
    assert.equal(hello.headers['content-security-policy'], undefined, 'the host’s routes keep their headers');
  });
});

describe('a dashboard that was never built', () => {
  it('says how to build it instead of a bare 404', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-unbuilt-'));
    const app = Fastify();
    registerErrorHandling(app);
    await adminStatic(app, { assets: pathToFileURL(`${dir}/`) });
    try {
      const res = await app.inject({ url: '/admin/' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error_code, 'temporarily_unavailable');
      assert.match(res.json().error_description, /npm run build/);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
