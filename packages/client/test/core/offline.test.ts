import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signedIn } from '../support/harness.js';
import { settle } from '../support/virtual-time.js';

const SECOND = 1000;

describe('offline mode', () => {
  it('keeps the session, answers the cached token at once, flags offline, and refreshes when the network is back', async () => {
    const h = await signedIn();
    h.server.script.push('network', 'network');
    h.time.jump(901 * SECOND);
    assert.equal(await h.client.getAccessToken(), 'at-1');
    assert.equal(h.client.state, 'offline');
    assert.equal(h.count('offline'), 1);
    assert.equal(h.count('sessionExpired'), 0);
    // While offline, callers get the cached token without any request.
    for (let i = 0; i < 50; i++) assert.equal(await h.client.getAccessToken(), 'at-1');
    assert.equal(h.server.requests.length, 1);
    // The background probe (backoff) fails once more, then the network is back.
    await h.time.advance(1 * SECOND);
    assert.equal(h.server.requests.length, 2);
    assert.equal(h.client.state, 'offline');
    assert.equal(h.count('offline'), 1);
    await h.time.advance(2 * SECOND);
    assert.equal(h.server.requests.length, 3);
    assert.equal(h.client.state, 'active');
    assert.equal(h.count('online'), 1);
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });

  it('refreshes at once when the app resumes / the browser reports online, without waiting out the backoff', async () => {
    const h = await signedIn();
    h.server.script.push('network', 'network', 'network');
    h.time.jump(901 * SECOND);
    await h.client.getAccessToken();
    await h.time.advance(3 * SECOND); // two probes fail: the next is ~4 s away
    assert.equal(h.server.requests.length, 3);
    h.client.resume();
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 4);
    assert.equal(h.client.state, 'active');
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });

  it('a hanging token request: the caller gets the cached token after offlineAfterMs (3 s), the request is aborted at the timeout (10 s) and retried', async () => {
    const h = await signedIn();
    h.server.script.push('hang');
    h.time.jump(901 * SECOND);
    const pending = h.client.getAccessToken();
    await h.time.advance(2999);
    assert.equal(await Promise.race([pending, 'waiting']), 'waiting');
    await h.time.advance(1);
    assert.equal(await pending, 'at-1');
    assert.equal(h.client.state, 'offline');
    assert.equal(h.count('offline'), 1);
    // Offline, callers get the cached token at once while the request hangs.
    assert.equal(await h.client.getAccessToken(), 'at-1');
    await h.time.advance(6999);
    assert.equal(h.server.requests.length, 1, 'still the first request');
    await h.time.advance(1 + 1000); // aborted at 10 s; the retry follows the backoff (0.75 s here)
    assert.equal(h.server.requests.length, 2);
    assert.equal(h.client.state, 'active');
    assert.equal(await h.client.getAccessToken(), 'at-2');
    assert.equal(h.count('sessionExpired'), 0);
  });

  it('offline with a still-fresh token: resume() probes with a real request and comes back online', async () => {
    const h = await signedIn();
    h.server.script.push('network');
    await h.client.refresh().catch(() => {});
    assert.equal(h.client.state, 'offline');
    h.client.resume();
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 2);
    assert.equal(h.client.state, 'active');
    assert.equal(h.count('online'), 1);
  });

  it('offline: a call after the backoff probes in the background even if timers were throttled', async () => {
    const h = await signedIn();
    h.server.script.push('network');
    h.time.jump(901 * SECOND);
    assert.equal(await h.client.getAccessToken(), 'at-1');
    h.time.jump(5 * SECOND); // the probe timer did not run (throttled tab)
    assert.equal(await h.client.getAccessToken(), 'at-1'); // still at once
    await settle(); // no timer fires here: only the call itself can have started the probe
    assert.equal(h.server.requests.length, 2);
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });
});
