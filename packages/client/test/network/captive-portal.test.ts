import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStorage } from '../../src/index.js';
import type { Fault } from '../support/fault-proxy.js';
import { io, network, signedInNetClient, track } from '../support/network.js';

/**
 * Captive portals and lying middleboxes: something between the app and the token endpoint
 * answers in its place. Never a sign-out, never stored; transient (offline), retried with
 * backoff, and the session is used again as soon as the real server answers.
 */
const SECOND = 1000;
const net = network();

const portalPage = '<!doctype html><title>Sign in to CoffeeShop Wi-Fi</title><form>...</form>';
const lies: [string, Fault][] = [
  [
    '200 text/html (a portal page)',
    { kind: 'rewrite', status: 200, headers: { 'content-type': 'text/html' }, body: portalPage },
  ],
  [
    '302 to a login page',
    { kind: 'rewrite', status: 302, headers: { location: 'http://portal.example/login' } },
  ],
  [
    '200 JSON without access_token',
    {
      kind: 'rewrite',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"status":"ok","login":"required"}',
    },
  ],
  [
    '511 Network Authentication Required',
    { kind: 'rewrite', status: 511, headers: { 'content-type': 'text/html' }, body: portalPage },
  ],
  [
    '403 text/html from a filtering proxy',
    { kind: 'rewrite', status: 403, headers: { 'content-type': 'text/html' }, body: '<h1>Blocked</h1>' },
  ],
  [
    '200 JSON with an access_token of the wrong type',
    {
      kind: 'rewrite',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":42}',
    },
  ],
];

describe('a captive portal or lying middlebox answers for the token endpoint', () => {
  for (const [name, lie] of lies) {
    it(`${name}: transient, offline, nothing stored, back as soon as the server answers`, async () => {
      const storage = memoryStorage();
      const c = await signedInNetClient(net, { storage });
      const stored = await storage.get('tessera:web');
      net.proxy.mode = lie;
      net.time.jump(901 * SECOND);
      const caller = track(c.client.getAccessToken());
      await io(() => caller.done, 'the caller');
      assert.equal(caller.value, c.tokens.access_token, 'the cached token, at once');
      assert.equal(c.client.state, 'offline');
      assert.equal(c.count('offline'), 1);
      // Retried with backoff while the portal is there: 0.5-1 s, then 1-2 s.
      await net.time.advance(SECOND);
      await io(() => net.proxy.seen.length === 2, 'the first retry');
      await net.time.advance(2 * SECOND);
      await io(() => net.proxy.seen.length === 3, 'the second retry');
      assert.equal(await storage.get('tessera:web'), stored, 'nothing the portal said was stored');
      assert.equal(c.client.state, 'offline');
      // The real server answers again.
      net.proxy.mode = { kind: 'pass' };
      await net.time.advance(4 * SECOND);
      await io(() => c.client.state === 'active', 'the session back');
      assert.equal(await c.client.getAccessToken(), net.fx.tokens.currentAccessToken);
      assert.equal(c.count('online'), 1);
      assert.equal(c.count('sessionExpired'), 0);
      assert.equal(net.fx.tokens.rotations - c.rotations, 1);
      assert.ok(
        net.proxy.refreshTokens.every((t) => t === c.tokens.refresh_token),
        'the same refresh token each time',
      );
      const failures = c.events
        .filter((e) => e.name === 'refreshFailed')
        .map((e) => e.payload as { code: string });
      assert.ok(failures.length >= 3 && failures.every((e) => e.code === 'temporarily_unavailable'));
    });
  }

  it('a 5xx with an HTML body is the server’s own trouble: transient, but not offline', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = {
      kind: 'rewrite',
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: '<h1>Bad gateway</h1>',
    };
    net.time.jump(901 * SECOND);
    const caller = track(c.client.getAccessToken());
    await io(() => net.proxy.seen.length === 1, 'the first attempt');
    await net.time.advance(3 * SECOND);
    await io(() => caller.done, 'the caller');
    assert.equal((caller.error as { code?: string }).code, 'server_error');
    assert.notEqual(c.client.state, 'offline');
    assert.equal(c.count('sessionExpired'), 0);
  });
});
