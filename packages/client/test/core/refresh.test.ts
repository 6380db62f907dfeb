import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenStorage } from '../../src/core/types.js';
import { memoryStorage } from '../../src/index.js';
import { harness, signedIn } from '../support/harness.js';

const SECOND = 1000;

function jwtWithExp(exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ exp, sub: 'u1' })}.sig`;
}

describe('signing in and cached tokens', () => {
  it('hands out the cached token without a request while it is fresh', async () => {
    const h = await signedIn();
    assert.equal(h.client.state, 'active');
    for (let i = 0; i < 100; i++) assert.equal(await h.client.getAccessToken(), 'at-1');
    assert.equal(h.server.requests.length, 0);
  });

  it('answers null when signed out', async () => {
    const h = await harness();
    assert.equal(h.client.state, 'signedOut');
    assert.equal(await h.client.getAccessToken(), null);
    await assert.rejects(h.client.refresh(), { code: 'session_expired' });
  });

  it('reads the session back from storage in a new client', async () => {
    const storage = memoryStorage();
    const a = await signedIn({ storage });
    const b = await harness({ storage }, a);
    assert.equal(b.client.state, 'active');
    assert.equal(await b.client.getAccessToken(), 'at-1');
  });

  it('signs in with a password through POST /api/auth/login (JSON)', async () => {
    let seen: { url: string; body: unknown; type: string | null } | undefined;
    const h = await harness({
      fetch: async (input, init) => {
        const request = new Request(input, init);
        seen = {
          url: request.url,
          body: await request.json(),
          type: request.headers.get('content-type'),
        };
        return Response.json({
          access_token: 'at-login',
          token_type: 'Bearer',
          expires_in: 900,
          refresh_token: 'rt-l',
        });
      },
    });
    await h.client.signInWithPassword({ username: 'ada', password: 'pw' });
    assert.deepEqual(seen, {
      url: 'https://auth.test/api/auth/login',
      body: { username: 'ada', password: 'pw', client_id: 'web' },
      type: 'application/json',
    });
    assert.equal(await h.client.getAccessToken(), 'at-login');
  });

  it('rejects a wrong password with invalid_credentials and stays signed out', async () => {
    const h = await harness({
      fetch: async () =>
        Response.json(
          {
            error: 'invalid_grant',
            error_code: 'invalid_credentials',
            error_description: 'Invalid username or password',
          },
          { status: 401 },
        ),
    });
    await assert.rejects(h.client.signInWithPassword({ username: 'ada', password: 'no' }), {
      code: 'invalid_credentials',
    });
    assert.equal(h.client.state, 'signedOut');
  });

  it('signs out: clears storage, tells listeners, revokes the refresh token', async () => {
    const storage = memoryStorage();
    const h = await signedIn({ storage });
    await h.client.signOut();
    assert.equal(h.client.state, 'signedOut');
    assert.equal(await h.client.getAccessToken(), null);
    assert.equal(await storage.get('tessera:web'), null);
    assert.deepEqual(h.server.other, ['https://auth.test/oauth/revoke']);
    assert.equal(h.count('sessionExpired'), 0);
  });
});

describe('proactive refresh', () => {
  it('refreshes min(5 min, 20% of lifetime) (+ jitter) before expiry, from receipt time', async () => {
    // 900 s token: lead = min(300, 180) s × (1 + 0.25 × 0.5) = 202.5 s.
    const h = await signedIn();
    await h.time.advance(900 * SECOND - 203 * SECOND);
    assert.equal(h.server.requests.length, 0);
    await h.time.advance(2 * SECOND);
    assert.equal(h.server.requests.length, 1);
    assert.equal(await h.client.getAccessToken(), 'at-2');
    assert.equal(h.count('refreshed'), 1);
  });

  it('caps the lead at 5 minutes for long tokens', async () => {
    const h = await harness();
    h.server.expiresIn = 3600;
    await h.client.signInWithTokens(h.server.issue());
    // lead = 300 s × 1.125 = 337.5 s
    await h.time.advance(3600 * SECOND - 338 * SECOND);
    assert.equal(h.server.requests.length, 0);
    await h.time.advance(SECOND);
    assert.equal(h.server.requests.length, 1);
  });

  it('spreads clients with jitter: lead varies with randomness but stays within 25%', async () => {
    const leads: number[] = [];
    for (const r of [0, 0.99]) {
      const h = await harness({ random: () => r });
      await h.client.signInWithTokens(h.server.issue());
      const start = h.time.now();
      while (h.server.requests.length === 0) await h.time.advance(100);
      leads.push(900 * SECOND - (h.time.now() - start));
    }
    assert.ok(Math.abs(leads[0]! - 180 * SECOND) <= 100, `lead ${leads[0]}`);
    assert.ok(Math.abs(leads[1]! - 180 * SECOND * 1.2475) <= 100, `lead ${leads[1]}`);
  });

  it('a 30 s token does not refresh on every call (no refresh storm)', async () => {
    const h = await harness();
    h.server.expiresIn = 30;
    await h.client.signInWithTokens(h.server.issue());
    // 10 minutes of calls every 100 ms.
    for (let i = 0; i < 6000; i++) {
      await h.client.getAccessToken();
      await h.time.advance(100);
    }
    // lead = 6 s × 1.125 = 6.75 s → one refresh every 23.25 s → about 25 in 10 minutes.
    assert.ok(h.server.rotations >= 24 && h.server.rotations <= 27, `rotations ${h.server.rotations}`);
  });

  it('ignores the JWT exp claim (device clock vs server clock): expires_in decides', async () => {
    const h = await harness();
    const past = jwtWithExp(1); // exp in 1970: a client trusting exp would refresh at once
    await h.client.signInWithTokens({ ...h.server.issue(), access_token: past });
    assert.equal(await h.client.getAccessToken(), past);
    assert.equal(h.server.requests.length, 0);
  });

  it('catches up after sleep: resume() refreshes when timers did not fire', async () => {
    const h = await signedIn();
    h.time.jump(800 * SECOND); // the laptop slept; no timer fired
    assert.equal(h.server.requests.length, 0);
    h.client.resume();
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 1);
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });

  it('hands out the old token inside the lead window and refreshes in the background', async () => {
    const h = await signedIn();
    h.time.jump(800 * SECOND); // inside the lead window, still valid
    assert.equal(await h.client.getAccessToken(), 'at-1');
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 1);
    assert.equal(await h.client.getAccessToken(), 'at-2');
  });
});

describe('single flight', () => {
  it('1,000 concurrent getAccessToken() at expiry → exactly 1 refresh request, all get the new token', async () => {
    const h = await signedIn();
    h.time.jump(901 * SECOND);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => h.client.getAccessToken()));
    assert.equal(h.server.requests.length, 1);
    assert.ok(tokens.every((t) => t === 'at-2'));
    assert.equal(h.count('refreshed'), 1);
  });

  it('single flight holds inside one client even with a coordinator that does not lock', async () => {
    const h = await signedIn({
      coordinator: { withLock: (_name, fn) => fn(), join: () => ({ post() {}, leave() {} }) },
    });
    h.time.jump(901 * SECOND);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => h.client.getAccessToken()));
    assert.equal(h.server.requests.length, 1);
    assert.ok(tokens.every((t) => t === 'at-2'));
  });

  it('concurrent explicit refresh() calls share one request', async () => {
    const h = await signedIn();
    const results = await Promise.all([h.client.refresh(), h.client.refresh(), h.client.refresh()]);
    assert.deepEqual(results, ['at-2', 'at-2', 'at-2']);
    assert.equal(h.server.requests.length, 1);
  });

  it('writes the rotated refresh token to storage before anyone gets the new access token', async () => {
    const inner = memoryStorage();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gated = false;
    const storage: TokenStorage = {
      get: (k) => inner.get(k),
      remove: (k) => inner.remove(k),
      async set(k, v) {
        if (gated) await gate;
        await inner.set(k, v);
      },
    };
    const h = await signedIn({ storage });
    gated = true;
    h.time.jump(901 * SECOND);
    let resolved = false;
    const pending = h.client.getAccessToken().then((t) => {
      resolved = true;
      return t;
    });
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 1);
    assert.equal(resolved, false, 'the token was handed out before the rotated refresh token was stored');
    release();
    assert.equal(await pending, 'at-2');
    assert.match(String(await inner.get('tessera:web')), /"refreshToken":"rt-2"/);
  });

  it('after a lost response, the retry re-sends the SAME refresh token with a fresh nonce (grace gives the same child)', async () => {
    const h = await signedIn();
    h.server.script.push('lost');
    h.time.jump(901 * SECOND);
    await h.client.getAccessToken();
    await h.time.advance(5 * SECOND);
    assert.equal(h.server.requests.length, 2);
    const [first, second] = h.server.requests;
    assert.equal(first?.refreshToken, 'rt-1');
    assert.equal(second?.refreshToken, 'rt-1');
    assert.ok(first?.nonce && second?.nonce && first.nonce !== second.nonce);
    assert.equal(h.server.rotations, 1);
    assert.equal(await h.client.getAccessToken(), 'at-2');
    assert.equal(h.client.state, 'active');
    assert.equal(h.count('sessionExpired'), 0);
  });
});

describe('the token request (standard OAuth)', () => {
  it('public client: form-encoded refresh_token grant with client_id and a nonce', async () => {
    const h = await signedIn();
    await h.client.refresh();
    const r = h.server.requests[0]!;
    assert.equal(r.contentType, 'application/x-www-form-urlencoded');
    assert.equal(r.grantType, 'refresh_token');
    assert.equal(r.refreshToken, 'rt-1');
    assert.equal(r.clientId, 'web');
    assert.equal(r.authorization, null);
    assert.match(r.nonce ?? '', /^[0-9a-f]{32}$/);
  });

  it('confidential client: client_secret_basic with form-encoded credentials, no client_id in the body', async () => {
    const h = await signedIn({ clientId: 'svc:1', clientSecret: 'sé cret' });
    await h.client.refresh();
    const r = h.server.requests[0]!;
    assert.equal(r.clientId, null);
    const decoded = Buffer.from(r.authorization!.replace('Basic ', ''), 'base64').toString();
    assert.equal(decoded, 'svc%3A1:s%C3%A9+cret');
  });

  it('sends no nonce when turned off', async () => {
    const h = await signedIn({ nonce: false });
    await h.client.refresh();
    assert.equal(h.server.requests[0]?.nonce, null);
  });

  it('keeps the refresh token when a server does not rotate', async () => {
    const h = await signedIn({
      fetch: async () => Response.json({ access_token: 'at-x', token_type: 'Bearer', expires_in: 60 }),
    });
    await h.client.refresh();
    await h.client.refresh();
    assert.equal(await h.client.getAccessToken(), 'at-x');
    assert.equal(h.client.state, 'active');
  });
});
