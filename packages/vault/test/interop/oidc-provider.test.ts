import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { exportJWK, generateKeyPair } from 'jose';
import {
  createTokenVault,
  ReauthenticationRequired,
  rekeyVault,
  SignInFailed,
  type TokenVault,
} from '../../src/index.js';
import { startChildVault } from '../support/child-vault.js';
import { type FaultProxy, startProxy } from '../support/proxy.js';
import { databaseBytes, makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

/** The slice of oidc-provider 9 used here (the package ships no types). */
interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, fn: (...args: unknown[]) => void): void;
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => ProviderLike;
// A non-literal specifier keeps TypeScript from looking for types the package does not ship.
const specifier: string = 'oidc-provider';

const REDIRECT = 'http://127.0.0.1:9/callback';
const WORKER_SECRET = 'worker-secret-0123456789abcdef';

/** A browser with a cookie jar that follows oidc-provider's dev interactions over HTTP. */
async function signInAsBrowser(startUrl: string, account: string): Promise<string> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  let url = startUrl;
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: cookieHeader(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    remember(res);
    body = undefined;
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      if (next.startsWith(REDIRECT)) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 300));
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    assert.ok(action, 'an interaction form');
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    url = new URL(action, url).href;
    body = new URLSearchParams(
      prompt === 'login'
        ? { prompt: 'login', login: account, password: 'any' }
        : { prompt: prompt ?? 'consent' },
    );
  }
  throw new Error('sign-in did not reach the redirect URI');
}

describe('against oidc-provider 9 (refresh rotation on, PAR, request objects, private_key_jwt)', () => {
  let server: Server;
  let proxy: FaultProxy & { setTarget(port: number): void };
  let clock: TestClock;
  let db: ReturnType<typeof tempDb>;
  let vault: TokenVault;
  let consumed = 0;
  let parSeen = 0;
  const handedOut: string[] = [];

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'vault-1', alg: 'ES256' };
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'vault-1', alg: 'ES256', use: 'sig' };
    proxy = await startProxy();
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy.setTarget((server.address() as AddressInfo).port);
    const { default: Provider } = (await import(specifier)) as { default: ProviderClass };
    const provider = new Provider(proxy.url, {
      clients: [
        {
          client_id: 'bff',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          request_object_signing_alg: 'ES256',
          jwks: { keys: [publicJwk] },
        },
        {
          client_id: 'worker',
          client_secret: WORKER_SECRET,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      pkce: { required: () => true },
      rotateRefreshToken: true,
      features: {
        devInteractions: { enabled: true },
        revocation: { enabled: true },
        pushedAuthorizationRequests: { enabled: true },
        requestObjects: { enabled: true },
      },
      ttl: {
        AccessToken: 600,
        Grant: 86_400,
        RefreshToken: 86_400,
        IdToken: 600,
        Interaction: 600,
        Session: 86_400,
      },
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    });
    provider.on('refresh_token.consumed', () => {
      consumed++;
    });
    provider.on('pushed_authorization_request.success', () => {
      parSeen++;
    });
    server.on('request', provider.callback());
    clock = new TestClock(Date.now());
    db = tempDb();
    vault = await createTokenVault({
      issuer: proxy.url,
      clientId: 'bff',
      clientAuth: 'private_key_jwt',
      key: privateJwk,
      redirectUri: REDIRECT,
      database: db.path,
      keys: makeKeys(['k1']),
      clock,
    });
  });
  after(async () => {
    await vault.close();
    await proxy.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    db.cleanup();
  });

  async function signIn(userId: string, account = userId) {
    const { url, state } = await vault.startSignIn(userId);
    const callback = await signInAsBrowser(url, account);
    assert.equal(new URL(callback).searchParams.get('state'), state);
    return vault.finishSignIn(userId, callback);
  }

  it('discovers OpenID Connect metadata (no RFC 8414 document here)', () => {
    assert.equal(vault.issuer, proxy.url);
    assert.ok(vault.upstream.metadata.pushed_authorization_request_endpoint);
  });

  it('signs a user in end to end: PKCE, PAR, a signed request object, state and nonce checked, set saved', async () => {
    const before = parSeen;
    const { url } = await vault.startSignIn('alice');
    const params = new URL(url).searchParams;
    assert.ok(params.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'), 'PAR was used');
    assert.equal(
      params.get('code_challenge'),
      null,
      'nothing but client_id and request_uri in the browser URL',
    );
    const callback = await signInAsBrowser(url, 'alice');
    const result = await vault.finishSignIn('alice', callback);
    assert.equal(parSeen, before + 1);
    const par = proxy.posts.filter((p) => p.path.includes('/request')).at(-1);
    assert.ok(par?.params.includes('request'), 'the pushed request carried a signed request object');
    assert.ok(par?.params.includes('client_assertion'), 'private_key_jwt client authentication');
    assert.ok(!par?.params.includes('code_challenge'), 'PKCE parameters only inside the signed object');
    assert.equal(result.claims?.sub, 'alice');
    assert.match(result.scope ?? '', /offline_access/);
    const [status] = await vault.status('alice');
    assert.equal(status?.state, 'active');
    assert.equal(status?.hasRefreshToken, true);
    handedOut.push(await vault.getValidAccessToken('alice'));
    // The callback is single use.
    await assert.rejects(vault.finishSignIn('alice', callback), SignInFailed);
  });

  it('refuses a callback for another user, a forged state, and an error answer', async () => {
    const { url } = await vault.startSignIn('bob');
    const callback = await signInAsBrowser(url, 'bob');
    await assert.rejects(vault.finishSignIn('mallory', callback), /another user/);
    await assert.rejects(vault.finishSignIn('bob', `${REDIRECT}?code=x&state=forged`), SignInFailed);
    await assert.rejects(vault.finishSignIn('bob', `${REDIRECT}?code=x`), /no state/);
    const { state } = await vault.startSignIn('bob');
    await assert.rejects(
      vault.finishSignIn(
        'bob',
        `${REDIRECT}?error=access_denied&state=${state}&iss=${encodeURIComponent(proxy.url)}`,
      ),
      /access_denied/,
    );
  });

  it('200 concurrent callers at expiry: exactly one refresh at oidc-provider (rotation on)', async () => {
    await signIn('carol');
    const before = consumed;
    const seen = proxy.refreshGrants();
    clock.advance(601_000);
    const tokens = await Promise.all(Array.from({ length: 200 }, () => vault.getValidAccessToken('carol')));
    assert.equal(consumed - before, 1, 'one refresh token consumed at the upstream');
    assert.equal(proxy.refreshGrants() - seen, 1);
    assert.ok(tokens.every((t) => t === tokens[0]));
    handedOut.push(tokens[0]!);
    // And again: the rotated refresh token was stored.
    clock.advance(601_000);
    const again = await vault.getValidAccessToken('carol');
    assert.notEqual(again, tokens[0]);
    assert.equal(consumed - before, 2);
    handedOut.push(again);
  });

  it('reuse detected upstream (invalid_grant): ReauthenticationRequired and the set gone', async () => {
    await signIn('dave');
    // A lost response on an upstream without grace: the retry presents a consumed token.
    proxy.loseResponses = 1;
    clock.advance(601_000);
    await assert.rejects(vault.getValidAccessToken('dave'), (err: unknown) => {
      assert.ok(err instanceof ReauthenticationRequired);
      assert.equal(err.upstreamError.error, 'invalid_grant');
      return true;
    });
    const [status] = await vault.status('dave');
    assert.equal(status?.state, 'needs_reauthorization');
    const seen = proxy.seen.length;
    await assert.rejects(vault.getValidAccessToken('dave'), ReauthenticationRequired);
    assert.equal(proxy.seen.length, seen);
  });

  it('signOut revokes the refresh token at oidc-provider', async () => {
    await signIn('erin');
    assert.deepEqual(await vault.signOut('erin'), { revokedUpstream: true });
    assert.equal((await vault.status('erin'))[0]?.state, 'revoked');
  });

  it('two processes sharing one SQLite file, 50 callers each, at expiry: one refresh at oidc-provider', async () => {
    const shared = tempDb();
    const keys = makeKeys();
    const local = await createTokenVault({
      issuer: proxy.url,
      clientId: 'worker',
      clientSecret: WORKER_SECRET,
      redirectUri: REDIRECT,
      database: shared.path,
      keys,
      clock,
    });
    const { url } = await local.startSignIn('frank');
    await local.finishSignIn('frank', await signInAsBrowser(url, 'frank'));
    const first = await local.getValidAccessToken('frank');
    const setup = {
      issuer: proxy.url,
      clientId: 'worker',
      clientSecret: WORKER_SECRET,
      database: shared.path,
      keys,
      nowMs: clock.now() + 601_000,
    };
    const children = await Promise.all([startChildVault(setup), startChildVault(setup)]);
    try {
      const before = consumed;
      const results = await Promise.all(children.map((c) => c.get('frank', 50)));
      for (const r of results) assert.deepEqual(r.errors, []);
      const tokens = new Set(results.flatMap((r) => r.tokens));
      assert.equal(tokens.size, 1);
      assert.ok(!tokens.has(first));
      assert.equal(consumed - before, 1, 'one refresh token consumed at oidc-provider');
    } finally {
      await Promise.all(children.map((c) => c.exit()));
      await local.close();
      shared.cleanup();
    }
  });

  it('rekey re-encrypts pending sign-ins too: one started under the old key finishes with the new key alone', async () => {
    const shared = tempDb();
    const k1 = makeKeys(['k1']);
    const k2 = makeKeys(['k2']);
    const options = {
      issuer: proxy.url,
      clientId: 'worker',
      clientSecret: WORKER_SECRET,
      redirectUri: REDIRECT,
      database: shared.path,
      clock,
    };
    const before = await createTokenVault({ ...options, keys: k1 });
    const started = await before.startSignIn('gina');
    await before.startSignIn('other'); // a second one, never finished
    await before.close();
    const callback = await signInAsBrowser(started.url, 'gina');
    const payloadKeys = () => {
      const raw = new Database(shared.path, { readonly: true });
      try {
        return (raw.prepare('SELECT payload FROM tessera_vault_signins').all() as { payload: string }[]).map(
          (r) => r.payload.split('.')[1],
        );
      } finally {
        raw.close();
      }
    };
    assert.deepEqual(payloadKeys(), ['k1', 'k1']);
    // `tessera vault rekey` with both keys, the new one current.
    const report = await rekeyVault({ database: shared.path, keys: { ...k1, ...k2, current: 'k2' }, clock });
    assert.deepEqual(report.signIns, { scanned: 2, rekeyed: 2, failed: 0 });
    assert.deepEqual(payloadKeys(), ['k2', 'k2']);
    const again = await rekeyVault({ database: shared.path, keys: { ...k1, ...k2, current: 'k2' }, clock });
    assert.deepEqual(again.signIns, { scanned: 2, rekeyed: 0, failed: 0 });
    // The old key is gone; the sign-in started under it still finishes, checks and all.
    const after = await createTokenVault({ ...options, keys: k2 });
    try {
      const result = await after.finishSignIn('gina', callback);
      assert.equal(result.claims?.sub, 'gina');
      assert.ok(await after.getValidAccessToken('gina'));
      // One no configured key opens is reported, not changed (it expires on its own).
      const report2 = await rekeyVault({ database: shared.path, keys: makeKeys(['k3']), clock });
      assert.deepEqual(report2.signIns, { scanned: 1, rekeyed: 0, failed: 1 });
      // Expired sign-ins are not touched: cleanup() deletes them.
      clock.advance(11 * 60_000);
      const report3 = await rekeyVault({ database: shared.path, keys: makeKeys(['k3']), clock });
      assert.deepEqual(report3.signIns, { scanned: 0, rekeyed: 0, failed: 0 });
    } finally {
      await after.close();
      shared.cleanup();
    }
  });

  it('the database file holds none of the tokens', () => {
    const bytes = databaseBytes(db.dir);
    for (const token of handedOut) assert.equal(bytes.includes(Buffer.from(token)), false);
  });
});
