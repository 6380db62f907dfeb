import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS } from '@tessera/protocol';
import fc from 'fast-check';
import { saveClient } from '../../src/index.js';
import {
  buildRequest,
  CANARY,
  describeProbe,
  type Endpoint,
  HOSTILE_VALUES,
  type Probe,
  probesOf,
  summarize,
  sweep,
} from '../helpers/hostile-sweep.js';
import { rawRequest } from '../helpers/raw-http.js';
import { recordFuzz } from '../helpers/record-fuzz.js';
import { refusalProblem } from '../helpers/refusal-shape.js';
import {
  basic,
  freePort,
  PASSWORD,
  RS_SECRET,
  SECRET,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.js';

/**
 * The two suites that found the most in an outside attack catalogue, kept here so what they
 * found stays fixed: a systematic sweep of hostile values over every parameter of every
 * endpoint, and "every refusal has the documented shape, repeats no input and carries no token"
 * as a property over all of their answers (and over random values, with fast-check).
 */

const TIMEOUT_MS = 5_000;
const DEADLINE_MS = 150_000;

/** Every route the app serves (as the README's endpoint test reads them), without HEAD/OPTIONS. */
async function servedRoutes(s: TestServer): Promise<string[]> {
  await s.tessera.app.ready();
  const tree = s.tessera.app.printRoutes({ commonPrefix: false });
  // A nested line continues the path of the line above it at one level less of indentation.
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = line.match(/^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = `${stack.join('')}${m[2]}`;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD' && x !== 'OPTIONS')) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

/** Fresh sessions for the baselines, so one endpoint's probes cannot end another's session. */
async function endpointsFor(s: TestServer): Promise<Endpoint[]> {
  const session = async () => {
    const t = await s.login();
    return { refresh: t.refresh_token!, access: t.access_token };
  };
  const [forRefresh, forJsonRefresh, forRevoke, forLogout, forBearer, forIntrospect] = await Promise.all(
    Array.from({ length: 6 }, session),
  );
  await saveClient(s.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
  const spa = await s.tessera.app.inject({
    method: 'POST',
    url: ENDPOINTS.login,
    headers: { 'content-type': 'application/json', [CSRF_HEADER]: CSRF_HEADER_VALUE },
    payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'spa' }),
  });
  const cookie = (spa.cookies as { name: string; value: string }[]).find(
    (c) => c.name === 'tessera_rt',
  )!.value;
  const csrf = { [CSRF_HEADER.toLowerCase()]: CSRF_HEADER_VALUE };
  const headers = (...names: string[]) => names.map((name) => ({ kind: 'header' as const, name }));
  const body = (...names: string[]) => names.map((name) => ({ kind: 'body' as const, name }));
  const query = { kind: 'query' as const, name: 'q' };
  const common = [...headers('host', 'user-agent', 'x-forwarded-for'), query];
  const form = (params: Record<string, string>) => ({ type: 'form' as const, params });
  const json = (params: Record<string, string>) => ({ type: 'json' as const, params });
  return [
    {
      name: 'token (refresh grant)',
      method: 'POST',
      path: ENDPOINTS.token,
      body: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: forRefresh!.refresh }),
      sweep: [
        ...body('grant_type', 'client_id', 'client_secret', 'refresh_token', 'scope', 'nonce'),
        ...headers('authorization', 'content-type', 'dpop'),
        ...common,
      ],
    },
    {
      name: 'token (password grant)',
      method: 'POST',
      path: ENDPOINTS.token,
      headers: { authorization: basic('backend', SECRET) },
      body: form({ grant_type: 'password', username: 'alice', password: PASSWORD }),
      sweep: [...body('username', 'password', 'scope', 'client_id'), ...headers('authorization')],
    },
    {
      name: 'token (client_credentials grant)',
      method: 'POST',
      path: ENDPOINTS.token,
      headers: { authorization: basic('backend', SECRET) },
      body: form({ grant_type: 'client_credentials' }),
      sweep: [...body('scope', 'client_secret'), ...headers('authorization')],
    },
    {
      name: 'revoke',
      method: 'POST',
      path: ENDPOINTS.revocation,
      body: form({ token: forRevoke!.refresh, token_type_hint: 'refresh_token', client_id: 'web' }),
      sweep: [
        ...body('token', 'token_type_hint', 'client_id', 'client_secret'),
        ...headers('authorization', 'content-type'),
        ...common,
      ],
    },
    {
      name: 'introspect',
      method: 'POST',
      path: ENDPOINTS.introspection,
      headers: { authorization: basic('api', RS_SECRET) },
      body: form({ token: forIntrospect!.access }),
      sweep: [
        ...body('token', 'token_type_hint', 'client_id'),
        ...headers('authorization', 'content-type'),
        ...common,
      ],
    },
    {
      name: 'revocation feed',
      method: 'GET',
      path: ENDPOINTS.revocationFeed,
      headers: { authorization: basic('api', RS_SECRET), accept: 'application/json' },
      sweep: [
        ...headers('authorization', 'accept', 'last-event-id'),
        { kind: 'query', name: 'after' },
        ...common,
      ],
    },
    {
      name: 'login',
      method: 'POST',
      path: ENDPOINTS.login,
      body: json({ username: 'alice', password: PASSWORD, client_id: 'web' }),
      sweep: [
        ...body('username', 'password', 'client_id', 'client_secret', 'scope'),
        ...headers('content-type', 'authorization', CSRF_HEADER.toLowerCase(), 'origin'),
        ...common,
      ],
    },
    {
      name: 'login (cookie mode)',
      method: 'POST',
      path: ENDPOINTS.login,
      headers: csrf,
      body: json({ username: 'alice', password: PASSWORD, client_id: 'spa' }),
      sweep: headers(CSRF_HEADER.toLowerCase(), 'origin', 'sec-fetch-site', 'cookie'),
    },
    {
      name: 'refresh (JSON)',
      method: 'POST',
      path: ENDPOINTS.refresh,
      body: json({ refresh_token: forJsonRefresh!.refresh }),
      sweep: [
        ...body('refresh_token', 'client_id', 'client_secret', 'nonce', 'scope'),
        ...headers('content-type', 'authorization', 'cookie'),
        ...common,
      ],
    },
    {
      name: 'refresh (cookie mode)',
      method: 'POST',
      path: ENDPOINTS.refresh,
      headers: { ...csrf, cookie: `tessera_rt=${cookie}` },
      body: json({}),
      sweep: headers('cookie', CSRF_HEADER.toLowerCase(), 'origin', 'sec-fetch-site'),
    },
    {
      name: 'logout (refresh token)',
      method: 'POST',
      path: ENDPOINTS.logout,
      body: json({ refresh_token: forLogout!.refresh }),
      sweep: [
        ...body('refresh_token', 'client_id', 'client_secret'),
        ...headers('content-type', 'cookie'),
        ...common,
      ],
    },
    {
      name: 'logout (Bearer)',
      method: 'POST',
      path: ENDPOINTS.logout,
      headers: { authorization: `Bearer ${forBearer!.access}` },
      sweep: [...headers('authorization', CSRF_HEADER.toLowerCase()), query],
    },
    {
      name: 'metadata',
      method: 'GET',
      path: ENDPOINTS.metadata,
      sweep: [...headers('accept', 'if-none-match'), ...common],
    },
    {
      name: 'jwks',
      method: 'GET',
      path: ENDPOINTS.jwks,
      sweep: [...headers('accept', 'if-none-match'), ...common],
    },
    {
      name: 'openapi',
      method: 'GET',
      path: '/openapi.json',
      sweep: [...headers('accept', 'if-none-match'), ...common],
    },
    { name: 'healthz', method: 'GET', path: '/healthz', sweep: common },
    { name: 'readyz', method: 'GET', path: '/readyz', sweep: common },
    {
      name: 'metrics',
      method: 'GET',
      path: '/metrics',
      sweep: [...headers('authorization', 'forwarded'), ...common],
    },
    {
      name: 'any other path',
      method: 'GET',
      path: '/oauth/x',
      sweep: [{ kind: 'path', name: 'last segment' }],
    },
    {
      name: 'any other path (POST)',
      method: 'POST',
      path: '/api/x',
      body: json({}),
      sweep: [{ kind: 'path', name: 'last segment' }],
    },
  ];
}

describe('hostile sweep: every parameter of every endpoint', () => {
  let s: TestServer;
  let port: number;
  let endpoints: Endpoint[];
  before(async () => {
    // No limits and no lockout: every probe must reach the code it is aimed at.
    s = await startTestServer({ listen: true, config: { loginFailuresPerUser: 0 } });
    port = Number(new URL(s.url).port);
    endpoints = await endpointsFor(s);
  });
  after(async () => {
    await s.close();
  });

  it('covers every route the server serves', async () => {
    const swept = new Set(endpoints.map((e) => `${e.method} ${e.path}`));
    for (const route of await servedRoutes(s)) {
      // The admin API has its own document (/admin/api/openapi.json) and its own tests
      // (test/admin/), and the dashboard's pages under /admin are static files that read no
      // parameter (test/admin/admin-static.test.ts); this sweep holds the authorization
      // server's endpoints to /openapi.json. Every route of the tree, the admin API's and the
      // dashboard's included, is fuzzed by test/chaos/hostile-routes.
      if (route.split(' ')[1]?.startsWith('/admin')) continue;
      assert.ok(swept.has(route), `the sweep lacks ${route}`);
    }
  });

  it('the baselines are accepted, so each probe changes one thing of a good request', async () => {
    for (const endpoint of endpoints.filter((e) => !e.name.startsWith('any other'))) {
      const probe: Probe = {
        endpoint,
        parameter: { kind: 'header', name: 'x-sweep' },
        value: { label: 'baseline', value: 'ok' },
      };
      const { answer } = await rawRequest(port, buildRequest(probe, `127.0.0.1:${port}`), TIMEOUT_MS);
      assert.ok(
        answer && answer.status < 300,
        `${endpoint.name}: ${answer?.status} ${answer?.text.slice(0, 200)}`,
      );
    }
  });

  it('every value in every parameter: an answer in time, no 5xx, every refusal in the documented shape', async (t) => {
    const probes = probesOf(endpoints);
    const report = await sweep(probes, {
      port,
      timeoutMs: TIMEOUT_MS,
      deadlineMs: DEADLINE_MS,
      concurrency: 4,
    });
    t.diagnostic(summarize(report, 0));
    assert.equal(report.unfinished, 0, summarize(report));
    assert.equal(report.tried, probes.length);
    assert.deepEqual(report.hung, [], summarize(report));
    assert.deepEqual(report.failures, [], summarize(report));
    // The sweep reached deep enough to matter: refusals of many kinds, and successes.
    assert.ok(Object.keys(report.statuses).length >= 6, JSON.stringify(report.statuses));
  });

  it('random values (fast-check) in every parameter obey the same rules', async () => {
    const parameters = endpoints.flatMap((endpoint) =>
      endpoint.sweep.map((parameter) => ({ endpoint, parameter })),
    );
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...parameters),
        value,
        fc.boolean(),
        async ({ endpoint, parameter }, text, raw) => {
          const probe: Probe = {
            endpoint,
            parameter,
            value: { label: JSON.stringify(text.slice(0, 60)), value: `${CANARY}${text}`, raw },
          };
          const { answer, timedOut } = await rawRequest(
            port,
            buildRequest(probe, `127.0.0.1:${port}`),
            TIMEOUT_MS,
          );
          assert.ok(!timedOut, `hung: ${describeProbe(probe)}`);
          assert.ok(answer, `no answer: ${describeProbe(probe)}`);
          assert.ok(
            answer.status < 500,
            `${describeProbe(probe)}: ${answer.status} ${answer.text.slice(0, 200)}`,
          );
          if (answer.status >= 400) {
            const problem = refusalProblem(answer, [CANARY]);
            assert.equal(problem, undefined, `${describeProbe(probe)}: ${problem}`);
          }
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 60_000, seed: 424_242 },
    );
  });
});

/**
 * Whole requests mutated at random (fast-check): any method, a known or odd path, any content
 * type, random bytes as the body (invalid UTF-8 included), duplicated and oversized parameters,
 * a valid request with bytes flipped. Each is raw bytes on its own connection. The rule is the
 * sweep's: an answer in time, never a 5xx, every refusal in the documented shape, never a token
 * in a refusal. The seed is printed, so a failure replays with `TESSERA_FUZZ_SEED=<seed>`.
 */
describe('hostile sweep: whole requests mutated at random', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startTestServer({ listen: true, config: { loginFailuresPerUser: 0 } });
    port = Number(new URL(s.url).port);
  });
  after(async () => {
    await s.close();
  });

  it('any method, path, content type and body: no 5xx, no hang, the one shape, no token', async (t) => {
    const refreshToken = (await s.login()).refresh_token!;
    const seed = Number(process.env.TESSERA_FUZZ_SEED ?? Date.now() % 2 ** 31);
    t.diagnostic(`seed ${seed} (replay: TESSERA_FUZZ_SEED=${seed})`);
    const paths = [
      ...Object.values(ENDPOINTS),
      '/openapi.json',
      '/healthz',
      '/readyz',
      '/metrics',
      '/',
      '//oauth//token',
      '/oauth/token/',
      '/oauth/./token',
      '/oauth/%2e%2e/oauth/token',
      '/oauth/token%00',
      '/oauth/%C3%28',
      '/oauth/%ff%fe',
      `/${'a'.repeat(9000)}`,
      '/oauth/token?grant_type=refresh_token&grant_type=password',
      `/oauth/token?${'x=1&'.repeat(2000)}`,
      '*',
      'http://127.0.0.1/oauth/token',
    ];
    const method = fc.constantFrom(
      'GET',
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'HEAD',
      'TRACE',
      'FOO',
      'post',
    );
    const contentType = fc.constantFrom(
      undefined,
      'application/x-www-form-urlencoded',
      'application/json',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded; charset=latin1',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/xml',
      ';;',
      'application/json, application/json',
    );
    const utf8 = new TextEncoder();
    const form = (params: [string, string][]) =>
      params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const body = fc.oneof(
      fc.constant(Buffer.alloc(0)),
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0x28]),
        Buffer.from('grant_type=refresh_token&refresh_token=%C3%28&client_id=web'),
        Buffer.from('{"refresh_token": "\udc00"}'),
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      ),
      // Duplicated and oversized parameters of a real refresh.
      fc
        .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 70_000 }))
        .map(([copies, size]) =>
          Buffer.from(
            form([
              ...Array.from({ length: copies }, (): [string, string] => ['grant_type', 'refresh_token']),
              ['client_id', 'web'],
              ['refresh_token', refreshToken],
              ['scope', CANARY + 'x'.repeat(size)],
            ]),
          ),
        ),
      // A valid refresh with bytes flipped.
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
        .map((flips) => {
          const b = Buffer.from(
            form([
              ['grant_type', 'refresh_token'],
              ['client_id', 'web'],
              ['refresh_token', refreshToken],
            ]),
          );
          for (const [at, value] of flips) b[at % b.length] = value;
          return b;
        }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(utf8.encode(JSON.stringify(v) ?? 'null'))),
    );
    const extraHeader = fc.constantFrom<string[]>(
      [],
      ['Transfer-Encoding: chunked'],
      ['Authorization: Basic Og=='],
      ['Authorization: Bearer ' + CANARY],
      ['Cookie: tessera_rt=' + CANARY],
      ['Content-Encoding: gzip'],
      ['Accept: */*', 'Accept: text/html'],
      ['X-Forwarded-For: 999.1.1.1, ::1'],
    );
    let tried = 0;
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        method,
        fc.constantFrom(...paths),
        contentType,
        body,
        extraHeader,
        async (verb, path, type, payload, extra) => {
          tried++;
          const head = [
            `${verb} ${path} HTTP/1.1`,
            `Host: 127.0.0.1:${port}`,
            ...(type === undefined ? [] : [`Content-Type: ${type}`]),
            ...(extra.includes('Transfer-Encoding: chunked') ? [] : [`Content-Length: ${payload.length}`]),
            ...extra,
            'Connection: close',
          ];
          const chunked = extra.includes('Transfer-Encoding: chunked');
          const framed = chunked
            ? Buffer.concat([
                Buffer.from(`${payload.length.toString(16)}\r\n`),
                payload,
                Buffer.from('\r\n0\r\n\r\n'),
              ])
            : payload;
          const raw = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), framed]);
          const where = `${verb} ${path.slice(0, 60)} ${type ?? '(no type)'} ${payload.length} bytes ${extra.join('; ')}`;
          const { answer, timedOut } = await rawRequest(port, raw, TIMEOUT_MS);
          assert.ok(!timedOut, `hung: ${where}`);
          assert.ok(answer, `no answer: ${where}`);
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          assert.ok(answer.status < 500, `${where}: ${answer.status} ${answer.text.slice(0, 200)}`);
          if (answer.status >= 400 && verb !== 'HEAD') {
            const problem = refusalProblem(answer, [CANARY]);
            assert.equal(problem, undefined, `${where}: ${problem}`);
          }
        },
      ),
      {
        numRuns: Number(process.env.TESSERA_FUZZ_RUNS ?? (process.env.TESSERA_CHAOS === 'long' ? 3000 : 400)),
        interruptAfterTimeLimit: process.env.TESSERA_CHAOS === 'long' ? 600_000 : 60_000,
        seed,
      },
    );
    t.diagnostic(`${tried} mutated requests; statuses ${JSON.stringify(statuses)}`);
    recordFuzz(tried, statuses, seed);
  });
});

describe('hostile sweep: a hang is caught and named', () => {
  it('a request that never gets an answer is reported with its endpoint, parameter and value', async () => {
    const s = await startTestServer({ config: { port: await freePort() } });
    // Planted: /oauth/revoke never answers when the token holds a path traversal.
    s.tessera.app.addHook('preHandler', async (request) => {
      const token = (request.body as Record<string, string> | undefined)?.token;
      if (request.url === ENDPOINTS.revocation && token?.includes('../../')) await new Promise(() => {});
    });
    const url = await s.tessera.listen();
    try {
      const port = Number(new URL(url).port);
      const revoke: Endpoint = {
        name: 'revoke',
        method: 'POST',
        path: ENDPOINTS.revocation,
        body: { type: 'form', params: { token: 'tsr_unknown', client_id: 'web' } },
        sweep: [
          { kind: 'body', name: 'token' },
          { kind: 'body', name: 'client_id' },
        ],
      };
      const report = await sweep(probesOf([revoke]), {
        port,
        timeoutMs: 300,
        deadlineMs: 30_000,
        concurrency: 4,
      });
      assert.deepEqual(
        report.hung.map((h) => h.where),
        ['revoke: body token = path traversal'],
        summarize(report),
      );
      assert.deepEqual(report.failures, []);
      assert.equal(report.tried, 2 * HOSTILE_VALUES.length);
    } finally {
      await s.close();
    }
  });
});
