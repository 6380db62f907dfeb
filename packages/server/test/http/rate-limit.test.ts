import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { createUser } from '../../src/index.js';
import { PASSWORD, SECRET, startTestServer, type TestServer } from '../helpers/test-server.js';

/** Signs alice in through the helper; the login response always carries a refresh token. */
async function signIn(s: TestServer, clientId = 'web') {
  const t = await s.login(clientId);
  assert.ok(t.refresh_token, 'login returns a refresh token');
  return { ...t, refresh_token: t.refresh_token };
}

interface Res {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

async function post(
  s: TestServer,
  url: string,
  payload: string,
  contentType: string,
  remoteAddress = '127.0.0.1',
): Promise<Res> {
  const res = await s.tessera.app.inject({
    method: 'POST',
    url,
    payload,
    remoteAddress,
    headers: { 'content-type': contentType },
  });
  return {
    status: res.statusCode,
    body: res.body === '' ? undefined : JSON.parse(res.body),
    headers: res.headers,
  };
}

const login = (s: TestServer, username: string, password: string, ip?: string) =>
  post(s, ENDPOINTS.login, JSON.stringify({ username, password, client_id: 'web' }), 'application/json', ip);
const refresh = (s: TestServer, refreshToken: string, ip?: string) =>
  post(
    s,
    ENDPOINTS.token,
    new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: 'web',
      refresh_token: refreshToken,
    }).toString(),
    'application/x-www-form-urlencoded',
    ip,
  );

function assertRateLimited(res: Res): void {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_code', 'error_description', 'retryable']);
  assert.equal(res.body.error, 'temporarily_unavailable');
  assert.equal(res.body.error_code, 'rate_limited');
  assert.equal(res.body.retryable, true);
  assert.equal(res.headers['cache-control'], 'no-store');
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
}

describe('rate limits', () => {
  it('the login limit per IP: the 4th login in a minute gets 429 rate_limited with Retry-After', async () => {
    const s = await startTestServer({ config: { rateLimitLogin: 3 } });
    try {
      assert.equal((await login(s, 'alice', PASSWORD)).status, 200);
      assert.equal((await login(s, 'alice', 'wrong password!')).status, 401, 'failed logins count too');
      assert.equal((await login(s, 'alice', PASSWORD)).status, 200);
      const fourth = await login(s, 'alice', PASSWORD);
      assertRateLimited(fourth);
      assert.ok(Number(fourth.headers['retry-after']) <= 60);
      // Another IP has its own budget.
      assert.equal((await login(s, 'alice', PASSWORD, '10.0.0.7')).status, 200);
      // The refresh endpoint is not charged for logins.
      const tokens = await login(s, 'alice', PASSWORD, '10.0.0.8');
      assert.equal((await refresh(s, tokens.body.refresh_token)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('per-user lockout after loginFailuresPerUser failures, lifted after the window', async () => {
    const s = await startTestServer({ config: { loginFailuresPerUser: 3, loginLockoutWindow: 900 } });
    try {
      await createUser(s.tessera.ctx, { username: 'bob', password: 'bob password 123' });
      // Failures from different IPs all count against the username.
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
        const res = await login(s, 'alice', 'wrong password!', ip);
        assert.equal(res.status, 401);
        assert.equal(res.body.error_code, 'invalid_credentials');
      }
      // Now even the right password is refused, without being checked, and the case of the name does not matter.
      const locked = await login(s, 'alice', PASSWORD, '10.0.0.4');
      assertRateLimited(locked);
      assertRateLimited(await login(s, 'ALICE', PASSWORD, '10.0.0.5'));
      const retryAfter = Number(locked.headers['retry-after']);
      assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter} is about the window`);
      // The password grant shares the lockout.
      const grant = await post(
        s,
        ENDPOINTS.token,
        new URLSearchParams({
          grant_type: 'password',
          client_id: 'backend',
          client_secret: SECRET,
          username: 'alice',
          password: PASSWORD,
        }).toString(),
        'application/x-www-form-urlencoded',
      );
      assertRateLimited(grant);
      // Another user is not affected.
      assert.equal((await login(s, 'bob', 'bob password 123')).status, 200);

      s.clock.advance(900_000 + 1000);
      assert.equal((await login(s, 'alice', PASSWORD)).status, 200, 'the lockout ends with its window');
    } finally {
      await s.close();
    }
  });

  it('a success resets the failure count', async () => {
    const s = await startTestServer({ config: { loginFailuresPerUser: 3 } });
    try {
      for (let round = 0; round < 3; round++) {
        assert.equal((await login(s, 'alice', 'wrong password!')).status, 401);
        assert.equal((await login(s, 'alice', 'wrong password!')).status, 401);
        assert.equal((await login(s, 'alice', PASSWORD)).status, 200);
      }
    } finally {
      await s.close();
    }
  });

  it('50 concurrent refreshes of one token all succeed with identical tokens and count once', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 5 } });
    try {
      const tokens = await signIn(s);
      const results = await Promise.all(Array.from({ length: 50 }, () => refresh(s, tokens.refresh_token)));
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      const first = results[0]!.body;
      for (const r of results) {
        assert.equal(r.body.access_token, first.access_token);
        assert.equal(r.body.refresh_token, first.refresh_token);
      }
      // Grace-period retries of the same parent are free too.
      for (let i = 0; i < 10; i++) {
        const retry = await refresh(s, tokens.refresh_token);
        assert.equal(retry.status, 200);
        assert.equal(retry.body.refresh_token, first.refresh_token);
      }
      // Only the first of the 50 was counted: 4 more distinct refreshes fit in the budget of 5, the next does not.
      let current = first.refresh_token as string;
      for (let i = 0; i < 4; i++) {
        const next = await refresh(s, current);
        assert.equal(next.status, 200, `distinct refresh ${i + 2}: ${JSON.stringify(next.body)}`);
        current = next.body.refresh_token;
      }
      assertRateLimited(await refresh(s, current));
    } finally {
      await s.close();
    }
  });

  it('over real HTTP too: 50 concurrent refreshes of one token pass a limit of 5, all with one answer', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 5 }, listen: true });
    try {
      const tokens = await signIn(s);
      const body = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: tokens.refresh_token,
      }).toString();
      const results = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await fetch(`${s.url}${ENDPOINTS.token}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          return { status: res.status, body: (await res.json()) as any };
        }),
      );
      const statuses = results.map((r) => r.status);
      assert.deepEqual(
        statuses,
        Array(50).fill(200),
        JSON.stringify(results.find((r) => r.status !== 200)?.body),
      );
      assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
      assert.equal(new Set(results.map((r) => r.body.access_token)).size, 1);
    } finally {
      await s.close();
    }
  });

  it('6 distinct refreshes in a minute from one IP hit a limit of 5', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 5 } });
    try {
      const sessions = [];
      for (let i = 0; i < 6; i++) sessions.push(await signIn(s));
      for (let i = 0; i < 5; i++) {
        const res = await refresh(s, sessions[i]!.refresh_token);
        assert.equal(res.status, 200, `refresh ${i + 1}`);
      }
      const sixth = await refresh(s, sessions[5]!.refresh_token);
      assertRateLimited(sixth);
      // The refused request did not rotate anything: the token still works from another IP.
      const elsewhere = await refresh(s, sessions[5]!.refresh_token, '10.1.1.1');
      assert.equal(elsewhere.status, 200);
      // The JSON refresh endpoint is limited as well.
      const api = await post(
        s,
        ENDPOINTS.refresh,
        JSON.stringify({ refresh_token: elsewhere.body.refresh_token }),
        'application/json',
        '10.1.1.1',
      );
      assert.equal(api.status, 200);
      for (let i = 0; i < 5; i++) {
        const fresh = await signIn(s);
        await post(
          s,
          ENDPOINTS.refresh,
          JSON.stringify({ refresh_token: fresh.refresh_token }),
          'application/json',
          '10.2.2.2',
        );
      }
      const fresh = await signIn(s);
      assertRateLimited(
        await post(
          s,
          ENDPOINTS.refresh,
          JSON.stringify({ refresh_token: fresh.refresh_token }),
          'application/json',
          '10.2.2.2',
        ),
      );
    } finally {
      await s.close();
    }
  });
});
