import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { io, network, signedInNetClient, track } from '../support/network.js';

/**
 * Slow networks: 2 s per token request, and answers cut off mid-body. One refresh, no
 * duplicate, callers share it; a cut-off answer is retried with the same refresh token (the
 * server rotated, and its grace period answers the parent again with the same child).
 */
const SECOND = 1000;
const net = network();

describe('a slow network', () => {
  it('2 s per request: 50 callers share one refresh and all get the new token after 2 s (inside offlineAfterMs)', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = { kind: 'delay', ms: 2 * SECOND };
    net.time.jump(901 * SECOND);
    const callers = Array.from({ length: 50 }, () => track(c.client.getAccessToken()));
    await io(() => net.proxy.seen.length === 1, 'the refresh at the proxy');
    await net.time.advance(1999);
    assert.ok(callers.every((t) => !t.done));
    await net.time.advance(1);
    await io(() => callers.every((t) => t.done), 'the callers');
    assert.ok(callers.every((t) => t.value === net.fx.tokens.currentAccessToken));
    assert.notEqual(net.fx.tokens.currentAccessToken, c.tokens.access_token);
    assert.equal(net.proxy.seen.length, 1, 'no duplicate request');
    assert.equal(net.fx.tokens.rotations - c.rotations, 1);
    assert.equal(c.client.state, 'active');
    assert.equal(c.count('offline'), 0);
  });

  it('an answer cut off mid-body is retried with the same refresh token: one rotation, no sign-out', async () => {
    const c = await signedInNetClient(net);
    net.proxy.next.push({ kind: 'cut', bytes: 20 });
    net.time.jump(901 * SECOND);
    const caller = track(c.client.getAccessToken());
    await io(() => caller.done, 'the caller');
    // The answer was lost: the cached token, offline, and a retry after the backoff.
    assert.equal(caller.value, c.tokens.access_token);
    assert.equal(c.client.state, 'offline');
    await net.time.advance(SECOND);
    await io(() => c.client.state === 'active', 'the retry');
    assert.deepEqual(net.proxy.refreshTokens, [c.tokens.refresh_token, c.tokens.refresh_token]);
    assert.equal(net.fx.tokens.rotations - c.rotations, 1, 'the grace period gave the same child');
    assert.equal(await c.client.getAccessToken(), net.fx.tokens.currentAccessToken);
    assert.equal(c.count('sessionExpired'), 0);
  });

  it('2 s and then cut off: the callers get the cached token at 2 s; the retry (2 s again) brings the new one', async () => {
    const c = await signedInNetClient(net);
    net.proxy.next.push({ kind: 'cut', bytes: 40, delayMs: 2 * SECOND });
    net.proxy.mode = { kind: 'delay', ms: 2 * SECOND };
    net.time.jump(901 * SECOND);
    const callers = Array.from({ length: 10 }, () => track(c.client.getAccessToken()));
    await io(() => net.proxy.seen.length === 1, 'the refresh');
    await net.time.advance(2 * SECOND);
    await io(() => callers.every((t) => t.done), 'the callers');
    assert.ok(callers.every((t) => t.value === c.tokens.access_token));
    await net.time.advance(SECOND);
    await io(() => net.proxy.seen.length === 2, 'the retry');
    await net.time.advance(2 * SECOND);
    await io(() => c.client.state === 'active', 'the new token');
    assert.deepEqual(net.proxy.refreshTokens, [c.tokens.refresh_token, c.tokens.refresh_token]);
    assert.equal(net.fx.tokens.rotations - c.rotations, 1);
    assert.equal(c.count('sessionExpired'), 0);
  });
});
