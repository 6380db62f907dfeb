import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTesseraClient } from '../../src/index.js';

/** The slice of oidc-provider 9 used here (the package ships no types). */
interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, fn: (...args: unknown[]) => void): void;
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => { addOIDCScope(s: string): void; save(): Promise<string> };
  Client: { find(id: string): Promise<unknown> };
  RefreshToken: new (init: Record<string, unknown>) => { save(): Promise<string> };
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => ProviderLike;

// A non-literal specifier keeps TypeScript from looking for types the package does not ship.
const specifier: string = 'oidc-provider';

let server: Server;
let provider: ProviderLike;
let issuer = '';
let rotatedSeen = 0;

before(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { default: Provider } = (await import(specifier)) as { default: ProviderClass };
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'sdk',
        client_secret: 'sdk-secret-0123456789',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    rotateRefreshToken: true,
    ttl: { AccessToken: 600, Grant: 86_400, RefreshToken: 86_400, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    issueRefreshToken: async () => true,
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });
  provider.on('refresh_token.consumed', () => {
    rotatedSeen++;
  });
  server.on('request', provider.callback());
});
after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Mints a refresh token through the Grant and RefreshToken models, without the code flow. */
async function mintRefreshToken(): Promise<string> {
  const grant = new provider.Grant({ accountId: 'user-1', clientId: 'sdk' });
  grant.addOIDCScope('openid offline_access');
  const grantId = await grant.save();
  const client = await provider.Client.find('sdk');
  const token = new provider.RefreshToken({
    accountId: 'user-1',
    client,
    grantId,
    gty: 'authorization_code',
    scope: 'openid offline_access',
  });
  return token.save();
}

describe('against oidc-provider 9 (a server nobody here wrote), refresh-token rotation on', () => {
  it('refreshes through the SDK unmodified, stores the rotated token, and the old one is then reuse', async () => {
    const stored = new Map<string, string>();
    let skip = 0;
    const client = createTesseraClient({
      clock: { now: () => Date.now() + skip },
      tokenEndpoint: `${issuer}/token`,
      clientId: 'sdk',
      clientSecret: 'sdk-secret-0123456789',
      storage: {
        get: (k) => stored.get(k) ?? null,
        set: (k, v) => {
          stored.set(k, v);
        },
        remove: (k) => {
          stored.delete(k);
        },
      },
    });
    const first = await mintRefreshToken();
    await client.signInWithTokens({
      access_token: 'placeholder',
      token_type: 'Bearer',
      expires_in: 1,
      refresh_token: first,
      scope: 'openid offline_access',
      revocation_endpoint: `${issuer}/token/revocation`,
    });
    const expired: unknown[] = [];
    client.subscribe('sessionExpired', (e) => expired.push(e));

    // 50 concurrent callers once the token has expired (client clock moved on): one refresh.
    skip = 10_000;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getAccessToken()));
    assert.ok(tokens[0] && tokens[0] !== 'placeholder');
    assert.ok(tokens.every((t) => t === tokens[0]));
    assert.equal(rotatedSeen, 1);
    const afterFirst = JSON.parse(stored.get('tessera:sdk') ?? '{}') as { refreshToken?: string };
    assert.ok(
      afterFirst.refreshToken && afterFirst.refreshToken !== first,
      'refresh token was rotated and stored',
    );

    // A second rotation through the SDK.
    const second = await client.refresh();
    assert.notEqual(second, tokens[0]);
    assert.equal(rotatedSeen, 2);
    const afterSecond = JSON.parse(stored.get('tessera:sdk') ?? '{}') as { refreshToken?: string };
    assert.notEqual(afterSecond.refreshToken, afterFirst.refreshToken);
    assert.equal(client.state, 'active');
    assert.equal(expired.length, 0);

    // Presenting the consumed first token (as a thief would) is reuse: oidc-provider answers
    // invalid_grant and revokes the grant; the SDK maps that through the table and ends the session.
    const thief = createTesseraClient({
      tokenEndpoint: `${issuer}/token`,
      clientId: 'sdk',
      clientSecret: 'sdk-secret-0123456789',
    });
    await thief.signInWithTokens({
      access_token: 'x',
      token_type: 'Bearer',
      expires_in: 1,
      refresh_token: first,
      scope: '',
      revocation_endpoint: '',
    });
    const thiefExpired: unknown[] = [];
    thief.subscribe('sessionExpired', (e) => thiefExpired.push(e));
    await assert.rejects(thief.refresh(), { code: 'invalid_grant', endsSession: true });
    assert.equal(thiefExpired.length, 1);
    assert.equal(thief.state, 'expired');
  });
});
