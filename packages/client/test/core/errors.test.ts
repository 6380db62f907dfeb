import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inProcessCoordinator } from '@tessera/client/in-process';
import { TesseraError } from '@tessera/protocol';
import { memoryStorage } from '../../src/index.js';
import { harness, signedIn } from '../support/harness.js';

const SECOND = 1000;
const unavailable = { status: 503, body: { error: 'temporarily_unavailable' } };

describe('transient errors: backoff with jitter and a retry budget', () => {
  it('retries 503 with exponential backoff, then succeeds without signing out', async () => {
    const h = await signedIn();
    h.server.script.push(unavailable, unavailable);
    h.time.jump(901 * SECOND);
    const pending = h.client.getAccessToken();
    await h.time.advance(10 * SECOND);
    assert.equal(await pending, 'at-2');
    const at = h.server.requests.map((r) => r.at);
    assert.equal(at.length, 3);
    // failure 1: ceiling 1 s, jitter 0.5 → 0.75 s, but the table's default Retry-After (1 s) is the floor
    assert.equal(at[1]! - at[0]!, 1000);
    // failure 2: ceiling 2 s → 1 s + 0.5 × 1 s = 1.5 s
    assert.equal(at[2]! - at[1]!, 1500);
    assert.equal(h.count('sessionExpired'), 0);
  });

  it('honours Retry-After on 429 (seconds and HTTP date); the caller waits offlineAfterMs at most', async () => {
    const h = await signedIn();
    h.server.script.push(
      { status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '7' } },
      {
        status: 429,
        body: {},
        headers: { 'retry-after': new Date(h.time.now() + 901 * SECOND + 20 * SECOND).toUTCString() },
      },
    );
    h.time.jump(901 * SECOND);
    const start = h.time.now();
    const pending = h.client.getAccessToken();
    const outcome = assert.rejects(pending, { code: 'rate_limited' });
    await h.time.advance(3 * SECOND);
    await outcome;
    assert.equal(h.time.now() - start, 3000);
    assert.equal(h.client.state, 'refreshing', 'the refresh goes on; the server answers, so not offline');
    await h.time.advance(60 * SECOND);
    assert.equal(await h.client.getAccessToken(), 'at-2');
    const at = h.server.requests.map((r) => r.at);
    assert.equal(at[1]! - at[0]!, 7000);
    assert.ok(at[2]! - at[1]! >= 12_000, `waited ${at[2]! - at[1]!}`);
  });

  it('retries rotation_in_progress (a coalesced wait that timed out)', async () => {
    const h = await signedIn();
    h.server.script.push({
      status: 503,
      body: { error: 'temporarily_unavailable', error_code: 'rotation_in_progress', retryable: true },
    });
    h.time.jump(901 * SECOND);
    const pending = h.client.getAccessToken();
    await h.time.advance(5 * SECOND);
    assert.equal(await pending, 'at-2');
    assert.equal(h.server.requests.length, 2);
  });

  it('stops after the retry budget (4 attempts), keeps the session, fails fast, then retries later', async () => {
    const h = await signedIn();
    for (let i = 0; i < 10; i++) h.server.script.push({ status: 502, body: '<html>bad gateway</html>' });
    h.time.jump(901 * SECOND);
    const pending = h.client.getAccessToken();
    const outcome = assert.rejects(pending, (e: unknown) => e instanceof TesseraError && e.retryable);
    // attempts at 0, 1, 2.5 and 5.5 s; the next probe would be 6 s later
    await h.time.advance(6 * SECOND);
    await outcome;
    assert.equal(h.server.requests.length, 4);
    assert.equal(h.count('refreshFailed'), 1);
    assert.equal(h.count('sessionExpired'), 0);
    assert.equal(h.client.state, 'active');
    // Inside the backoff window: no new request, an immediate answer.
    await assert.rejects(h.client.getAccessToken(), { code: 'server_error' });
    assert.equal(h.server.requests.length, 4);
    // Once the budget is spent, one probe per backoff interval (8 s ceiling → 6 s here).
    await h.time.advance(5 * SECOND);
    assert.equal(h.server.requests.length, 4);
    await h.time.advance(1 * SECOND);
    assert.equal(h.server.requests.length, 5);
    await h.time.advance(12 * SECOND);
    assert.equal(h.server.requests.length, 6);
    // The next probe finds the server back.
    h.server.script.length = 0;
    await h.time.advance(24 * SECOND);
    assert.equal(h.server.requests.length, 7);
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });

  it('a custom budget is respected', async () => {
    const h = await signedIn({ retryAttempts: 2 });
    for (let i = 0; i < 5; i++) h.server.script.push(unavailable);
    h.time.jump(901 * SECOND);
    const outcome = assert.rejects(h.client.getAccessToken());
    await h.time.advance(2 * SECOND);
    await outcome;
    assert.equal(h.server.requests.length, 2);
  });
});

describe('permanent errors end the session, once', () => {
  it('token_reused: 100 callers, one request, sessionExpired and reuseDetected exactly once', async () => {
    const storage = memoryStorage();
    const h = await signedIn({ storage });
    h.server.script.push({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_code: 'token_reused',
        error_description: 'Token has been rotated',
        session_end_reason: 'reuse_detected',
      },
    });
    h.time.jump(901 * SECOND);
    const tokens = await Promise.all(Array.from({ length: 100 }, () => h.client.getAccessToken()));
    assert.ok(tokens.every((t) => t === null));
    assert.equal(h.server.requests.length, 1);
    assert.equal(h.count('sessionExpired'), 1);
    // The app can tell its user why: the end reason rides on the error.
    const ended = h.events.find((e) => e.name === 'sessionExpired')?.payload as TesseraError;
    assert.equal(ended.sessionEndReason, 'reuse_detected');
    assert.equal(h.count('reuseDetected'), 1);
    assert.equal(h.count('refreshFailed'), 0);
    assert.equal(h.client.state, 'expired');
    assert.equal(await storage.get('tessera:web'), null);
    await h.time.advance(3600 * SECOND);
    assert.equal(h.count('sessionExpired'), 1);
    assert.equal(h.server.requests.length, 1);
  });

  it('a standard server’s invalid_grant (no Tessera error_code) ends the session; no reuseDetected', async () => {
    const h = await signedIn();
    h.server.script.push({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'grant request is invalid' },
    });
    await assert.rejects(h.client.refresh(), { code: 'invalid_grant' });
    assert.equal(h.count('sessionExpired'), 1);
    assert.equal(h.count('reuseDetected'), 0);
    assert.equal(await h.client.getAccessToken(), null);
  });

  for (const code of [
    'token_expired',
    'token_revoked',
    'session_expired',
    'client_mismatch',
    'invalid_token',
  ]) {
    it(`${code} ends the session`, async () => {
      const h = await signedIn();
      h.server.script.push({ status: 400, body: { error: 'invalid_grant', error_code: code } });
      await assert.rejects(h.client.refresh(), { code });
      assert.equal(h.client.state, 'expired');
      assert.equal(h.count('sessionExpired'), 1);
    });
  }

  for (const [code, status, error] of [
    ['invalid_client', 401, 'invalid_client'],
    ['replay_detected', 400, 'invalid_request'],
    ['invalid_dpop_proof', 400, 'invalid_dpop_proof'],
    ['invalid_scope', 400, 'invalid_scope'],
  ] as const) {
    it(`${code} does not sign the user out`, async () => {
      const h = await signedIn();
      h.server.script.push({ status, body: { error, error_code: code } });
      await assert.rejects(h.client.refresh(), { code });
      assert.equal(h.client.state, 'active');
      assert.equal(h.count('sessionExpired'), 0);
      assert.equal(h.count('refreshFailed'), 1);
      assert.equal(await h.client.getAccessToken(), 'at-1');
    });
  }

  it('the other clients of the session end too, each emitting sessionExpired once', async () => {
    const storage = memoryStorage();
    const coordinator = inProcessCoordinator();
    const a = await signedIn({ storage, coordinator });
    const b = await harness({ storage, coordinator }, a);
    a.server.script.push({ status: 400, body: { error: 'invalid_grant', error_code: 'token_reused' } });
    a.time.jump(901 * SECOND);
    await Promise.all([a.client.getAccessToken(), b.client.getAccessToken()]);
    await a.time.advance(0);
    assert.equal(a.server.requests.length, 1);
    assert.equal(a.count('sessionExpired'), 1);
    assert.equal(b.count('sessionExpired'), 1);
    assert.equal(b.count('reuseDetected'), 1);
    assert.equal(b.client.state, 'expired');
  });
});
