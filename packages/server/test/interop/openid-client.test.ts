import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { PASSWORD, RS_SECRET, SECRET, startTestServer, type TestServer } from '../helpers/test-server.js';

/** Signs alice in through the helper; the login response always carries a refresh token. */
async function signIn(s: TestServer, clientId = 'web') {
  const t = await s.login(clientId);
  assert.ok(t.refresh_token, 'login returns a refresh token');
  return { ...t, refresh_token: t.refresh_token };
}

// The metadata and endpoints must satisfy `openid-client` and `oauth4webapi`, unmodified.

describe('interop: openid-client v6 against a listening server', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ listen: true });
  });
  after(async () => {
    await s.close();
  });

  const discover = (clientId: string, secret: string | undefined, auth: client.ClientAuth) =>
    client.discovery(new URL(s.url), clientId, secret, auth, {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });

  it('discovers the RFC 8414 metadata', async () => {
    const config = await discover('backend', SECRET, client.ClientSecretBasic(SECRET));
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, s.url);
    assert.equal(meta.token_endpoint, `${s.url}${ENDPOINTS.token}`);
    assert.equal(meta.revocation_endpoint, `${s.url}${ENDPOINTS.revocation}`);
    assert.equal(meta.introspection_endpoint, `${s.url}${ENDPOINTS.introspection}`);
    assert.equal(meta.jwks_uri, `${s.url}${ENDPOINTS.jwks}`);
    assert.ok(meta.grant_types_supported?.includes('refresh_token'));
    assert.ok(meta.token_endpoint_auth_methods_supported?.includes('client_secret_basic'));
  });

  for (const [name, auth] of [
    ['client_secret_basic', () => client.ClientSecretBasic(SECRET)],
    ['client_secret_post', () => client.ClientSecretPost(SECRET)],
  ] as const) {
    it(`password grant, refresh, introspection and revocation with ${name}`, async () => {
      const config = await discover('backend', SECRET, auth());
      const first = await client.genericGrantRequest(config, 'password', {
        username: 'alice',
        password: PASSWORD,
      });
      assert.equal(first.token_type, 'bearer');
      assert.ok(first.access_token && first.refresh_token);
      assert.ok((first.expiresIn() ?? 0) > 0);

      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);

      const active = await client.tokenIntrospection(config, second.access_token);
      assert.equal(active.active, true);
      assert.equal(active.client_id, 'backend');
      assert.equal(active.sub, s.aliceId);
      const rtInfo = await client.tokenIntrospection(config, second.refresh_token!, {
        token_type_hint: 'refresh_token',
      });
      assert.equal(rtInfo.active, true);

      await client.tokenRevocation(config, second.refresh_token!, { token_type_hint: 'refresh_token' });
      assert.deepEqual(await client.tokenIntrospection(config, second.access_token), { active: false });
      assert.deepEqual(await client.tokenIntrospection(config, second.refresh_token!), { active: false });
      // Revoking an unknown token is fine (RFC 7009).
      await client.tokenRevocation(config, 'not-a-token');

      // The refresh token is dead: openid-client surfaces the server's error.
      await assert.rejects(client.refreshTokenGrant(config, second.refresh_token!), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        assert.equal(err.status, 400);
        assert.equal((err.cause as Record<string, unknown>).error_code, 'token_revoked');
        return true;
      });
    });
  }

  it('client_credentials', async () => {
    const config = await discover('backend', SECRET, client.ClientSecretBasic(SECRET));
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(tokens.refresh_token, undefined);
    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, 'backend');
  });

  it('a public client refreshes and revokes with auth method none', async () => {
    const config = await discover('web', undefined, client.None());
    const tokens = await signIn(s);
    const next = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(next.refresh_token);
    await client.tokenRevocation(config, next.refresh_token!);
    assert.deepEqual(await s.introspect(next.access_token), { active: false });
  });

  it('wrong client credentials surface as invalid_client', async () => {
    const config = await discover(
      'backend',
      'wrong-secret-0123456789',
      client.ClientSecretBasic('wrong-secret-0123456789'),
    );
    await assert.rejects(client.clientCredentialsGrant(config), (err: unknown) => {
      assert.ok(
        err instanceof client.ResponseBodyError || err instanceof client.WWWAuthenticateChallengeError,
        String(err),
      );
      assert.equal((err as { status: number }).status, 401);
      return true;
    });
  });

  it("a resource server introspects any client's token", async () => {
    const config = await discover('api', RS_SECRET, client.ClientSecretBasic(RS_SECRET));
    const tokens = await signIn(s);
    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, 'web');
    assert.equal(info.iss, s.url);
  });
});

describe('interop: oauth4webapi against a listening server', () => {
  let s: TestServer;
  let as: oauth.AuthorizationServer;
  const insecure = { [oauth.allowInsecureRequests]: true } as const;
  before(async () => {
    s = await startTestServer({ listen: true });
    const issuer = new URL(s.url);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    as = await oauth.processDiscoveryResponse(issuer, response);
  });
  after(async () => {
    await s.close();
  });

  it('processes the discovery document', () => {
    assert.equal(as.issuer, s.url);
    assert.equal(as.token_endpoint, `${s.url}${ENDPOINTS.token}`);
    assert.equal(as.introspection_endpoint, `${s.url}${ENDPOINTS.introspection}`);
    assert.equal(as.revocation_endpoint, `${s.url}${ENDPOINTS.revocation}`);
  });

  it('confidential client: password grant, refresh, introspection, revocation', async () => {
    const c: oauth.Client = { client_id: 'backend' };
    const auth = oauth.ClientSecretBasic(SECRET);
    const first = await oauth.processGenericTokenEndpointResponse(
      as,
      c,
      await oauth.genericTokenEndpointRequest(
        as,
        c,
        auth,
        'password',
        new URLSearchParams({ username: 'alice', password: PASSWORD }),
        insecure,
      ),
    );
    assert.equal(first.token_type, 'bearer');
    assert.ok(first.refresh_token);

    const second = await oauth.processRefreshTokenResponse(
      as,
      c,
      await oauth.refreshTokenGrantRequest(as, c, auth, first.refresh_token, insecure),
    );
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.ok((second.expires_in ?? 0) > 0);

    // Grace period: the parent again gets the same child.
    const retry = await oauth.processRefreshTokenResponse(
      as,
      c,
      await oauth.refreshTokenGrantRequest(as, c, auth, first.refresh_token, insecure),
    );
    assert.equal(retry.refresh_token, second.refresh_token);
    assert.equal(retry.access_token, second.access_token);

    const introspected = await oauth.processIntrospectionResponse(
      as,
      c,
      await oauth.introspectionRequest(as, c, auth, second.access_token, insecure),
    );
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, 'backend');

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, c, auth, second.refresh_token!, {
        ...insecure,
        additionalParameters: { token_type_hint: 'refresh_token' },
      }),
    );
    const after = await oauth.processIntrospectionResponse(
      as,
      c,
      await oauth.introspectionRequest(as, c, auth, second.access_token, insecure),
    );
    assert.deepEqual(after, { active: false });

    await assert.rejects(
      oauth.processRefreshTokenResponse(
        as,
        c,
        await oauth.refreshTokenGrantRequest(as, c, auth, second.refresh_token!, insecure),
      ),
      (err: unknown) => {
        assert.ok(err instanceof oauth.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        return true;
      },
    );
  });

  it('public client with auth method none: refresh and revoke', async () => {
    const c: oauth.Client = { client_id: 'web' };
    const auth = oauth.None();
    const tokens = await signIn(s);
    const next = await oauth.processRefreshTokenResponse(
      as,
      c,
      await oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token, insecure),
    );
    assert.ok(next.refresh_token);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, c, auth, next.access_token, insecure),
    );
    assert.deepEqual(await s.introspect(next.access_token), { active: false });
    assert.equal(
      (await s.introspect(next.refresh_token!)).active,
      true,
      'revoking an access token leaves the session',
    );
  });

  it('ClientSecretPost works for introspection by a resource server', async () => {
    const c: oauth.Client = { client_id: 'api' };
    const tokens = await signIn(s);
    const info = await oauth.processIntrospectionResponse(
      as,
      c,
      await oauth.introspectionRequest(
        as,
        c,
        oauth.ClientSecretPost(RS_SECRET),
        tokens.refresh_token,
        insecure,
      ),
    );
    assert.equal(info.active, true);
    assert.equal(info.token_type, 'refresh_token');
  });
});
