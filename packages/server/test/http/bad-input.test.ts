import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS, isSessionEndReason, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import { createUser, StoreUnavailableError } from '../../src/index.js';
import {
  basic,
  PASSWORD,
  RS_SECRET,
  SECRET,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.js';

/** Signs alice in through the helper; the login response always carries a refresh token. */
async function signIn(s: TestServer, clientId = 'web') {
  const t = await s.login(clientId);
  assert.ok(t.refresh_token, 'login returns a refresh token');
  return { ...t, refresh_token: t.refresh_token };
}

interface Raw {
  status: number;
  text: string;
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

async function send(
  s: TestServer,
  url: string,
  payload: string | Buffer | undefined,
  headers: Record<string, string> = {},
  method: 'POST' | 'GET' = 'POST',
): Promise<Raw> {
  const res = await s.tessera.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload }),
    headers,
  });
  let body: unknown;
  try {
    body = res.body === '' ? undefined : JSON.parse(res.body);
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, text: res.body, body, headers: res.headers };
}

const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
const postForm = (s: TestServer, url: string, f: Record<string, string> | string, headers = {}) =>
  send(s, url, typeof f === 'string' ? f : form(f), { 'content-type': FORM, ...headers });
const postJson = (s: TestServer, url: string, body: unknown, headers = {}) =>
  send(s, url, typeof body === 'string' ? body : JSON.stringify(body), {
    'content-type': JSON_TYPE,
    ...headers,
  });

/**
 * Exactly {error, error_description, error_code, retryable} (docs/errors.md), plus
 * session_end_reason when the session had ended, no-store, Retry-After iff retryable.
 */
function assertError(res: Raw, status: number, error: string, code: string): void {
  assert.equal(res.status, status, `status (body ${res.text})`);
  const members = ['error', 'error_code', 'error_description', 'retryable'];
  if ('session_end_reason' in res.body) {
    assert.ok(isSessionEndReason(res.body.session_end_reason), `end reason (body ${res.text})`);
    members.push('session_end_reason');
  }
  assert.deepEqual(Object.keys(res.body).sort(), members);
  assert.equal(res.body.error, error, `error (body ${res.text})`);
  assert.equal(res.body.error_code, code, `error_code (body ${res.text})`);
  assert.equal(typeof res.body.error_description, 'string');
  assert.ok(res.body.error_description.length > 0);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  if (res.body.retryable === true) {
    assert.match(String(res.headers['retry-after']), /^[1-9]\d*$/, 'retryable errors carry Retry-After');
  } else {
    assert.equal(res.body.retryable, false);
    assert.equal(res.headers['retry-after'], undefined);
  }
}

const POST_ENDPOINTS: { url: string; type: string }[] = [
  { url: ENDPOINTS.token, type: FORM },
  { url: ENDPOINTS.revocation, type: FORM },
  { url: ENDPOINTS.introspection, type: FORM },
  { url: ENDPOINTS.login, type: JSON_TYPE },
  { url: ENDPOINTS.refresh, type: JSON_TYPE },
  { url: ENDPOINTS.logout, type: JSON_TYPE },
];

describe('bad input gets the exact RFC answer', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.close();
  });

  describe('duplicated parameters', () => {
    it('refuses a duplicated form parameter on every form endpoint', async () => {
      for (const url of [ENDPOINTS.token, ENDPOINTS.revocation, ENDPOINTS.introspection]) {
        const res = await postForm(s, url, 'grant_type=refresh_token&token=a&client_id=web&client_id=web');
        assertError(res, 400, 'invalid_request', 'duplicate_parameter');
        assert.match(res.body.error_description, /client_id/);
      }
    });

    it('refuses a duplicated JSON key on every JSON endpoint, even with equal values', async () => {
      for (const url of [ENDPOINTS.login, ENDPOINTS.refresh, ENDPOINTS.logout]) {
        const res = await postJson(
          s,
          url,
          '{"username":"alice","password":"x","refresh_token":"a","password":"y"}',
        );
        assertError(res, 400, 'invalid_request', 'duplicate_parameter');
        assert.match(res.body.error_description, /password/);
      }
      const same = await postJson(s, ENDPOINTS.login, '{"username":"alice","username":"alice"}');
      assertError(same, 400, 'invalid_request', 'duplicate_parameter');
    });

    it('a key repeated in a nested object or a string value is not a duplicate', async () => {
      const res = await postJson(
        s,
        ENDPOINTS.login,
        `{"username":"alice","x":"\\"password\\":","password":${JSON.stringify(PASSWORD)},"client_id":"web"}`,
      );
      assert.equal(res.status, 200, res.text);
    });

    it('refuses a duplicated query parameter, on POST and GET', async () => {
      const post = await send(s, '/oauth/token?x=1&x=2', form({ grant_type: 'refresh_token' }), {
        'content-type': FORM,
      });
      assertError(post, 400, 'invalid_request', 'duplicate_parameter');
      const get = await send(s, '/.well-known/jwks.json?a=1&a=1', undefined, {}, 'GET');
      assertError(get, 400, 'invalid_request', 'duplicate_parameter');
    });
  });

  describe('missing parameters', () => {
    it('token endpoint: grant_type, refresh_token, username/password', async () => {
      assertError(
        await postForm(s, ENDPOINTS.token, { client_id: 'web' }),
        400,
        'invalid_request',
        'invalid_request',
      );
      const noRt = await postForm(s, ENDPOINTS.token, { grant_type: 'refresh_token', client_id: 'web' });
      assertError(noRt, 400, 'invalid_request', 'invalid_request');
      assert.match(noRt.body.error_description, /refresh_token/);
      const noPw = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'password', username: 'alice' },
        { authorization: basic('backend', SECRET) },
      );
      assertError(noPw, 400, 'invalid_request', 'invalid_request');
      assert.match(noPw.body.error_description, /password/);
    });

    it('an empty form value counts as missing (RFC 6749 §3.1)', async () => {
      const res = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: '',
      });
      assertError(res, 400, 'invalid_request', 'invalid_request');
    });

    it('revoke and introspect need token; login needs username and password; refresh needs refresh_token', async () => {
      assertError(
        await postForm(s, ENDPOINTS.revocation, { client_id: 'web' }),
        400,
        'invalid_request',
        'invalid_request',
      );
      assertError(
        await postForm(s, ENDPOINTS.introspection, {}, { authorization: basic('api', RS_SECRET) }),
        400,
        'invalid_request',
        'invalid_request',
      );
      const noPw = await postJson(s, ENDPOINTS.login, { username: 'alice', client_id: 'web' });
      assertError(noPw, 400, 'invalid_request', 'invalid_request');
      assert.match(noPw.body.error_description, /password/);
      assertError(await postJson(s, ENDPOINTS.refresh, {}), 400, 'invalid_request', 'invalid_request');
      assertError(await postJson(s, ENDPOINTS.logout, {}), 400, 'invalid_request', 'invalid_request');
    });

    it('a POST without any body is refused on every POST endpoint except logout with a Bearer', async () => {
      for (const { url } of POST_ENDPOINTS) {
        const res = await send(s, url, undefined);
        assert.ok(res.status === 400 || res.status === 415, `${url}: ${res.status}`);
        assertError(
          res,
          res.status,
          'invalid_request',
          res.status === 400 ? 'invalid_request' : 'unsupported_media_type',
        );
      }
    });

    it('refuses non-string JSON values and non-object JSON', async () => {
      const res = await postJson(s, ENDPOINTS.login, { username: 'alice', password: 12345678 });
      assertError(res, 400, 'invalid_request', 'invalid_request');
      assertError(await postJson(s, ENDPOINTS.login, '["alice"]'), 400, 'invalid_request', 'invalid_request');
      assertError(
        await postJson(s, ENDPOINTS.login, '{"username":'),
        400,
        'invalid_request',
        'invalid_request',
      );
    });
  });

  describe('content types', () => {
    it('answers 415 for an unknown content type on every POST endpoint', async () => {
      for (const { url } of POST_ENDPOINTS) {
        const res = await send(s, url, 'grant_type=refresh_token', { 'content-type': 'text/plain' });
        assertError(res, 415, 'invalid_request', 'unsupported_media_type');
        const xml = await send(s, url, '<a/>', { 'content-type': 'application/xml' });
        assertError(xml, 415, 'invalid_request', 'unsupported_media_type');
      }
    });

    it('answers 415 for a body without a content type', async () => {
      for (const { url } of POST_ENDPOINTS) {
        const res = await send(s, url, 'grant_type=refresh_token', {});
        assertError(res, 415, 'invalid_request', 'unsupported_media_type');
      }
    });

    it('answers 415 when the OAuth endpoints get JSON and the /api endpoints get a form', async () => {
      for (const { url, type } of POST_ENDPOINTS) {
        const res =
          type === FORM
            ? await postJson(s, url, { grant_type: 'refresh_token', token: 'x', client_id: 'web' })
            : await postForm(s, url, { username: 'alice', password: PASSWORD, refresh_token: 'x' });
        assertError(res, 415, 'invalid_request', 'unsupported_media_type');
      }
    });

    it('accepts a charset parameter on the right type', async () => {
      const res = await send(s, ENDPOINTS.revocation, form({ token: 'unknown', client_id: 'web' }), {
        'content-type': `${FORM}; charset=UTF-8`,
      });
      assert.equal(res.status, 200, res.text);
    });
  });

  describe('bodies over 64 KiB', () => {
    it('answers 413 on every POST endpoint, in its own content type', async () => {
      const big = 'a'.repeat(64 * 1024 + 1);
      for (const { url, type } of POST_ENDPOINTS) {
        const payload = type === FORM ? `token=${big}` : JSON.stringify({ refresh_token: big });
        const res = await send(s, url, payload, { 'content-type': type });
        assertError(res, 413, 'invalid_request', 'payload_too_large');
      }
    });

    it('accepts a body just under the limit', async () => {
      const payload = form({ client_id: 'web', token: 'x'.repeat(64 * 1024 - 100) });
      assert.ok(Buffer.byteLength(payload) < 64 * 1024);
      const res = await postForm(s, ENDPOINTS.revocation, payload);
      assert.equal(res.status, 200, res.text);
    });
  });

  describe('grant types and client authentication', () => {
    it('answers unsupported_grant_type for an unknown grant', async () => {
      for (const grant of ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'nope']) {
        const res = await postForm(s, ENDPOINTS.token, { grant_type: grant, client_id: 'web' });
        assertError(res, 400, 'unsupported_grant_type', 'unsupported_grant_type');
      }
    });

    it('answers 401 invalid_client for an unknown client, without a Basic challenge when Basic was not used', async () => {
      const res = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'nobody',
        refresh_token: 'x',
      });
      assertError(res, 401, 'invalid_client', 'invalid_client');
      assert.equal(res.headers['www-authenticate'], undefined);
    });

    it('answers 401 invalid_client with WWW-Authenticate: Basic for bad Basic credentials', async () => {
      for (const authorization of [
        basic('nobody', SECRET),
        basic('backend', 'wrong-secret-0123456789'),
        basic('web', 'anything-at-all-0123'),
        'Basic not-base64-without-colon',
      ]) {
        for (const url of [ENDPOINTS.token, ENDPOINTS.revocation, ENDPOINTS.introspection]) {
          const res = await postForm(
            s,
            url,
            { grant_type: 'client_credentials', token: 'x' },
            { authorization },
          );
          assertError(res, 401, 'invalid_client', 'invalid_client');
          assert.match(String(res.headers['www-authenticate']), /^Basic /);
        }
      }
    });

    it('answers 401 invalid_client for a wrong or missing client_secret_post', async () => {
      const wrong = await postForm(s, ENDPOINTS.token, {
        grant_type: 'client_credentials',
        client_id: 'backend',
        client_secret: 'wrong-secret-0123456789',
      });
      assertError(wrong, 401, 'invalid_client', 'invalid_client');
      assert.equal(wrong.headers['www-authenticate'], undefined);
      const missing = await postForm(s, ENDPOINTS.token, {
        grant_type: 'client_credentials',
        client_id: 'backend',
      });
      assertError(missing, 401, 'invalid_client', 'invalid_client');
      const none = await postForm(s, ENDPOINTS.token, { grant_type: 'client_credentials' });
      assertError(none, 401, 'invalid_client', 'invalid_client');
    });

    it('the right secret works both ways (the failures above are about the secret)', async () => {
      const viaBasic = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'client_credentials' },
        {
          authorization: basic('backend', SECRET),
        },
      );
      assert.equal(viaBasic.status, 200, viaBasic.text);
      const viaPost = await postForm(s, ENDPOINTS.token, {
        grant_type: 'client_credentials',
        client_id: 'backend',
        client_secret: SECRET,
      });
      assert.equal(viaPost.status, 200, viaPost.text);
    });

    it('refuses two client authentication methods at once', async () => {
      const res = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'client_credentials', client_id: 'backend', client_secret: SECRET },
        { authorization: basic('backend', SECRET) },
      );
      assertError(res, 400, 'invalid_request', 'invalid_request');
      const mismatch = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'client_credentials', client_id: 'api' },
        { authorization: basic('backend', SECRET) },
      );
      assertError(mismatch, 400, 'invalid_request', 'invalid_request');
    });

    it('a public client may not send a secret', async () => {
      const res = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        client_secret: 'some-secret-0123456789',
        refresh_token: 'x',
      });
      assertError(res, 401, 'invalid_client', 'invalid_client');
    });

    it('answers unauthorized_client when the password grant is not enabled for the client', async () => {
      const res = await postForm(s, ENDPOINTS.token, {
        grant_type: 'password',
        client_id: 'web',
        username: 'alice',
        password: PASSWORD,
      });
      assertError(res, 400, 'unauthorized_client', 'unauthorized_client');
      const rs = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'password', username: 'alice', password: PASSWORD },
        { authorization: basic('api', RS_SECRET) },
      );
      assertError(rs, 400, 'unauthorized_client', 'unauthorized_client');
      const cc = await postForm(s, ENDPOINTS.token, { grant_type: 'client_credentials', client_id: 'web' });
      assertError(cc, 400, 'unauthorized_client', 'unauthorized_client');
    });

    it('the password grant answers 400 invalid_grant for wrong credentials', async () => {
      const res = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'password', username: 'alice', password: 'wrong password!' },
        { authorization: basic('backend', SECRET) },
      );
      assertError(res, 400, 'invalid_grant', 'invalid_grant');
    });
  });

  describe('refresh tokens', () => {
    it("a client presenting another client's refresh token gets client_mismatch, and the family survives", async () => {
      const tokens = await signIn(s);
      const mobile = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'mobile',
        refresh_token: tokens.refresh_token,
      });
      assertError(mobile, 400, 'invalid_grant', 'client_mismatch');
      const backend = await postForm(
        s,
        ENDPOINTS.token,
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
        { authorization: basic('backend', SECRET) },
      );
      assertError(backend, 400, 'invalid_grant', 'client_mismatch');
      const own = await s.refresh(tokens.refresh_token);
      assert.equal(own.status, 200);
    });

    it('malformed refresh tokens give invalid_grant / invalid_token', async () => {
      const tokens = await signIn(s);
      const rt = tokens.refresh_token;
      const flipped = rt.slice(0, -2) + (rt.endsWith('AA') ? 'BA' : 'AA');
      for (const bad of [
        'garbage',
        REFRESH_TOKEN_PREFIX,
        `${REFRESH_TOKEN_PREFIX}${'A'.repeat(86)}`,
        flipped,
        `${rt}x`,
        rt.slice(0, -1),
        tokens.access_token,
      ]) {
        const res = await postForm(s, ENDPOINTS.token, {
          grant_type: 'refresh_token',
          client_id: 'web',
          refresh_token: bad,
        });
        assertError(res, 400, 'invalid_grant', 'invalid_token');
        const api = await postJson(s, ENDPOINTS.refresh, { refresh_token: bad });
        assertError(api, 400, 'invalid_grant', 'invalid_token');
      }
      assert.equal((await s.refresh(rt)).status, 200, 'the real token was left alone');
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('answers 200 with an empty body for unknown tokens', async () => {
      for (const token of ['unknown', `${REFRESH_TOKEN_PREFIX}${'A'.repeat(86)}`, 'a.b.c']) {
        const res = await postForm(s, ENDPOINTS.revocation, { token, client_id: 'web' });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, '');
      }
    });

    it('answers unsupported_token_type for a bad hint', async () => {
      const res = await postForm(s, ENDPOINTS.revocation, {
        token: 'x',
        token_type_hint: 'id_token',
        client_id: 'web',
      });
      assertError(res, 400, 'unsupported_token_type', 'unsupported_token_type');
    });

    it('requires client authentication', async () => {
      assertError(
        await postForm(s, ENDPOINTS.revocation, { token: 'x' }),
        401,
        'invalid_client',
        'invalid_client',
      );
    });

    it('revoking a refresh token ends its family and its access tokens', async () => {
      const first = await signIn(s);
      const second = await s.refresh(first.refresh_token);
      assert.equal(second.status, 200);
      assert.equal((await s.introspect(second.body.access_token)).active, true);
      assert.equal((await s.introspect(first.access_token)).active, true);
      const res = await postForm(s, ENDPOINTS.revocation, {
        token: second.body.refresh_token,
        token_type_hint: 'refresh_token',
        client_id: 'web',
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(await s.introspect(first.access_token), { active: false });
      assert.deepEqual(await s.introspect(second.body.access_token), { active: false });
      assert.deepEqual(await s.introspect(second.body.refresh_token), { active: false });
      const again = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: second.body.refresh_token,
      });
      assertError(again, 400, 'invalid_grant', 'token_revoked');
      assert.equal(again.body.session_end_reason, 'client_revoked');
    });

    it('logout: 204 for a token it refuses; a real token ends the session', async () => {
      for (const refresh_token of ['garbage', `${REFRESH_TOKEN_PREFIX}${'A'.repeat(86)}`]) {
        const res = await postJson(s, ENDPOINTS.logout, { refresh_token });
        assert.equal(res.status, 204);
      }
      const tokens = await signIn(s);
      assert.equal(
        (await postJson(s, ENDPOINTS.logout, { refresh_token: tokens.refresh_token })).status,
        204,
      );
      assert.deepEqual(await s.introspect(tokens.refresh_token), { active: false });
      assert.deepEqual(await s.introspect(tokens.access_token), { active: false });
    });

    it('a wrong token_type_hint does not stop the revocation (RFC 7009 §2.1)', async () => {
      const tokens = await signIn(s);
      const res = await postForm(s, ENDPOINTS.revocation, {
        token: tokens.refresh_token,
        token_type_hint: 'access_token',
        client_id: 'web',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await s.introspect(tokens.refresh_token), { active: false });
    });

    it('revoking an access token ends only that access token', async () => {
      const tokens = await signIn(s);
      const res = await postForm(s, ENDPOINTS.revocation, { token: tokens.access_token, client_id: 'web' });
      assert.equal(res.status, 200);
      assert.deepEqual(await s.introspect(tokens.access_token), { active: false });
      assert.equal((await s.refresh(tokens.refresh_token)).status, 200);
    });

    it("refuses to revoke another client's token and leaves it alone", async () => {
      const tokens = await signIn(s);
      const res = await postForm(s, ENDPOINTS.revocation, {
        token: tokens.refresh_token,
        client_id: 'mobile',
      });
      assertError(res, 400, 'unauthorized_client', 'unauthorized_client');
      assert.equal((await s.introspect(tokens.refresh_token)).active, true);
    });
  });

  describe('introspection (RFC 7662)', () => {
    const introspectAs = (
      token: string,
      headers: Record<string, string>,
      extra: Record<string, string> = {},
    ) => postForm(s, ENDPOINTS.introspection, { token, ...extra }, headers);
    const asApi = { authorization: basic('api', RS_SECRET) };

    it('requires a confidential client', async () => {
      const tokens = await signIn(s);
      assertError(await introspectAs(tokens.access_token, {}), 401, 'invalid_client', 'invalid_client');
      assertError(
        await introspectAs(tokens.access_token, {}, { client_id: 'web' }),
        401,
        'invalid_client',
        'invalid_client',
      );
    });

    it('active tokens introspect with their claims', async () => {
      const tokens = await signIn(s);
      const at = await introspectAs(tokens.access_token, asApi);
      assert.equal(at.status, 200);
      assert.equal(at.headers['cache-control'], 'no-store');
      assert.equal(at.body.active, true);
      assert.equal(at.body.client_id, 'web');
      assert.equal(at.body.sub, s.aliceId);
      const rt = await introspectAs(tokens.refresh_token, asApi);
      assert.equal(rt.body.active, true);
      assert.equal(rt.body.token_type, 'refresh_token');
    });

    it('unknown, expired, revoked and other clients\' tokens give exactly {"active":false}', async () => {
      const inactive = async (token: string, headers: Record<string, string> = asApi) => {
        const res = await introspectAs(token, headers);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, '{"active":false}');
        assert.equal(res.headers['cache-control'], 'no-store');
      };
      await inactive('unknown');
      await inactive(`${REFRESH_TOKEN_PREFIX}${'A'.repeat(86)}`);
      await inactive('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');

      const web = await signIn(s);
      // Another client's tokens: backend is confidential but not a resource server.
      await inactive(web.access_token, { authorization: basic('backend', SECRET) });
      await inactive(web.refresh_token, { authorization: basic('backend', SECRET) });

      // Revoked.
      const revoked = await signIn(s);
      await postForm(s, ENDPOINTS.revocation, { token: revoked.access_token, client_id: 'web' });
      await inactive(revoked.access_token);

      // Expired: the access token after its 15 minutes.
      const expiring = await signIn(s);
      assert.equal((await introspectAs(expiring.access_token, asApi)).body.active, true);
      s.clock.advance(15 * 60_000 + 1000);
      await inactive(expiring.access_token);
      // Expired refresh token: idle lifetime passed.
      s.clock.advance(14 * 24 * 3600_000);
      await inactive(expiring.refresh_token);
    });
  });

  describe('login', () => {
    it('wrong username and wrong password give the identical 401 body', async () => {
      const wrongUser = await postJson(s, ENDPOINTS.login, {
        username: 'mallory',
        password: PASSWORD,
        client_id: 'web',
      });
      const wrongPass = await postJson(s, ENDPOINTS.login, {
        username: 'alice',
        password: 'not the password',
        client_id: 'web',
      });
      assertError(wrongUser, 401, 'invalid_grant', 'invalid_credentials');
      assertError(wrongPass, 401, 'invalid_grant', 'invalid_credentials');
      assert.equal(wrongUser.text, wrongPass.text);
      assert.equal(wrongUser.headers['www-authenticate'], undefined);
    });

    it('the password grant, too, answers wrong username and wrong password identically', async () => {
      const grant = (username: string, password: string) =>
        postForm(
          s,
          ENDPOINTS.token,
          { grant_type: 'password', username, password },
          { authorization: basic('backend', SECRET) },
        );
      const wrongUser = await grant('mallory', PASSWORD);
      const wrongPass = await grant('alice', 'not the password');
      assertError(wrongUser, 400, 'invalid_grant', 'invalid_grant');
      assert.equal(wrongUser.text, wrongPass.text);
    });

    it('a disabled user gets the same answer as a wrong password', async () => {
      const user = await createUser(s.tessera.ctx, { username: 'dora', password: 'dora password 1' });
      await s.tessera.ctx.stores.directory.updateUser({ ...user, disabled: true });
      const disabled = await postJson(s, ENDPOINTS.login, {
        username: 'dora',
        password: 'dora password 1',
        client_id: 'web',
      });
      const wrongPass = await postJson(s, ENDPOINTS.login, {
        username: 'dora',
        password: 'not the password',
        client_id: 'web',
      });
      assertError(disabled, 401, 'invalid_grant', 'invalid_credentials');
      assert.equal(disabled.text, wrongPass.text);
    });

    it('a confidential client authenticates at login; a wrong secret is invalid_client', async () => {
      const ok = await postJson(
        s,
        ENDPOINTS.login,
        { username: 'alice', password: PASSWORD },
        { authorization: basic('backend', SECRET) },
      );
      assert.equal(ok.status, 200, ok.text);
      const noSecret = await postJson(s, ENDPOINTS.login, {
        username: 'alice',
        password: PASSWORD,
        client_id: 'backend',
      });
      assertError(noSecret, 401, 'invalid_client', 'invalid_client');
      const bad = await postJson(
        s,
        ENDPOINTS.login,
        { username: 'alice', password: PASSWORD },
        { authorization: basic('backend', 'wrong-secret-0123456789') },
      );
      assertError(bad, 401, 'invalid_client', 'invalid_client');
      assert.match(String(bad.headers['www-authenticate']), /^Basic /);
      const unknown = await postJson(s, ENDPOINTS.login, {
        username: 'alice',
        password: PASSWORD,
        client_id: 'nope',
      });
      assertError(unknown, 401, 'invalid_client', 'invalid_client');
    });

    it('login without client_id (and no default client) is invalid_request', async () => {
      const res = await postJson(s, ENDPOINTS.login, { username: 'alice', password: PASSWORD });
      assertError(res, 400, 'invalid_request', 'invalid_request');
    });
  });

  it('unknown routes answer 404 in the same error shape', async () => {
    assertError(await send(s, '/oauth/authorize', undefined, {}, 'GET'), 404, 'not_found', 'not_found');
  });
});

describe('store down', () => {
  it('refresh and revoke answer 503 temporarily_unavailable, never 200', async () => {
    const s = await startTestServer();
    try {
      const tokens = await signIn(s);
      const other = await signIn(s);
      (s.tessera.ctx.stores as any).db.close();

      const refresh = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: tokens.refresh_token,
      });
      assertError(refresh, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const apiRefresh = await postJson(s, ENDPOINTS.refresh, { refresh_token: other.refresh_token });
      assertError(apiRefresh, 503, 'temporarily_unavailable', 'temporarily_unavailable');

      for (const token of [tokens.refresh_token, tokens.access_token]) {
        const revoke = await postForm(s, ENDPOINTS.revocation, { token, client_id: 'web' });
        assertError(revoke, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      }
      // Logout is a revocation too: a store that cannot revoke gives 503, never 204.
      const logout = await postJson(s, ENDPOINTS.logout, { refresh_token: tokens.refresh_token });
      assertError(logout, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const bearerLogout = await postJson(
        s,
        ENDPOINTS.logout,
        {},
        { authorization: `Bearer ${tokens.access_token}` },
      );
      assertError(bearerLogout, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const introspect = await postForm(
        s,
        ENDPOINTS.introspection,
        { token: tokens.refresh_token },
        {
          authorization: basic('api', RS_SECRET),
        },
      );
      assertError(introspect, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const login = await postJson(s, ENDPOINTS.login, {
        username: 'alice',
        password: PASSWORD,
        client_id: 'web',
      });
      assertError(login, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const ready = await send(s, '/readyz', undefined, {}, 'GET');
      assertError(ready, 503, 'temporarily_unavailable', 'temporarily_unavailable');
    } finally {
      await s.close();
    }
  });

  it('a token store that fails after client authentication still gives 503, and nothing is half done', async () => {
    const s = await startTestServer();
    try {
      const tokens = await signIn(s);
      const store = s.tessera.ctx.stores.sessions as any;
      const down = async () => {
        throw new StoreUnavailableError('token store unreachable');
      };
      const saved = { findToken: store.findToken, revokeFamily: store.revokeFamily, rotate: store.rotate };
      store.revokeFamily = down;
      const revoke = await postForm(s, ENDPOINTS.revocation, {
        token: tokens.refresh_token,
        client_id: 'web',
      });
      assertError(revoke, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      const logout = await postJson(s, ENDPOINTS.logout, { refresh_token: tokens.refresh_token });
      assertError(logout, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      store.rotate = down;
      const refresh = await postForm(s, ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: tokens.refresh_token,
      });
      assertError(refresh, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      store.findToken = down;
      const again = await postJson(s, ENDPOINTS.refresh, { refresh_token: tokens.refresh_token });
      assertError(again, 503, 'temporarily_unavailable', 'temporarily_unavailable');
      Object.assign(store, saved);
      // The store is back: the session was neither revoked nor rotated by the failed attempts.
      const ok = await s.refresh(tokens.refresh_token);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    } finally {
      await s.close();
    }
  });
});
