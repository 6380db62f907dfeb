import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_CSRF_HEADER, ENDPOINTS, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import fc from 'fast-check';
import { CANARY } from '../../packages/server/test/helpers/hostile-sweep.js';
import { rawRequest } from '../../packages/server/test/helpers/raw-http.js';
import { refusalProblem } from '../../packages/server/test/helpers/refusal-shape.js';
import {
  basic,
  PASSWORD,
  RS_SECRET,
  SECRET,
  startTestServer,
  type TestServer,
} from '../../packages/server/test/helpers/test-server.js';
import { recordResult, sized } from './support/mode.js';
import { fillPath, type Route, servedRoutes } from './support/routes.js';

/**
 * Hostile input over every route the server serves, the admin API included: the routes come
 * from Fastify's route tree, not from a list, so a route added later is fuzzed the day it lands.
 * Each request is raw bytes on its own connection, built by fast-check from: the route's method
 * or another (lower case, unknown, HEAD, OPTIONS), its path with parameters real (a session, a
 * user, a client), random or hostile (traversal, NUL, invalid UTF-8, 5,000 characters), an odd
 * path shape (trailing slash, doubled slashes, dot segments, upper case, a matrix parameter),
 * a query (random, duplicated, oversized, invalid UTF-8), credentials (none, a signed-in admin
 * with or without its CSRF token and origin, clients' Basic, garbage), any content type and a
 * body (random bytes, invalid UTF-8, JSON and forms over the routes' own field names, duplicated
 * keys, past the 64 KiB limit, a good body with bytes flipped, chunked).
 *
 * Never a 5xx, never a hang, every refusal in the documented shape (which also means it repeats
 * no input and carries no token), no token in any admin API answer at all; the server still
 * answers at the end. The seed is printed: `TESSERA_FUZZ_SEED=<seed>` replays a failure.
 */

const TIMEOUT_MS = 5_000;
const RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? sized(800, 5000));
const TIME_LIMIT_MS = sized(90_000, 600_000);
const ORIGIN_HEADER = 'Origin';

/** Field names the routes read, so random bodies and queries reach past "unknown parameter". */
const FIELDS = [
  'username',
  'password',
  'reason',
  'refresh_token',
  'token',
  'token_type_hint',
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'nonce',
  'limit',
  'cursor',
  'status',
  'user',
  'client',
  'since',
  'after',
  'type',
  'session',
  'q',
];

const HOSTILE_SEGMENTS = [
  '..',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  'a%00b',
  '%C3%28',
  '%ff%fe',
  '%',
  '%zz',
  '%2F',
  '%20',
  'a'.repeat(5_000),
  '0',
  '-1',
  '1e309',
  'null',
  '__proto__',
  'constructor',
  '%E2%80%AE',
  `${CANARY}x`,
];

const TOKEN_SHAPES = [new RegExp(`${REFRESH_TOKEN_PREFIX}[A-Za-z0-9_-]{8}`), /eyJ[A-Za-z0-9_-]{4,}\.eyJ/];

type Auth = 'none' | 'admin' | 'admin-no-csrf' | 'admin-foreign-origin' | 'client' | 'resource' | 'garbage';

/** A request the route accepts: what the fuzz changes one to three things of. */
function baselineOf(route: Route): { auth: Auth; contentType: string | undefined; body: Buffer } {
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  const admin = route.path.startsWith('/admin/api');
  if (route.method === 'GET' || route.method === 'DELETE') {
    const auth: Auth = admin ? 'admin' : route.path === ENDPOINTS.revocationFeed ? 'resource' : 'none';
    return { auth, contentType: undefined, body: Buffer.alloc(0) };
  }
  if (route.path.startsWith('/oauth/')) {
    const form = 'application/x-www-form-urlencoded';
    if (route.path === ENDPOINTS.token)
      return { auth: 'client', contentType: form, body: Buffer.from('grant_type=client_credentials') };
    if (route.path === ENDPOINTS.introspection)
      return { auth: 'resource', contentType: form, body: Buffer.from('token=tsr_unknown') };
    return { auth: 'none', contentType: form, body: Buffer.from('token=tsr_unknown&client_id=web') };
  }
  const credentials = { username: 'alice', password: PASSWORD };
  const body =
    route.path === ENDPOINTS.login
      ? json({ ...credentials, client_id: 'web' })
      : route.path.endsWith('/session')
        ? json(credentials)
        : route.path === ENDPOINTS.refresh || route.path === ENDPOINTS.logout
          ? json({ refresh_token: 'tsr_unknown' })
          : json({ reason: 'fuzzing the admin API' });
  return { auth: admin ? 'admin' : 'none', contentType: 'application/json', body };
}

/** The request to send: the route's good request, with the generated value for each mutated part. */
function settle<
  R extends {
    route: Route;
    mutated: readonly string[];
    realParams: string[];
    method: string;
    params: string[];
    shape: (p: string) => string;
    query: string;
    auth: Auth;
    contentType: string | undefined;
    body: Buffer;
    framing: string;
  },
>(r: R): R {
  const base = baselineOf(r.route);
  const m = new Set(r.mutated);
  return {
    ...r,
    method: m.has('method') ? r.method : r.route.method,
    params: m.has('params') ? r.params : r.realParams,
    shape: m.has('shape') ? r.shape : (p: string) => p,
    query: m.has('query') ? r.query : '',
    auth: m.has('auth') ? r.auth : base.auth,
    contentType: m.has('contentType') ? r.contentType : base.contentType,
    body: m.has('body') ? r.body : base.body,
    framing: m.has('framing') ? r.framing : 'length',
  };
}

describe('chaos: hostile input over every route of the route tree', () => {
  let s: TestServer;
  let port: number;
  let routes: Route[];
  /** Real values for path parameters, so some requests reach the handlers' own checks. */
  const real: Record<string, string[]> = {};
  let admin = { cookie: '', csrf: '' };

  const adminSignIn = async () => {
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: '/admin/api/session',
      headers: { 'content-type': 'application/json', origin: s.url },
      payload: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = String([res.headers['set-cookie']].flat()[0] ?? '').split(';')[0]!;
    admin = { cookie, csrf: JSON.parse(res.body).csrfToken };
  };

  before(async () => {
    s = await startTestServer({ listen: true, config: { loginFailuresPerUser: 0 } });
    port = Number(new URL(s.url).port);
    routes = await servedRoutes(s.tessera.app);
    await adminSignIn();
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const t = await s.login();
      const sid = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).sid;
      sessions.push(String(sid));
    }
    const alice = await s.tessera.ctx.stores.directory.findUserByUsername('alice');
    real.id = [...sessions, alice!.id, 'alice', 'web', 'backend', 'api'];
  });
  after(async () => {
    await s?.close();
  });

  it('covers the whole route tree, the admin API included', () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const path of [...Object.values(ENDPOINTS), '/admin/api/session', '/admin/api/sessions/:id/revoke'])
      assert.ok(paths.has(path), `the route tree has ${path}: ${[...paths].join(' ')}`);
  });

  it('random and mutated requests to every route: no 5xx, no hang, the one shape, no token', async (t) => {
    const seed = Number(process.env.TESSERA_FUZZ_SEED ?? Date.now() % 2 ** 31);
    t.diagnostic(`seed ${seed} (replay: TESSERA_FUZZ_SEED=${seed})`);
    process.stderr.write(`# hostile routes: seed ${seed} (replay: TESSERA_FUZZ_SEED=${seed})\n`);

    const method = (route: Route) =>
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(route.method) },
        {
          weight: 2,
          arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'),
        },
        { weight: 1, arbitrary: fc.constantFrom('FOO', route.method.toLowerCase(), 'CONNECT') },
      );
    const randomSegment = fc.string({ unit: 'grapheme', maxLength: 40 }).map((x) => encodeURIComponent(x));
    const paramValue = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...(real.id ?? ['x'])) },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
      { weight: 2, arbitrary: randomSegment },
    );
    const shape = fc.constantFrom<(p: string) => string>(
      (p) => p,
      (p) => p,
      (p) => p,
      (p) => `${p}/`,
      (p) => p.replace(/\//g, '//'),
      (p) => p.replace(/\/([^/]+)$/, '/./$1'),
      (p) => p.replace(/\/([^/]+)$/, '/x/../$1'),
      (p) => p.toUpperCase(),
      (p) => `${p};jsessionid=1`,
      (p) => `${p}%00`,
      (p) => `${p}/%ff`,
    );
    const queryValue = fc.oneof(
      fc.string({ maxLength: 30 }).map((x) => encodeURIComponent(x)),
      fc.constantFrom('-1', '0', '201', '1e400', '%C3%28', '%ff', '', 'active', 'revoked', `${CANARY}q`),
      fc.integer().map(String),
    );
    const query = fc.oneof(
      { weight: 7, arbitrary: fc.constant('') },
      {
        weight: 3,
        arbitrary: fc
          .array(fc.tuple(fc.constantFrom(...FIELDS), queryValue), { maxLength: 5 })
          .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : '')),
      },
      // Duplicated: the same name twice, with two values.
      { weight: 1, arbitrary: fc.constantFrom(...FIELDS).map((k) => `?${k}=1&${k}=2`) },
      { weight: 1, arbitrary: fc.constant(`?${'limit=1&'.repeat(1_500)}`) },
      { weight: 1, arbitrary: fc.constant(`?q=${'%ff'.repeat(200)}`) },
    );
    type Auth =
      | 'none'
      | 'admin'
      | 'admin-no-csrf'
      | 'admin-foreign-origin'
      | 'client'
      | 'resource'
      | 'garbage';
    const auth = fc.constantFrom<Auth>(
      'none',
      'admin',
      'admin',
      'admin',
      'admin-no-csrf',
      'admin-foreign-origin',
      'client',
      'resource',
      'garbage',
    );
    const contentType = fc.constantFrom(
      undefined,
      'application/json',
      'application/json',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded; charset=latin1',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json, application/json',
      ';;',
      'APPLICATION/JSON',
    );
    const jsonValue = fc.oneof(
      fc.string({ maxLength: 40 }).map((x) => CANARY + x),
      fc.constantFrom(
        'alice',
        PASSWORD,
        'web',
        'a reason',
        '',
        null,
        0,
        -1,
        true,
        [],
        {},
        ['a', 'b'],
        { $gt: '' },
        'x'.repeat(600),
      ),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const fields = fc.dictionary(fc.constantFrom(...FIELDS), jsonValue, { maxKeys: 5 });
    const form = (o: Record<string, unknown>) =>
      Object.entries(o)
        .map(
          ([k, v]) =>
            `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
        )
        .join('&');
    // Bodies a route accepts, so some requests get past parsing to the handlers' own checks.
    const good = [
      JSON.stringify({ reason: 'fuzzing the admin API' }),
      JSON.stringify({ username: 'alice', password: PASSWORD }),
      JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
      'grant_type=client_credentials',
      'token=tsr_unknown&token_type_hint=refresh_token',
    ].map((x) => Buffer.from(x));
    const body = fc.oneof(
      { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
      { weight: 2, arbitrary: fc.constantFrom(...good) },
      { weight: 3, arbitrary: fields.map((o) => Buffer.from(JSON.stringify(o))) },
      { weight: 2, arbitrary: fields.map((o) => Buffer.from(form(o))) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          Buffer.from([
            0x7b, 0x22, 0x72, 0x65, 0x61, 0x73, 0x6f, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
          ]),
          Buffer.from('{"reason":"a","reason":"b"}'),
          Buffer.from('{"username":"alice","username":"bob","password":"x"}'),
          Buffer.from('reason=a&reason=b'),
          Buffer.from('{"__proto__":{"admin":true},"reason":"x"}'),
          Buffer.from('{"reason":"\\ud800"}'),
          Buffer.from('[1,2,3]'),
          Buffer.from('"just a string"'),
          Buffer.from('{"reason":'),
          Buffer.from(`{"reason":"${'x'.repeat(70_000)}"}`),
        ),
      },
      // A good body with bytes flipped.
      {
        weight: 1,
        arbitrary: fc
          .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
          .map((flips) => {
            const b = Buffer.from(JSON.stringify({ username: 'alice', password: PASSWORD, reason: 'fuzz' }));
            for (const [at, value] of flips) b[at % b.length] = value;
            return b;
          }),
      },
    );
    const framing = fc.constantFrom('length', 'length', 'length', 'chunked', 'none');

    // Most requests are a good request of the route with one to three things changed (so they
    // reach deep), the rest are random in everything.
    const kinds = ['method', 'params', 'shape', 'query', 'auth', 'contentType', 'body', 'framing'] as const;
    const mutated = fc.oneof(
      { weight: 4, arbitrary: fc.subarray([...kinds], { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constant([...kinds]) },
    );
    const requests = fc.constantFrom(...routes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        mutated,
        realParams: fc.array(fc.constantFrom(...(real.id ?? ['x'])), {
          minLength: route.params.length,
          maxLength: route.params.length,
        }),
        method: method(route),
        params: fc.array(paramValue, { minLength: route.params.length, maxLength: route.params.length }),
        shape,
        query,
        auth,
        contentType,
        body,
        framing,
      }),
    );

    let tried = 0;
    const statuses: Record<number, number> = {};
    const byRoute: Record<string, Record<number, number>> = {};
    let adminGone = false;
    await fc.assert(
      fc.asyncProperty(requests, async (generated) => {
        tried++;
        const r = settle(generated);
        if (adminGone) {
          await adminSignIn();
          adminGone = false;
        }
        const path = r.shape(fillPath(r.route, (_, i) => r.params[i]!)) + r.query;
        const headers = [`${r.method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
        if (r.auth.startsWith('admin')) {
          headers.push(`Cookie: ${admin.cookie}`);
          if (r.auth !== 'admin-no-csrf') headers.push(`${ADMIN_CSRF_HEADER}: ${admin.csrf}`);
          headers.push(
            `${ORIGIN_HEADER}: ${r.auth === 'admin-foreign-origin' ? 'https://evil.example' : s.url}`,
          );
        } else if (r.auth === 'client') headers.push(`Authorization: ${basic('backend', SECRET)}`);
        else if (r.auth === 'resource') headers.push(`Authorization: ${basic('api', RS_SECRET)}`);
        else if (r.auth === 'garbage')
          headers.push(`Authorization: Bearer ${CANARY}`, `Cookie: tessera_admin=${CANARY}`);
        if (r.contentType !== undefined) headers.push(`Content-Type: ${r.contentType}`);
        if (r.framing === 'length') headers.push(`Content-Length: ${r.body.length}`);
        if (r.framing === 'chunked') headers.push('Transfer-Encoding: chunked');
        headers.push('Connection: close');
        const payload =
          r.framing === 'chunked'
            ? Buffer.concat([
                Buffer.from(`${r.body.length.toString(16)}\r\n`),
                r.body,
                Buffer.from('\r\n0\r\n\r\n'),
              ])
            : r.framing === 'length'
              ? r.body
              : Buffer.alloc(0);
        const raw = Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
        const where = `${r.method} ${path.slice(0, 80)} [${r.route.method} ${r.route.path}] auth ${r.auth}, ${
          r.contentType ?? '(no type)'
        }, ${r.body.length} bytes ${r.framing}: ${r.body.subarray(0, 80).toString('latin1')}`;
        const { answer, timedOut } = await rawRequest(port, raw, TIMEOUT_MS);
        assert.ok(!timedOut, `hung: ${where}`);
        assert.ok(answer, `no answer: ${where}`);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const key = `${r.route.method} ${r.route.path}`;
        byRoute[key] ??= {};
        byRoute[key][answer.status] = (byRoute[key][answer.status] ?? 0) + 1;
        assert.ok(answer.status < 500, `${where}: ${answer.status} ${answer.text.slice(0, 300)}`);
        if (answer.status >= 400 && r.method !== 'HEAD') {
          const problem = refusalProblem(answer, [CANARY]);
          assert.equal(problem, undefined, `${where}: ${problem}; ${answer.text.slice(0, 300)}`);
        }
        if (r.route.path.startsWith('/admin/api')) {
          for (const token of TOKEN_SHAPES)
            assert.doesNotMatch(answer.text, token, `${where}: a token in an admin API answer`);
        }
        // The fuzz signed its admin out (or revoked its own sign-in): sign in again next time.
        if (r.route.path === '/admin/api/session' && r.method === 'DELETE' && answer.status < 300)
          adminGone = true;
        if (r.auth.startsWith('admin') && answer.text.includes('"sign_in_required"')) adminGone = true;
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, seed },
    );
    // Still serving, and every route was tried.
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    const untried = routes.map((r) => `${r.method} ${r.path}`).filter((k) => !byRoute[k]);
    t.diagnostic(`${tried} requests over ${routes.length} routes; statuses ${JSON.stringify(statuses)}`);
    t.diagnostic(`by route: ${JSON.stringify(byRoute)}`);
    if (tried >= RUNS) assert.deepEqual(untried, [], 'every route was tried');
    recordResult('hostile-routes', { tried, routes: routes.length, statuses, seed, untried });
  });
});
