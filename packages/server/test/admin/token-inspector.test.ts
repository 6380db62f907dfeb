import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_CSRF_HEADER, ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../src/index.js';
import { ADMIN_ORIGIN, signInAdmin } from '../helpers/admin-session.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

describe('the token inspector (POST /admin/api/tokens/inspect)', () => {
  let s: TestServer;
  let cookie = '';
  let csrf = '';
  const seen: string[] = [];
  before(async () => {
    s = await startTestServer();
    await saveClient(s.tessera.ctx, { id: 'opaque-web', public: true, accessTokenFormat: 'opaque' });
    await saveClient(s.tessera.ctx, { id: 'paseto-web', public: true, accessTokenFormat: 'paseto' });
    ({ cookie, csrf } = await signInAdmin(s));
  });
  after(() => s.close());

  const inspect = async (token: unknown, headers: Record<string, string> = {}) => {
    if (typeof token === 'string') seen.push(token);
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: '/admin/api/tokens/inspect',
      headers: {
        'content-type': 'application/json',
        origin: ADMIN_ORIGIN,
        cookie,
        [ADMIN_CSRF_HEADER]: csrf,
        ...headers,
      },
      payload: JSON.stringify({ token }),
    });
    if (typeof token === 'string') assert.ok(!res.body.includes(token), 'the token is never answered back');
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };

  it('a JWT access token: claims, signature valid, not expired, not revoked, its session', async () => {
    const t = await s.login();
    const { status, body } = await inspect(t.access_token);
    assert.equal(status, 200);
    assert.equal(body.format, 'jwt');
    assert.equal(body.header.typ, 'at+jwt');
    assert.equal(body.claims.sub, s.aliceId);
    assert.equal(body.signatureValid, true);
    assert.equal(body.expired, false);
    assert.equal(body.revoked, false);
    assert.equal(body.active, true);
    assert.equal(body.key.ring, 'jwt');
    assert.equal(body.key.state, 'current');
    assert.equal(body.session.id, body.claims.sid);
    assert.equal(body.session.username, 'alice');

    // Altered: the claims still decode, the signature does not hold.
    const [h, p, sig] = t.access_token.split('.');
    const forged = JSON.parse(Buffer.from(p!, 'base64url').toString());
    forged.sub = 'someone-else';
    const altered = await inspect(`${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`);
    assert.equal(altered.body.format, 'jwt');
    assert.equal(altered.body.signatureValid, false);
    assert.equal(altered.body.active, false);
    assert.equal(altered.body.claims.sub, 'someone-else');

    // Expired, then revoked with its session.
    s.clock.advance(16 * 60_000);
    const late = await inspect(t.access_token);
    assert.equal(late.body.expired, true);
    assert.equal(late.body.active, false);
    await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.revocation,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: t.refresh_token!, client_id: 'web' }).toString(),
    });
    const ended = await inspect(t.access_token);
    assert.equal(ended.body.revoked, true);
    assert.equal(ended.body.session.status, 'revoked');
  });

  it('a refresh token: tag valid, generation, rotated after use, revoked with its session', async () => {
    const t = await s.login();
    const first = await inspect(t.refresh_token);
    assert.equal(first.body.format, 'refresh');
    assert.equal(first.body.signatureValid, true);
    assert.equal(first.body.claims.generation, 0);
    assert.equal(first.body.active, true);
    assert.equal(first.body.session.id, first.body.claims.sid);
    const next = await s.refresh(t.refresh_token!);
    const rotated = await inspect(t.refresh_token);
    assert.equal(rotated.body.claims.status, 'rotated');
    assert.equal(rotated.body.active, false);
    assert.match(rotated.body.notes.join(' '), /Replaced by generation 1/);
    const child = await inspect(next.body.refresh_token);
    assert.equal(child.body.claims.generation, 1);
    assert.equal(child.body.active, true);
    // One character changed: the tag does not verify.
    const last = t.refresh_token!.at(-2) === 'A' ? 'B' : 'A';
    const bad = await inspect(`${t.refresh_token!.slice(0, -2)}${last}${t.refresh_token!.at(-1)}`);
    assert.equal(bad.body.format, 'refresh');
    assert.equal(bad.body.signatureValid, false);
  });

  it('opaque and PASETO access tokens, and something else', async () => {
    const login = async (client: string) => {
      const res = await s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.login,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: client }),
      });
      return JSON.parse(res.body);
    };
    const opaque = await inspect((await login('opaque-web')).access_token);
    assert.equal(opaque.body.format, 'opaque');
    assert.equal(opaque.body.claims.client_id, 'opaque-web');
    assert.equal(opaque.body.active, true);
    const paseto = await inspect((await login('paseto-web')).access_token);
    assert.equal(paseto.body.format, 'paseto');
    assert.equal(paseto.body.signatureValid, true);
    assert.equal(paseto.body.key.ring, 'paseto');
    assert.equal(paseto.body.active, true);
    const other = await inspect('hello world');
    assert.equal(other.body.format, 'unknown');
    assert.equal(other.body.active, false);
  });

  it('size-limited, CSRF-protected, a bad body is refused in the one shape', async () => {
    const huge = await inspect('x'.repeat(17 * 1024));
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error_code, 'payload_too_large');
    const missing = await inspect(undefined);
    assert.equal(missing.status, 400);
    const noCsrf = await s.tessera.app.inject({
      method: 'POST',
      url: '/admin/api/tokens/inspect',
      headers: { 'content-type': 'application/json', origin: ADMIN_ORIGIN, cookie },
      payload: JSON.stringify({ token: 'x' }),
    });
    assert.equal(noCsrf.statusCode, 403);
  });

  it('no inspected token reaches a log line or the database files', () => {
    const logs = s.logs.join('\n');
    const files = readdirSync(s.dir).map((f) => readFileSync(join(s.dir, f)).toString('latin1'));
    for (const token of seen.filter((t) => t.length > 20)) {
      assert.ok(!logs.includes(token), 'not logged');
      for (const f of files) assert.ok(!f.includes(token), 'not stored');
    }
  });
});
