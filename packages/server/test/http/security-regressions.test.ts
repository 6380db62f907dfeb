import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { type RateLimitStore, saveClient } from '../../src/index.js';
import { MemoryRateLimitStore } from '../../src/stores/memory/memory-rate-limit-store.js';
import { assertRefusal } from '../helpers/refusal-shape.js';
import {
  basic,
  PASSWORD,
  RS_SECRET,
  SECRET,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.js';

/**
 * Defects an outside attack catalogue found, each with a test named after it that fails without
 * its fix. docs/security.md says what each rule is and why.
 */

const FORM = 'application/x-www-form-urlencoded';

interface Res {
  status: number;
  text: string;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | number | undefined>;
}

async function send(
  s: TestServer,
  options: {
    method?: 'GET' | 'POST';
    url: string;
    payload?: string;
    headers?: Record<string, string | string[]>;
    ip?: string;
  },
): Promise<Res> {
  const res = await s.tessera.app.inject({
    method: options.method ?? 'POST',
    url: options.url,
    headers: options.headers ?? {},
    ...(options.payload === undefined ? {} : { payload: options.payload }),
    remoteAddress: options.ip ?? '127.0.0.1',
  });
  let body: Record<string, unknown> = {};
  try {
    body = res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>);
  } catch {}
  return { status: res.statusCode, text: res.body, body, headers: res.headers };
}

const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
const postForm = (s: TestServer, url: string, f: Record<string, string>, ip?: string, headers = {}) =>
  send(s, { url, payload: form(f), headers: { 'content-type': FORM, ...headers }, ...(ip ? { ip } : {}) });
const postJson = (s: TestServer, url: string, body: unknown, ip?: string, headers = {}) =>
  send(s, {
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
    ...(ip ? { ip } : {}),
  });

function assertRateLimited(res: Res): void {
  assert.equal(res.status, 429, res.text);
  assert.equal(res.body.error_code, 'rate_limited');
  assertRefusal(res);
}

describe('rate-limit bypass: the refresh exemption covers only a real refresh by its own client', () => {
  it('password-grant guesses that carry a rotated refresh token count against the login limit', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 3, rateLimitLogin: 3 } });
    try {
      // The attacker's own session, refreshed once: its first token is now in its grace period.
      const own = await s.login();
      const rotated = own.refresh_token!;
      assert.equal((await s.refresh(rotated, {})).status, 200);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await postForm(
          s,
          ENDPOINTS.token,
          {
            grant_type: 'password',
            client_id: 'backend',
            client_secret: SECRET,
            username: `guess-${i}`,
            password: 'not the password',
            refresh_token: rotated,
          },
          '10.9.9.9',
        );
        statuses.push(res.status);
        if (res.status === 429) assertRateLimited(res);
      }
      // The first login-limit budget of 3, then refused; before, all six ran (six scrypt hashes).
      assert.deepEqual(statuses, [400, 400, 400, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('the password grant is charged to the login limit, not the refresh limit', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 2, rateLimitLogin: 10 } });
    try {
      const guess = () =>
        postForm(
          s,
          ENDPOINTS.token,
          { grant_type: 'password', username: 'alice', password: 'wrong password' },
          '10.9.0.1',
          { authorization: basic('backend', SECRET) },
        );
      for (let i = 0; i < 5; i++) assert.equal((await guess()).status, 400, `guess ${i + 1}`);
      // The refresh budget of that IP is untouched by them.
      const login = await s.login();
      const refresh = (token: string) =>
        postForm(
          s,
          ENDPOINTS.token,
          { grant_type: 'refresh_token', client_id: 'web', refresh_token: token },
          '10.9.0.1',
        );
      const first = await refresh(login.refresh_token!);
      assert.equal(first.status, 200, first.text);
    } finally {
      await s.close();
    }
  });

  it('another client presenting a rotated token, or the token on another grant, is counted', async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 3 } });
    try {
      const own = await s.login();
      assert.equal((await s.refresh(own.refresh_token!)).status, 200);
      // `mobile` presents web's rotated token: client_mismatch, and counted each time.
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await postForm(
          s,
          ENDPOINTS.token,
          { grant_type: 'refresh_token', client_id: 'mobile', refresh_token: own.refresh_token! },
          '10.8.0.1',
        );
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [400, 400, 400, 429, 429]);
      // An unsupported grant carrying the token is counted too.
      const other: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await postForm(
          s,
          ENDPOINTS.token,
          { grant_type: 'client_credentials', client_id: 'web', refresh_token: own.refresh_token! },
          '10.8.0.2',
        );
        other.push(res.status);
      }
      assert.deepEqual(other, [400, 400, 400, 429]);
      // And at the first-party route, a request naming another client than the token's.
      const firstParty: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await postJson(
          s,
          ENDPOINTS.refresh,
          { refresh_token: own.refresh_token!, client_id: 'mobile' },
          '10.8.0.3',
        );
        firstParty.push(res.status);
      }
      assert.deepEqual(firstParty, [400, 400, 400, 429]);
    } finally {
      await s.close();
    }
  });

  it('concurrent refreshes of one token stay exempt however slowly the rate-limit store answers', async () => {
    // A shared store answers over the network: here each count takes a few turns of the event
    // loop, during which the other requests arrive.
    const memory = new MemoryRateLimitStore();
    const turns = async () => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const slow: RateLimitStore = {
      hit: async (key, windowMs, now) => {
        await turns();
        return memory.hit(key, windowMs, now);
      },
      peek: async (key, now) => {
        await turns();
        return memory.peek(key, now);
      },
      reset: (key) => memory.reset(key),
    };
    const s = await startTestServer({ config: { rateLimitRefresh: 5 }, listen: true, rateLimitStore: slow });
    try {
      const own = await s.login();
      const body = form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: own.refresh_token! });
      const results = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await fetch(`${s.url}${ENDPOINTS.token}`, {
            method: 'POST',
            headers: { 'content-type': FORM },
            body,
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        }),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array(50).fill(200),
        JSON.stringify(results.find((r) => r.status !== 200)?.body),
      );
      assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
    } finally {
      await s.close();
    }
  });

  it("the owner's grace retries, over both routes, stay exempt", async () => {
    const s = await startTestServer({ config: { rateLimitRefresh: 2 } });
    try {
      const own = await s.login();
      const first = await s.refresh(own.refresh_token!);
      assert.equal(first.status, 200);
      for (let i = 0; i < 10; i++) {
        const retry = await s.refresh(own.refresh_token!);
        assert.equal(retry.status, 200, `grace retry ${i + 1}: ${JSON.stringify(retry.body)}`);
        assert.equal(retry.body.refresh_token, first.body.refresh_token);
        const api = await postJson(s, ENDPOINTS.refresh, { refresh_token: own.refresh_token! });
        assert.equal(api.status, 200, `first-party grace retry ${i + 1}: ${api.text}`);
      }
    } finally {
      await s.close();
    }
  });
});

describe('any scope by default: a client gets only the scopes it was registered with', () => {
  it('a client without configured scopes gets only its default scope; anything else is invalid_scope', async () => {
    const s = await startTestServer();
    try {
      const ask = (clientId: string, scope: string) =>
        postJson(s, ENDPOINTS.login, { username: 'alice', password: PASSWORD, client_id: clientId, scope });
      // `web` has the default scope "openid profile" and no allowed scopes.
      const escalate = await ask('web', 'admin orders:write');
      assert.equal(escalate.status, 400, escalate.text);
      assert.equal(escalate.body.error, 'invalid_scope');
      assertRefusal(escalate, ['orders:write']);
      const narrower = await ask('web', 'openid');
      assert.equal(narrower.status, 200, narrower.text);
      assert.equal(narrower.body.scope, 'openid');
      // `mobile` has no scopes at all: it may request none.
      const none = await ask('mobile', 'admin');
      assert.equal(none.body.error, 'invalid_scope');
      const plain = await postJson(s, ENDPOINTS.login, {
        username: 'alice',
        password: PASSWORD,
        client_id: 'mobile',
      });
      assert.equal(plain.body.scope, '');
      // The other grants follow the same rule.
      const cc = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'client_credentials', scope: 'admin' },
        undefined,
        { authorization: basic('backend', SECRET) },
      );
      assert.equal(cc.body.error, 'invalid_scope');
      const pw = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'admin' },
        undefined,
        { authorization: basic('backend', SECRET) },
      );
      assert.equal(pw.body.error, 'invalid_scope');
    } finally {
      await s.close();
    }
  });

  it('allowed scopes and the default scope are what a client may request', async () => {
    const s = await startTestServer();
    try {
      await saveClient(s.tessera.ctx, {
        id: 'shop',
        public: true,
        allowedScopes: ['orders:read'],
        defaultScope: 'openid',
      });
      const ask = (scope: string) =>
        postJson(s, ENDPOINTS.login, { username: 'alice', password: PASSWORD, client_id: 'shop', scope });
      assert.equal((await ask('openid orders:read')).body.scope, 'openid orders:read');
      assert.equal((await ask('orders:write')).body.error, 'invalid_scope');
    } finally {
      await s.close();
    }
  });
});

describe('client-secret guessing: failed client authentication is limited per client id and per IP', () => {
  /** Every endpoint that authenticates clients, each sending `secret` for `clientId`. */
  const endpoints: Record<
    string,
    (s: TestServer, clientId: string, secret: string, ip: string) => Promise<Res>
  > = {
    token: (s, id, secret, ip) =>
      postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'client_credentials', client_id: id, client_secret: secret },
        ip,
      ),
    introspect: (s, id, secret, ip) =>
      postForm(s, ENDPOINTS.introspection, { token: 'x' }, ip, { authorization: basic(id, secret) }),
    revoke: (s, id, secret, ip) =>
      postForm(s, ENDPOINTS.revocation, { token: 'x', client_id: id, client_secret: secret }, ip),
    revocations: (s, id, secret, ip) =>
      send(s, {
        method: 'GET',
        url: ENDPOINTS.revocationFeed,
        headers: { authorization: basic(id, secret) },
        ip,
      }),
    login: (s, id, secret, ip) =>
      postJson(
        s,
        ENDPOINTS.login,
        { username: 'alice', password: PASSWORD, client_id: id, client_secret: secret },
        ip,
      ),
    refresh: (s, id, secret, ip) =>
      postJson(s, ENDPOINTS.refresh, { refresh_token: 'tsr_x', client_id: id, client_secret: secret }, ip),
    logout: (s, id, secret, ip) =>
      postJson(s, ENDPOINTS.logout, { refresh_token: 'tsr_x', client_id: id, client_secret: secret }, ip),
  };

  it('on every endpoint: past the limit, rate_limited with Retry-After, even for the right secret', async () => {
    const s = await startTestServer({ config: { rateLimitClientAuth: 3 } });
    try {
      let n = 0;
      for (const [name, call] of Object.entries(endpoints)) {
        n++;
        const id = `svc-${name}`;
        const secret = `the-right-secret-of-${name}-0123456789`;
        await saveClient(s.tessera.ctx, {
          id,
          public: false,
          secret,
          grantTypes: ['refresh_token', 'client_credentials'],
          introspectAny: true,
        });
        const ip = `10.7.${n}.1`;
        const right = await call(s, id, secret, ip);
        assert.notEqual(right.status, 401, `${name}: the right secret works (${right.text})`);
        for (let i = 0; i < 3; i++) {
          const wrong = await call(s, id, `wrong-guess-${i}-0123456789`, ip);
          // Logout says nothing about a refused client (204); the others answer invalid_client.
          assert.ok(
            wrong.status === 401 || (name === 'logout' && wrong.status === 204),
            `${name} guess ${i + 1}: ${wrong.status}`,
          );
        }
        assertRateLimited(await call(s, id, 'wrong-guess-4-0123456789', ip));
        // The right secret is refused too, so a lucky guess past the limit tells nothing.
        const blocked = await call(s, id, secret, ip);
        assertRateLimited(blocked);
        assert.ok(Number(blocked.headers['retry-after']) <= 60);
        // Per client id: another IP is refused for this client as well.
        assertRateLimited(await call(s, id, secret, `10.7.${n}.2`));
      }
      // A minute later the windows have ended.
      s.clock.advance(60_000);
      assert.equal(
        (
          await endpoints.introspect!(
            s,
            'svc-introspect',
            'the-right-secret-of-introspect-0123456789',
            '10.7.2.1',
          )
        ).status,
        200,
      );
    } finally {
      await s.close();
    }
  });

  it('per IP: guesses spread over many client ids, known or not, are limited too', async () => {
    const s = await startTestServer({ config: { rateLimitClientAuth: 3 } });
    try {
      const ip = '10.6.0.1';
      const statuses: number[] = [];
      for (const id of ['backend', 'api', 'nobody-1', 'nobody-2', 'nobody-3']) {
        statuses.push((await endpoints.introspect!(s, id, 'wrong-guess-0123456789', ip)).status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      // The resource server, from its own address, is not affected by another IP's guesses
      // at other clients.
      assert.equal((await endpoints.introspect!(s, 'api', RS_SECRET, '10.6.0.2')).status, 200);
    } finally {
      await s.close();
    }
  });

  it('50 concurrent guesses at one client: exactly the limit of them are judged, the rest refused', async () => {
    const s = await startTestServer({ config: { rateLimitClientAuth: 3 }, listen: true });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await fetch(`${s.url}${ENDPOINTS.introspection}`, {
            method: 'POST',
            headers: { 'content-type': FORM, authorization: basic('api', `wrong-guess-${i}-0123456789`) },
            body: form({ token: 'x' }),
          });
          return res.status;
        }),
      );
      assert.equal(statuses.filter((x) => x === 401).length, 3, JSON.stringify(statuses));
      assert.equal(statuses.filter((x) => x === 429).length, 47);
    } finally {
      await s.close();
    }
  });

  it('0 turns the limit off', async () => {
    const s = await startTestServer({ config: { rateLimitClientAuth: 0 } });
    try {
      for (let i = 0; i < 20; i++) {
        assert.equal(
          (await endpoints.introspect!(s, 'api', 'wrong-guess-0123456789', '10.5.0.1')).status,
          401,
        );
      }
    } finally {
      await s.close();
    }
  });
});

describe('smaller defects', () => {
  it('media types are case-insensitive: Application/JSON and a form in capitals are read', async () => {
    const s = await startTestServer();
    try {
      const login = await send(s, {
        url: ENDPOINTS.login,
        payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
        headers: { 'content-type': 'Application/JSON; Charset=UTF-8' },
      });
      assert.equal(login.status, 200, login.text);
      const refreshed = await send(s, {
        url: ENDPOINTS.token,
        payload: form({
          grant_type: 'refresh_token',
          client_id: 'web',
          refresh_token: String(login.body.refresh_token),
        }),
        headers: { 'content-type': 'APPLICATION/X-WWW-FORM-URLENCODED' },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
    } finally {
      await s.close();
    }
  });

  it('logout with only Authorization: Bearer (no body) ends the session', async () => {
    const s = await startTestServer();
    try {
      const tokens = await s.login();
      const res = await send(s, {
        url: ENDPOINTS.logout,
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(res.status, 204, res.text);
      assert.equal((await s.refresh(tokens.refresh_token!)).body.error_code, 'token_revoked');
    } finally {
      await s.close();
    }
  });

  it('a repeated Authorization header is refused, not read as its first value', async () => {
    const s = await startTestServer();
    try {
      const res = await send(s, {
        url: ENDPOINTS.introspection,
        payload: form({ token: 'x' }),
        headers: { 'content-type': FORM, authorization: [basic('api', RS_SECRET), basic('x', 'y')] },
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error_code, 'invalid_request');
      assertRefusal(res);
    } finally {
      await s.close();
    }
  });

  it('error descriptions echo nothing the client chose: path, grant_type, parameter names', async () => {
    const s = await startTestServer();
    try {
      const marker = 'zqxMarker7f3';
      const answers = [
        await send(s, { method: 'GET', url: `/no/such/${marker}` }),
        await postForm(s, ENDPOINTS.token, { grant_type: `evil-${marker}`, client_id: 'web' }),
        await send(s, {
          url: ENDPOINTS.token,
          payload: `grant_type=refresh_token&${marker}=1&${marker}=2`,
          headers: { 'content-type': FORM },
        }),
        await send(s, {
          url: ENDPOINTS.login,
          payload: `{"${marker}":1}`,
          headers: { 'content-type': 'application/json' },
        }),
      ];
      for (const res of answers) {
        assert.ok(res.status >= 400, res.text);
        assertRefusal(res, [marker]);
      }
    } finally {
      await s.close();
    }
  });
});
