import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTesseraClient } from '../../src/index.js';
import { io, network, signedInNetClient, track } from '../support/network.js';

/**
 * Black holes: the token endpoint's connection is accepted and never answered (Wi-Fi without
 * internet, a dead cell, a stalled proxy). Default options: offlineAfterMs 3 s, request timeout
 * 10 s, 4 attempts, backoff 1 s doubling to 60 s.
 */
const SECOND = 1000;
const net = network();

describe('a black-holed token endpoint', () => {
  it('callers past expiry wait 3 s, then get the cached token and the state is offline; the refresh goes on and recovers', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = { kind: 'blackhole' };
    net.time.jump(901 * SECOND);
    const start = net.time.now();
    const callers = Array.from({ length: 100 }, () => track(c.client.getAccessToken()));
    await io(() => net.proxy.seen.length === 1, 'the refresh to reach the proxy');
    await net.time.advance(2999);
    assert.ok(
      callers.every((t) => !t.done),
      'nobody is answered before offlineAfterMs',
    );
    await net.time.advance(1);
    await io(() => callers.every((t) => t.done), 'the callers');
    assert.ok(callers.every((t) => t.value === c.tokens.access_token));
    assert.equal(net.time.now() - start, 3000, 'the longest wait: exactly offlineAfterMs');
    assert.equal(c.client.state, 'offline');
    assert.equal(c.count('offline'), 1);
    // Offline, a caller gets the cached token at once, without a request of its own.
    assert.equal(await c.client.getAccessToken(), c.tokens.access_token);
    assert.equal(net.proxy.seen.length, 1, 'one request for 101 callers');

    // The request times out on its own at 10 s; the network comes back; the backoff probe finds it.
    await net.time.advance(6999);
    assert.equal(c.count('refreshFailed'), 0, 'still waiting for the answer');
    await net.time.advance(1);
    await io(() => c.count('refreshFailed') === 1, 'the timeout');
    net.proxy.mode = { kind: 'pass' };
    await net.time.advance(SECOND); // the first backoff is 0.5-1 s
    await io(() => c.client.state === 'active', 'the probe to succeed');
    assert.equal(c.count('online'), 1);
    assert.equal(await c.client.getAccessToken(), net.fx.tokens.currentAccessToken);
    assert.deepEqual(net.proxy.refreshTokens, [c.tokens.refresh_token, c.tokens.refresh_token]);
    assert.equal(net.fx.tokens.rotations - c.rotations, 1);
    assert.equal(c.count('sessionExpired'), 0);
  });

  it('a caller whose token is still valid never waits: the cached token at once, the refresh in the background', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = { kind: 'blackhole' };
    net.time.jump(800 * SECOND); // inside the lead window (the refresh is due), the token valid for 100 s
    const first = track(c.client.getAccessToken());
    await io(() => first.done, 'the first caller');
    assert.equal(first.value, c.tokens.access_token);
    await io(() => net.proxy.seen.length === 1, 'the background refresh');
    for (let i = 0; i < 18; i++) {
      const t = track(c.client.getAccessToken());
      await io(() => t.done, 'a caller');
      assert.equal(t.value, c.tokens.access_token);
      await net.time.advance(500);
    }
    assert.equal(net.proxy.seen.length, 1, 'one refresh, no pile-up');
    assert.equal(c.client.state, 'refreshing', 'nobody had to wait: not offline yet');
    await net.time.advance(SECOND); // 10 s: the request timed out
    await io(() => c.client.state === 'offline', 'the timeout');
    assert.equal(c.count('sessionExpired'), 0);
    c.client.close();
  });

  it('refresh() (the 401 path of the fetch wrapper) waits offlineAfterMs at most, then rejects with a transient error', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = { kind: 'blackhole' };
    const refreshed = track(c.client.refresh({ ifAccessToken: c.tokens.access_token }));
    await io(() => net.proxy.seen.length === 1, 'the refresh');
    await net.time.advance(2999);
    assert.equal(refreshed.done, false);
    await net.time.advance(1);
    await io(() => refreshed.done, 'refresh()');
    assert.equal((refreshed.error as { code?: string }).code, 'temporarily_unavailable');
    assert.equal(c.client.state, 'offline');
    c.client.close();
  });

  it('with the real timers: the caller gets the cached token after about 3 s, not after the request timeout', async () => {
    net.proxy.mode = { kind: 'pass' };
    // Real time, moved past the token's expiry by hand (no sleep); the timers are the platform's.
    let skew = 0;
    const client = createTesseraClient({
      tokenEndpoint: net.proxy.tokenEndpoint,
      clientId: 'web',
      clock: { now: () => Date.now() + skew, monotonic: () => performance.now() + skew },
    });
    await client.signInWithTokens(net.fx.tokens.issue());
    net.proxy.mode = { kind: 'blackhole' };
    skew = 901_000;
    const start = performance.now();
    const token = await client.getAccessToken();
    const waited = performance.now() - start;
    assert.ok(token?.startsWith('at-'));
    assert.equal(client.state, 'offline');
    assert.ok(waited >= 2_900 && waited < 8_000, `waited ${Math.round(waited)} ms`);
    console.log(`    real black hole: the caller waited ${Math.round(waited)} ms (offlineAfterMs 3000)`);
    client.close();
  });
});
