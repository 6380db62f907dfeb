import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/index.js';
import { assertRefusal } from '../helpers/refusal-shape.js';
import { freePort, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * `/metrics` is open to anyone: it now answers this machine only by default; a bearer token or a
 * port of its own opens it to a scraper elsewhere. docs/security.md describes the options.
 */

async function metrics(s: TestServer, ip: string, headers: Record<string, string> = {}) {
  const res = await s.tessera.app.inject({ method: 'GET', url: '/metrics', remoteAddress: ip, headers });
  return { status: res.statusCode, headers: res.headers, text: res.body };
}

describe('open /metrics: loopback only by default, a bearer token or a port of its own to open it', () => {
  it('by default, only loopback peers that did not come through a proxy are answered', async () => {
    const s = await startTestServer();
    try {
      for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
        const res = await metrics(s, ip);
        assert.equal(res.status, 200, `${ip}: ${res.text.slice(0, 100)}`);
        assert.match(res.text, /tessera_/);
      }
      for (const ip of ['10.0.0.5', '192.0.2.1', '::ffff:10.0.0.5', '2001:db8::1']) {
        const res = await metrics(s, ip);
        assert.equal(res.status, 403, ip);
        assertRefusal(res);
        assert.doesNotMatch(res.text, /tessera_/);
      }
      // A proxy on this machine forwards the world: not local.
      for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
        const res = await metrics(s, '127.0.0.1', { [header]: '198.51.100.7' });
        assert.equal(res.status, 403, header);
      }
    } finally {
      await s.close();
    }
  });

  it('with metricsToken, every peer must present it as Bearer (loopback too)', async () => {
    const token = randomBytes(32).toString('base64url');
    const s = await startTestServer({ config: { metricsToken: token } });
    try {
      const missing = await metrics(s, '127.0.0.1');
      assert.equal(missing.status, 401);
      assert.equal(JSON.parse(missing.text).error_code, 'access_token_missing');
      assert.equal(missing.headers['www-authenticate'], 'Bearer realm="tessera-metrics"');
      assertRefusal(missing);
      const wrong = await metrics(s, '10.0.0.5', { authorization: `Bearer ${token.slice(1)}x` });
      assert.equal(wrong.status, 401);
      assert.equal(JSON.parse(wrong.text).error_code, 'access_token_invalid');
      assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
      assertRefusal(wrong, [token]);
      const basic = await metrics(s, '10.0.0.5', { authorization: `Basic ${token}` });
      assert.equal(basic.status, 401);
      const right = await metrics(s, '10.0.0.5', { authorization: `Bearer ${token}` });
      assert.equal(right.status, 200);
      assert.match(right.text, /tessera_/);
      // The token is never logged.
      assert.ok(!s.logs.join('').includes(token));
    } finally {
      await s.close();
    }
  });

  it('a short or malformed metrics token is refused at start, without repeating it', () => {
    for (const bad of ['short', 'not base64url!!', 'a'.repeat(20)]) {
      assert.throws(
        () => loadConfig({ env: { TESSERA_METRICS_TOKEN: bad } }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /TESSERA_METRICS_TOKEN/.test(err.message) &&
          !err.message.includes(bad),
      );
    }
  });

  it('with metricsPort, /metrics moves to its own listener and leaves the main one', async () => {
    const metricsPort = await freePort();
    const s = await startTestServer({ listen: true, config: { metricsPort } });
    try {
      const main = await fetch(`${s.url}/metrics`);
      assert.equal(main.status, 404);
      const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(own.status, 200);
      assert.match(await own.text(), /tessera_/);
      // Nothing else is served there, and refusals have the one shape.
      const other = await fetch(`http://127.0.0.1:${metricsPort}/oauth/token`, { method: 'POST' });
      assertRefusal({
        status: other.status,
        headers: Object.fromEntries(other.headers),
        text: await other.text(),
      });
    } finally {
      await s.close();
    }
    // Closing the server closes the metrics listener too.
    await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`));
  });
});
