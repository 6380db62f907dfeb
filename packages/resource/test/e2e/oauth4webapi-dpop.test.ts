import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTessera, createUser, loadConfig, saveClient, type Tessera } from '@tessera/server';
import Fastify, { type FastifyInstance } from 'fastify';
import * as oauth from 'oauth4webapi';
import { tesseraResource } from '../../src/adapters/fastify.js';

// The unmodified oauth4webapi package as a DPoP client (its DPoP() handle) against the Tessera
// server and this middleware: password grant, refresh, a protected resource, use_dpop_nonce.

const PASSWORD = 'correct horse battery staple';
const SECRET = 'confidential-client-secret-0123456789';
const RS_SECRET = 'resource-server-secret-0123456789';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('interop: oauth4webapi as a DPoP client', () => {
  let dir: string;
  let tessera: Tessera;
  let issuer: URL;
  let api: FastifyInstance;
  let apiUrl: string;
  let as: oauth.AuthorizationServer;
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-o4w-'));
    const port = await freePort();
    issuer = new URL(`http://127.0.0.1:${port}`);
    tessera = await createTessera({
      config: loadConfig({
        env: {},
        overrides: { db: join(dir, 't.db'), port, logLevel: 'silent', passwordHashCost: 10 },
      }),
      masterSecret: randomBytes(32),
      background: false,
    });
    await createUser(tessera.ctx, { username: 'alice', password: PASSWORD });
    await saveClient(tessera.ctx, {
      id: 'dpop-backend',
      public: false,
      secret: SECRET,
      dpop: true,
      grantTypes: ['password', 'refresh_token'],
    });
    await saveClient(tessera.ctx, {
      id: 'dpop-nonce',
      public: true,
      dpop: true,
      dpopNonce: true,
      grantTypes: ['password', 'refresh_token'],
    });
    await saveClient(tessera.ctx, {
      id: 'api',
      public: false,
      secret: RS_SECRET,
      introspectAny: true,
      grantTypes: [],
    });
    await tessera.listen();
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    api = Fastify();
    await api.register(tesseraResource, {
      issuer: issuer.href.replace(/\/$/, ''),
      audience: issuer.href.replace(/\/$/, ''),
      revocations: false,
    });
    api.get('/orders', { onRequest: api.requireAuth() }, async (request) => ({ sub: request.auth!.sub }));
    await api.listen({ port: 0, host: '127.0.0.1' });
    apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}/orders`;
  });
  after(async () => {
    await api.close();
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('advertises the proof algorithms oauth4webapi reads', () => {
    assert.deepEqual(as.dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'RS256']);
  });

  it('password grant, refresh and a protected resource through the DPoP() handle', async () => {
    const client: oauth.Client = { client_id: 'dpop-backend' };
    const auth = oauth.ClientSecretBasic(SECRET);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const first = await oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await oauth.genericTokenEndpointRequest(
        as,
        client,
        auth,
        'password',
        { username: 'alice', password: PASSWORD },
        { DPoP, ...insecure },
      ),
    );
    assert.equal(first.token_type, 'dpop');
    assert.ok(first.refresh_token);
    const second = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, first.refresh_token, { DPoP, ...insecure }),
    );
    assert.equal(second.token_type, 'dpop');
    assert.notEqual(second.refresh_token, first.refresh_token);
    const res = await oauth.protectedResourceRequest(
      second.access_token,
      'GET',
      new URL(apiUrl),
      undefined,
      undefined,
      {
        DPoP,
        ...insecure,
      },
    );
    assert.equal(res.status, 200, await res.clone().text());

    // The same refresh token with another key pair: refused, and the owner's session goes on.
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    await assert.rejects(
      async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, auth, second.refresh_token!, {
            DPoP: thief,
            ...insecure,
          }),
        ),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_dpop_proof',
    );
    const third = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, second.refresh_token!, { DPoP, ...insecure }),
    );
    assert.ok(third.access_token);
  });

  it('a resource server that requires nonces: protectedResourceRequest is refused once with use_dpop_nonce, then served', async () => {
    const nonceApi = Fastify();
    await nonceApi.register(tesseraResource, {
      issuer: issuer.href.replace(/\/$/, ''),
      audience: issuer.href.replace(/\/$/, ''),
      revocations: false,
      dpopNonceSecret: randomBytes(32),
    });
    nonceApi.get('/orders', { onRequest: nonceApi.requireAuth() }, async (request) => ({
      sub: request.auth!.sub,
    }));
    await nonceApi.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = new URL(`http://127.0.0.1:${(nonceApi.server.address() as { port: number }).port}/orders`);
      const client: oauth.Client = { client_id: 'dpop-backend' };
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      const tokens = await oauth.processGenericTokenEndpointResponse(
        as,
        client,
        await oauth.genericTokenEndpointRequest(
          as,
          client,
          oauth.ClientSecretBasic(SECRET),
          'password',
          { username: 'alice', password: PASSWORD },
          { DPoP, ...insecure },
        ),
      );
      const call = () =>
        oauth.protectedResourceRequest(tokens.access_token, 'GET', url, undefined, undefined, {
          DPoP,
          ...insecure,
        });
      let nonceErrors = 0;
      let response: Response | undefined;
      for (let attempt = 0; attempt < 2 && response === undefined; attempt++) {
        try {
          response = await call();
        } catch (err) {
          if (!oauth.isDPoPNonceError(err)) throw err;
          nonceErrors++;
        }
      }
      assert.equal(nonceErrors, 1);
      assert.equal(response?.status, 200);
    } finally {
      await nonceApi.close();
    }
  });

  it('use_dpop_nonce: oauth4webapi learns the nonce from DPoP-Nonce and its one retry succeeds', async () => {
    const client: oauth.Client = { client_id: 'dpop-nonce' };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const password = () =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        oauth.None(),
        'password',
        { username: 'alice', password: PASSWORD },
        {
          DPoP,
          ...insecure,
        },
      );
    let nonceErrors = 0;
    let tokens: oauth.TokenEndpointResponse | undefined;
    for (let attempt = 0; attempt < 2 && tokens === undefined; attempt++) {
      try {
        tokens = await oauth.processGenericTokenEndpointResponse(as, client, await password());
      } catch (err) {
        if (!oauth.isDPoPNonceError(err)) throw err;
        nonceErrors++;
      }
    }
    assert.equal(nonceErrors, 1);
    assert.ok(tokens?.refresh_token);
    // The handle remembers the nonce: the refresh needs no retry.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, {
        DPoP,
        ...insecure,
      }),
    );
    assert.equal(refreshed.token_type, 'dpop');
  });
});
