// The OpenAPI document against real answers: a battery of requests (good ones, and the same
// hostile inputs at every endpoint) over real HTTP. Every answer must be documented (its status,
// its media type, its body by the schema), and every documented status must occur.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS } from '@tessera/protocol';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openSqliteStores, type Stores, StoreUnavailableError, saveClient } from '../../src/index.js';
import { basic, PASSWORD, RS_SECRET, startTestServer, type TestServer } from '../helpers/test-server.js';

interface Answer {
  method: string;
  path: string;
  status: number;
  type: string;
  body: string;
  scenario: string;
}

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, DocResponse> }>>;
  components: { schemas: Record<string, object> };
}
interface DocResponse {
  content?: Record<string, { schema: object }>;
}

/** Stores whose every call fails as an unreachable store does while `down.value` is true. */
function switchable(stores: Stores, down: { value: boolean }): Stores {
  const guard = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value = Reflect.get(obj, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (down.value) return Promise.reject(new StoreUnavailableError('the store is down (test)'));
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  const out: Record<string, unknown> = {};
  for (const [name, port] of Object.entries(stores)) {
    out[name] = typeof port === 'object' && port !== null ? guard(port as object) : port;
  }
  return {
    ...(out as unknown as Stores),
    ping: () =>
      down.value ? Promise.reject(new StoreUnavailableError('the store is down (test)')) : stores.ping(),
    close: () => stores.close(),
  };
}

describe('the OpenAPI document matches the real answers', () => {
  let server: TestServer;
  let limited: TestServer;
  const down = { value: false };
  let doc: Doc;
  const answers: Answer[] = [];

  before(async () => {
    server = await startTestServer({
      listen: true,
      stores: switchable(openSqliteStores({ path: ':memory:' }), down),
      config: { directoryCacheTtl: 0 },
    });
    await saveClient(server.tessera.ctx, { id: 'spa', public: true, cookieMode: true });
    limited = await startTestServer({ listen: true, config: { rateLimitLogin: 1, rateLimitRefresh: 1 } });
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
  });
  after(async () => {
    await server?.close();
    await limited?.close();
  });

  /** Sends one request, reads the answer whole (or the first chunk of a stream), records it. */
  async function send(
    scenario: string,
    method: 'GET' | 'POST',
    path: string,
    init: { body?: string; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const controller = new AbortController();
    const res = await fetch(`${init.base ?? server.url}${path}`, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: controller.signal,
    });
    const type = res.headers.get('content-type') ?? '';
    let body = '';
    if (type.startsWith('text/event-stream')) {
      const reader = res.body!.getReader();
      body = new TextDecoder().decode((await reader.read()).value);
      controller.abort();
    } else {
      body = await res.text();
    }
    const answer = { method, path: path.split('?')[0]!, status: res.status, type, body, scenario };
    answers.push(answer);
    return answer;
  }

  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  const json = (value: unknown, headers: Record<string, string> = {}) => ({
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const rsAuth = { authorization: basic('api', RS_SECRET) };
  const POSTS = [
    ENDPOINTS.token,
    ENDPOINTS.revocation,
    ENDPOINTS.introspection,
    ENDPOINTS.login,
    ENDPOINTS.refresh,
    ENDPOINTS.logout,
  ];
  const GETS = [
    ENDPOINTS.metadata,
    ENDPOINTS.jwks,
    ENDPOINTS.revocationFeed,
    '/healthz',
    '/readyz',
    '/metrics',
  ];

  it('runs the battery', async () => {
    // Good requests.
    const signedIn = await send(
      'login',
      'POST',
      ENDPOINTS.login,
      json({ username: 'alice', password: PASSWORD, client_id: 'web' }),
    );
    const tokens = JSON.parse(signedIn.body) as { access_token: string; refresh_token: string };
    const refreshed = await send(
      'refresh grant',
      'POST',
      ENDPOINTS.token,
      form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: tokens.refresh_token }),
    );
    const child = JSON.parse(refreshed.body) as { access_token: string; refresh_token: string };
    const viaApi = await send(
      'refresh (JSON)',
      'POST',
      ENDPOINTS.refresh,
      json({ refresh_token: child.refresh_token, client_id: 'web' }),
    );
    const grandchild = JSON.parse(viaApi.body) as { access_token: string; refresh_token: string };
    await send(
      'introspect active',
      'POST',
      ENDPOINTS.introspection,
      form({ token: grandchild.access_token }, rsAuth),
    );
    await send('introspect unknown', 'POST', ENDPOINTS.introspection, form({ token: 'nothing' }, rsAuth));
    await send(
      'revoke',
      'POST',
      ENDPOINTS.revocation,
      form({ token: grandchild.refresh_token, client_id: 'web' }),
    );
    await send(
      'logout',
      'POST',
      ENDPOINTS.logout,
      json({ refresh_token: child.refresh_token, client_id: 'web' }),
    );
    await send(
      'grant refused (reused)',
      'POST',
      ENDPOINTS.token,
      form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: tokens.refresh_token }),
    );
    await send(
      'wrong password',
      'POST',
      ENDPOINTS.login,
      json({ username: 'alice', password: 'wrong', client_id: 'web' }),
    );
    await send(
      'cookie login without the CSRF header',
      'POST',
      ENDPOINTS.login,
      json({ username: 'alice', password: PASSWORD, client_id: 'spa' }, { origin: 'https://evil.example' }),
    );
    await send(
      'cookie refresh from another site',
      'POST',
      ENDPOINTS.refresh,
      json({}, { [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: 'https://evil.example', cookie: 'tessera_rt=x' }),
    );
    await send(
      'cookie logout from another site',
      'POST',
      ENDPOINTS.logout,
      json({}, { [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: 'https://evil.example', cookie: 'tessera_rt=x' }),
    );
    for (const path of GETS.filter((p) => p !== ENDPOINTS.revocationFeed))
      await send(`GET ${path}`, 'GET', path);
    await send('feed snapshot', 'GET', ENDPOINTS.revocationFeed, { headers: rsAuth });
    await send('feed stream', 'GET', ENDPOINTS.revocationFeed, {
      headers: { ...rsAuth, accept: 'text/event-stream' },
    });
    await send('feed without auth', 'GET', ENDPOINTS.revocationFeed);
    await send('feed as a public client', 'GET', ENDPOINTS.revocationFeed, {
      headers: { authorization: basic('backend', 'wrong-secret-0123456789') },
    });
    await send('feed as a client that is no resource server', 'GET', ENDPOINTS.revocationFeed, {
      headers: { authorization: basic('backend', 'confidential-client-secret-0123456789') },
    });

    // The same hostile inputs at every endpoint.
    for (const path of POSTS) {
      await send('no body', 'POST', path, { headers: { 'content-type': 'application/json' } });
      await send('wrong media type', 'POST', path, { body: 'x', headers: { 'content-type': 'text/plain' } });
      await send(
        'form where JSON is taken, and the reverse',
        'POST',
        path,
        path.startsWith('/api/') ? form({ a: 'b' }) : json({ a: 'b' }),
      );
      await send('too large', 'POST', path, {
        body: `a=${'x'.repeat(70 * 1024)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await send(
        'repeated parameter',
        'POST',
        path,
        path.startsWith('/api/')
          ? { body: '{"client_id":"web","client_id":"web"}', headers: { 'content-type': 'application/json' } }
          : {
              body: 'client_id=web&client_id=web',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            },
      );
      await send(
        'unknown client',
        'POST',
        path,
        path.startsWith('/api/')
          ? json({ client_id: 'nobody', username: 'alice', password: PASSWORD, refresh_token: 'x' })
          : form({ client_id: 'nobody', grant_type: 'refresh_token', refresh_token: 'x', token: 'x' }),
      );
      await send(
        'a bad Basic header',
        'POST',
        path,
        path.startsWith('/api/')
          ? json(
              { refresh_token: 'x', username: 'a', password: 'b' },
              { authorization: basic('backend', 'wrong-secret-0123456789') },
            )
          : form(
              { grant_type: 'refresh_token', refresh_token: 'x', token: 'x' },
              { authorization: basic('backend', 'wrong-secret-0123456789') },
            ),
      );
      await send('query repeated', 'POST', `${path}?a=1&a=2`, json({}));
    }
    for (const path of GETS) await send('query repeated', 'GET', `${path}?a=1&a=2`, { headers: rsAuth });

    // Rate limits (a server with a limit of 1 a minute).
    for (let i = 0; i < 2; i++) {
      await send('rate limited', 'POST', ENDPOINTS.login, {
        base: limited.url,
        ...json({ username: 'alice', password: PASSWORD, client_id: 'web' }),
      });
      await send('rate limited', 'POST', ENDPOINTS.token, {
        base: limited.url,
        ...form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: 'x' }),
      });
      await send('rate limited', 'POST', ENDPOINTS.refresh, {
        base: limited.url,
        ...json({ client_id: 'web', refresh_token: 'x' }),
      });
    }

    // The store down: fail closed.
    down.value = true;
    try {
      await send(
        'store down',
        'POST',
        ENDPOINTS.token,
        form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: grandchild.refresh_token }),
      );
      await send(
        'store down',
        'POST',
        ENDPOINTS.revocation,
        form({ token: grandchild.refresh_token, client_id: 'web' }),
      );
      await send('store down', 'GET', '/readyz');
    } finally {
      down.value = false;
    }
  });

  it('every answer is documented: its status, its media type and its body', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const problems: string[] = [];
    for (const a of answers) {
      const operation = doc.paths[a.path]?.[a.method.toLowerCase()];
      if (!operation) {
        problems.push(`${a.method} ${a.path} is not documented (${a.scenario})`);
        continue;
      }
      const response = operation.responses[String(a.status)];
      if (!response) {
        problems.push(
          `${a.method} ${a.path} ${a.status} is not documented (${a.scenario}): ${a.body.slice(0, 200)}`,
        );
        continue;
      }
      if (!response.content) {
        if (a.body !== '')
          problems.push(`${a.method} ${a.path} ${a.status}: documented without a body, got one`);
        continue;
      }
      const mediaType = Object.keys(response.content).find((t) => a.type.startsWith(t));
      if (!mediaType) {
        problems.push(`${a.method} ${a.path} ${a.status}: ${a.type} is not documented (${a.scenario})`);
        continue;
      }
      const schema = inline(response.content[mediaType]!.schema, doc.components.schemas);
      const value = mediaType === 'application/json' ? JSON.parse(a.body) : a.body;
      const validate = ajv.compile(schema);
      if (!validate(value)) {
        problems.push(
          `${a.method} ${a.path} ${a.status} (${a.scenario}): ${ajv.errorsText(validate.errors)}: ${a.body.slice(0, 200)}`,
        );
      }
    }
    assert.deepEqual(problems, []);
  });

  it('every documented status occurs', () => {
    const seen = new Set(answers.map((a) => `${a.method} ${a.path} ${a.status}`));
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of Object.keys(operation.responses)) {
          const key = `${method.toUpperCase()} ${path} ${status}`;
          if (!seen.has(key)) missing.push(key);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('documents DPoP: the DPoP request header and the DPoP-Nonce answer header where proofs are taken', () => {
    const paths = doc.paths as unknown as Record<
      string,
      Record<string, { parameters?: Array<{ in: string; name: string }>; responses: Record<string, any> }>
    >;
    for (const path of [ENDPOINTS.token, ENDPOINTS.login, ENDPOINTS.refresh, ENDPOINTS.revocation]) {
      const op = paths[path]!.post!;
      const headers = (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
      assert.ok(headers.includes('DPoP'), `${path}: ${headers.join(', ')}`);
      for (const status of ['200', '400']) {
        assert.ok(op.responses[status]?.headers?.['DPoP-Nonce'], `${path} ${status} has DPoP-Nonce`);
      }
    }
    const logout = paths[ENDPOINTS.logout]!.post!;
    assert.ok((logout.parameters ?? []).some((p) => p.in === 'header' && p.name === 'DPoP'));
  });

  it('documents every endpoint, as OpenAPI 3.1, with the server at the issuer', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [...POSTS, ...GETS].sort());
    assert.deepEqual((doc as unknown as { servers: { url: string }[] }).servers, [{ url: server.url }]);
  });
});

/** The schema with `#/components/schemas/…` references replaced by the schemas they name. */
function inline(schema: unknown, components: Record<string, object>): object {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      const { $id: _, ...target } = components[ref.slice('#/components/schemas/'.length)] as { $id?: string };
      return walk(target);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(schema) as object;
}
