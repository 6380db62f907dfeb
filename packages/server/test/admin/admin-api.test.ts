import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_CSRF_HEADER } from '@tessera/protocol';
import { createUser } from '../../src/index.js';
import { assertRefusal } from '../helpers/refusal-shape.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

const ORIGIN = 'http://127.0.0.1:4000';

describe('the admin API (/admin/api)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await createUser(s.tessera.ctx, { username: 'bob', password: PASSWORD, roles: ['user'] });
  });
  after(() => s.close());

  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    opts: { body?: unknown; cookie?: string; csrf?: string; origin?: string | null } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf) headers[ADMIN_CSRF_HEADER] = opts.csrf;
    if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
    const res = await s.tessera.app.inject({
      method,
      url,
      headers,
      ...(opts.body === undefined ? {} : { payload: JSON.stringify(opts.body) }),
    });
    return { res, body: res.body === '' ? undefined : JSON.parse(res.body) };
  };
  const signIn = async (username: string) => {
    const { res, body } = await call('POST', '/admin/api/session', {
      body: { username, password: PASSWORD },
    });
    const setCookie = String([res.headers['set-cookie']].flat()[0] ?? '');
    return { res, body, setCookie, cookie: setCookie.split(';')[0] ?? '' };
  };

  it('the OpenAPI document is readable without signing in and declares the CSRF header', async () => {
    const { res, body } = await call('GET', '/admin/api/openapi.json', { origin: null });
    assert.equal(res.statusCode, 200);
    assert.equal(body.openapi, '3.1.0');
    assert.equal(body.components.securitySchemes.csrf.name, ADMIN_CSRF_HEADER);
    for (const path of ['/admin/api/session', '/admin/api/sessions', '/admin/api/sessions/{id}/revoke']) {
      assert.ok(body.paths[path], path);
    }
  });

  it('anonymous: 401 sign_in_required in the one shape; a non-admin: 403', async () => {
    const anon = await call('GET', '/admin/api/sessions');
    assert.equal(anon.res.statusCode, 401);
    assert.equal(anon.body.error_code, 'sign_in_required');
    assertRefusal({ status: anon.res.statusCode, headers: anon.res.headers, text: anon.res.body });
    const bob = await signIn('bob');
    assert.equal(bob.res.statusCode, 403);
    assert.equal(bob.body.error_code, 'forbidden');
    assert.equal(bob.setCookie, '', 'no admin session for a non-admin');
    const wrong = await call('POST', '/admin/api/session', {
      body: { username: 'alice', password: 'nope-nope-nope' },
    });
    assert.equal(wrong.res.statusCode, 401);
    assert.equal(wrong.body.error_code, 'invalid_credentials');
  });

  it('signs in with an HttpOnly SameSite=Strict cookie and hands over the CSRF token, again on GET', async () => {
    const a = await signIn('alice');
    assert.equal(a.res.statusCode, 200);
    assert.match(a.setCookie, /^tessera_admin=[A-Za-z0-9_-]{43};/);
    assert.match(a.setCookie, /HttpOnly/);
    assert.match(a.setCookie, /SameSite=Strict/);
    assert.equal(typeof a.body.csrfToken, 'string');
    const again = await call('GET', '/admin/api/session', { cookie: a.cookie });
    assert.equal(again.body.csrfToken, a.body.csrfToken);
    assert.equal(again.body.username, 'alice');
  });

  it('a sign-in from another origin is refused', async () => {
    const { res } = await call('POST', '/admin/api/session', {
      body: { username: 'alice', password: PASSWORD },
      origin: 'https://evil.example',
    });
    assert.equal(res.statusCode, 403);
  });

  it('lists a real session by its sid; revoke needs the CSRF token, a same origin and a reason; the refresh then fails with token_revoked and admin_revoked', async () => {
    const a = await signIn('alice');
    const tokens = await s.login('web');
    const list = await call('GET', '/admin/api/sessions?client=web&status=active', { cookie: a.cookie });
    assert.equal(list.res.statusCode, 200);
    const sid = (await s.introspect(tokens.access_token)).sid;
    const row = list.body.items.find((x: { id: string }) => x.id === sid);
    assert.ok(row, 'the new session is listed under its sid');
    assert.equal(row.username, 'alice');
    const url = `/admin/api/sessions/${sid}/revoke`;
    const noCsrf = await call('POST', url, { cookie: a.cookie, body: { reason: 'x' } });
    assert.equal(noCsrf.res.statusCode, 403, 'no CSRF token');
    const wrongCsrf = await call('POST', url, { cookie: a.cookie, csrf: 'guess', body: { reason: 'x' } });
    assert.equal(wrongCsrf.res.statusCode, 403);
    const foreign = await call('POST', url, {
      cookie: a.cookie,
      csrf: a.body.csrfToken,
      origin: 'https://evil.example',
      body: { reason: 'x' },
    });
    assert.equal(foreign.res.statusCode, 403, 'another origin');
    const noReason = await call('POST', url, { cookie: a.cookie, csrf: a.body.csrfToken, body: {} });
    assert.equal(noReason.res.statusCode, 400);
    assert.equal((await s.refresh(tokens.refresh_token!)).status, 200, 'nothing was revoked yet');

    const ok = await call('POST', url, {
      cookie: a.cookie,
      csrf: a.body.csrfToken,
      body: { reason: 'lost phone' },
    });
    assert.equal(ok.res.statusCode, 200);
    assert.deepEqual(ok.body.revoked, [sid]);
    const events = await s.tessera.ctx.stores.events.list({ type: 'admin.session_revoked', familyId: sid });
    assert.equal(events.length, 1);
    assert.deepEqual(
      { admin: events[0]?.data?.admin, reason: events[0]?.data?.reason },
      { admin: 'alice', reason: 'lost phone' },
    );
    const detail = await call('GET', `/admin/api/sessions/${sid}`, { cookie: a.cookie });
    assert.match(
      detail.body.explanation,
      /the administrator alice ended the session, giving the reason "lost phone"/,
    );
    assert.doesNotMatch(detail.res.body, /tsr_|"hash"/, 'no token or hash in the detail');
  });

  it('after a reuse, the detail shows the lineage and an explanation naming the reuse', async () => {
    const a = await signIn('alice');
    const login = await s.login('web');
    const first = await s.refresh(login.refresh_token!);
    s.clock.advance(11 * 60_000);
    const reuse = await s.refresh(login.refresh_token!);
    assert.equal(reuse.body.error_code, 'token_reused');
    const payload = first.body.access_token.split('.')[1] ?? '';
    const sid = JSON.parse(Buffer.from(payload, 'base64url').toString()).sid as string;
    const detail = await call('GET', `/admin/api/sessions/${sid}`, { cookie: a.cookie });
    assert.equal(detail.body.session.endReason, 'reuse_detected');
    assert.deepEqual(
      detail.body.lineage.map((t: { generation: number }) => t.generation),
      [0, 1],
    );
    assert.match(
      detail.body.explanation,
      /because refresh token #0 was used again 11 minutes after it had been replaced.*revoked the whole session/,
    );
  });

  it('pages the sessions list with a cursor, newest first, without repeats', async () => {
    const a = await signIn('alice');
    for (let i = 0; i < 5; i++) {
      s.clock.advance(1000);
      await s.login('mobile');
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string; startedAt: number }[]; next: string | null } } = await call(
        'GET',
        `/admin/api/sessions?client=mobile&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { cookie: a.cookie },
      );
      seen.push(...page.body.items.map((x) => x.id));
      cursor = page.body.next;
    } while (cursor);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
  });

  it('revokes every session of a user with a reason', async () => {
    const a = await signIn('alice');
    await s.login('web');
    const { body } = await call('POST', '/admin/api/users/alice/revoke-sessions', {
      cookie: a.cookie,
      csrf: a.body.csrfToken,
      body: { reason: 'offboarding' },
    });
    assert.ok(body.revoked.length >= 1);
    const left = await call('GET', '/admin/api/sessions?user=alice&status=active', { cookie: a.cookie });
    assert.deepEqual(left.body.items, []);
  });

  it('the admin session ends after its idle timeout', async () => {
    const a = await signIn('alice');
    s.clock.advance(31 * 60_000);
    const { res } = await call('GET', '/admin/api/session', { cookie: a.cookie });
    assert.equal(res.statusCode, 401);
  });
});
