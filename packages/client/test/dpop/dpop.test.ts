import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axios from 'axios';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createDpop, memoryKeyStore, storageKeyStore } from '../../src/dpop/index.js';
import { createTesseraClient } from '../../src/index.js';
import { attachAxios } from '../../src/integrations/axios.js';
import { createFetch } from '../../src/integrations/fetch.js';
import { encryptedFileStorage } from '../../src/node/index.js';
import { memoryStorage } from '../../src/storage/index.js';

/** An access token (a JWT, unsigned here) that names `jkt` in `cnf`, as a bound token does. */
const jwtBoundTo = (jkt: string) =>
  `e30.${Buffer.from(JSON.stringify({ cnf: { jkt } })).toString('base64url')}.c2ln`;

const ath = async (token: string) =>
  Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');

describe('@tessera/client/dpop in Node', () => {
  it('signs proofs that jose verifies with the embedded key: typ, alg, jwk, htm, htu without query, iat, jti, ath', async () => {
    const now = 1_800_000_000_000;
    const dpop = createDpop({
      tokenEndpoint: 'https://auth.example.com/oauth/token',
      keyStore: memoryKeyStore(),
      clock: { now: () => now },
    });
    const proof = await dpop.proof('GET', 'https://api.example.com/orders?page=2#top', 'the-token');
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(now),
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(
      Object.keys(protectedHeader.jwk ?? {}).sort(),
      ['crv', 'kty', 'x', 'y'],
      'no private member',
    );
    assert.equal(payload.htm, 'GET');
    assert.equal(payload.htu, 'https://api.example.com/orders');
    assert.equal(payload.iat, now / 1000);
    assert.equal(payload.ath, await ath('the-token'));
    assert.match(String(payload.jti), /^[A-Za-z0-9_-]{22}$/);
    const again = await jwtVerify(await dpop.proof('GET', 'https://api.example.com/orders'), EmbeddedJWK, {
      currentDate: new Date(now),
    });
    assert.notEqual(again.payload.jti, payload.jti, 'a fresh jti per proof');
    assert.equal(again.payload.ath, undefined);
    assert.equal(await dpop.thumbprint(), await calculateJwkThumbprint(protectedHeader.jwk!));
  });

  it('keeps the key in the encrypted file store: the same key after a restart, never in plaintext, non-extractable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dpop-'));
    try {
      const key = randomBytes(32);
      const path = join(dir, 'session.enc');
      const first = storageKeyStore(encryptedFileStorage({ path, key }));
      const pair = await first.load();
      assert.equal(pair.privateKey.extractable, false);
      const restarted = await storageKeyStore(encryptedFileStorage({ path, key })).load();
      assert.equal(restarted.jkt, pair.jkt);
      const onDisk = readFileSync(path, 'utf8');
      assert.doesNotMatch(onDisk, /"d"|"kty"|P-256/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the signed fetch: a proof per request, DPoP scheme for the token, nonce remembered per origin, one use_dpop_nonce retry', async () => {
    const seen: Request[] = [];
    let nonceAsked = 0;
    const base = async (input: RequestInfo | URL) => {
      const request = input as Request;
      seen.push(request);
      const nonce = decodeJws(request.headers.get('dpop')!).nonce;
      if (nonce !== 'n-1') {
        nonceAsked++;
        return new Response(JSON.stringify({ error: 'use_dpop_nonce' }), {
          status: 400,
          headers: { 'content-type': 'application/json', 'dpop-nonce': 'n-1' },
        });
      }
      return new Response(await request.text(), { status: 200 });
    };
    const dpop = createDpop({
      tokenEndpoint: 'https://auth.example.com/oauth/token',
      endpoints: ['https://other.example.com/x'],
      keyStore: memoryKeyStore(),
      fetch: base as typeof fetch,
    });
    const res = await dpop.fetch('https://auth.example.com/oauth/token', {
      method: 'POST',
      body: 'grant_type=x',
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'grant_type=x', 'the body is sent again on the retry');
    assert.equal(nonceAsked, 1);
    assert.equal(seen.length, 2);
    // Remembered for the origin: the next request needs no retry.
    await dpop.fetch('https://auth.example.com/oauth/token', { method: 'POST', body: 'again' });
    assert.equal(seen.length, 3);
    // A request carrying a bound token: sent as DPoP, its proof names it by ath.
    const tok = jwtBoundTo(await dpop.thumbprint());
    await dpop.fetch('https://auth.example.com/me', { headers: { authorization: `Bearer ${tok}` } });
    const last = seen.at(-1)!;
    assert.equal(last.headers.get('authorization'), `DPoP ${tok}`);
    assert.equal(decodeJws(last.headers.get('dpop')!).ath, await ath(tok));
    // An endpoint listed on another origin has no nonce yet: asked again, once.
    await dpop.fetch('https://other.example.com/x');
    assert.equal(nonceAsked, 2);
  });
});

describe('what the signed fetch signs, and with which scheme', () => {
  const AS = 'https://auth.example.com';
  const API = 'https://api.example.com';
  const recorder = () => {
    const seen: Request[] = [];
    const base = (async (input: RequestInfo | URL) => {
      seen.push(input as Request);
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    return { seen, base };
  };

  it('signs token requests to the authorization server and DPoP requests to attached URLs, nothing else', async () => {
    const { seen, base } = recorder();
    const dpop = createDpop({
      tokenEndpoint: `${AS}/auth/oauth/token`,
      attachTo: (url) => url.origin === API,
      keyStore: memoryKeyStore(),
      fetch: base,
    });
    const proofOf = () => seen.at(-1)!.headers.get('dpop');
    // Token requests (sign-in, refresh, revocation, logout): the authorization server's origin.
    for (const path of ['/auth/oauth/token', '/auth/oauth/revoke', '/auth/api/auth/logout']) {
      await dpop.fetch(`${AS}${path}`, { method: 'POST', body: 'x' });
      assert.equal(decodeJws(proofOf()!).htu, `${AS}${path}`);
    }
    // A bound token to the API: a proof with ath.
    const tok = jwtBoundTo(await dpop.thumbprint());
    await dpop.fetch(`${API}/orders`, { headers: { authorization: `DPoP ${tok}` } });
    assert.equal(decodeJws(proofOf()!).ath, await ath(tok));
    // A third party, with or without a token, sees no proof (and so no key thumbprint).
    await dpop.fetch('https://cdn.example.net/lib.js');
    assert.equal(proofOf(), null);
    await dpop.fetch('https://tracker.example.net/x', { headers: { authorization: `DPoP ${tok}` } });
    assert.equal(proofOf(), null);
    // A bearer token is left as it is: no rewrite to DPoP, no proof.
    await dpop.fetch(`${API}/orders`, { headers: { authorization: 'Bearer tok' } });
    assert.equal(seen.at(-1)!.headers.get('authorization'), 'Bearer tok');
    assert.equal(proofOf(), null);
  });

  it('createFetch: DPoP only for a token answered token_type DPoP, Bearer (no proof) otherwise', async () => {
    for (const [tokenType, scheme] of [
      ['DPoP', 'DPoP'],
      ['Bearer', 'Bearer'],
    ] as const) {
      const seen: Request[] = [];
      const base = (async (input: RequestInfo | URL) => {
        const request = input as Request;
        seen.push(request);
        const body =
          new URL(request.url).origin === AS
            ? { access_token: 'tok', token_type: tokenType, expires_in: 600, scope: '' }
            : {};
        return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
      }) as typeof fetch;
      const dpop = createDpop({
        tokenEndpoint: `${AS}/oauth/token`,
        keyStore: memoryKeyStore(),
        fetch: base,
      });
      const client = createTesseraClient({
        tokenEndpoint: `${AS}/oauth/token`,
        clientId: 'web',
        fetch: dpop.fetch,
      });
      await client.signInWithPassword({ username: 'alice', password: 'pw' });
      assert.notEqual(seen[0]!.headers.get('dpop'), null, 'the sign-in carries a proof');
      await createFetch(client, { fetch: dpop.fetch, attachTo: () => true })(`${API}/orders`);
      assert.equal(seen.at(-1)!.headers.get('authorization'), `${scheme} tok`);
      assert.equal(seen.at(-1)!.headers.get('dpop') !== null, tokenType === 'DPoP', tokenType);
      client.close();
    }
  });

  it('a token it never saw (restored after a restart) is DPoP only when its JWT names this key', async () => {
    const { seen, base } = recorder();
    const dpop = createDpop({ tokenEndpoint: `${AS}/oauth/token`, keyStore: memoryKeyStore(), fetch: base });
    const jwt = (cnf: unknown) =>
      `e30.${Buffer.from(JSON.stringify({ sub: 'a', cnf })).toString('base64url')}.c2ln`;
    const mine = jwtBoundTo(await dpop.thumbprint());
    assert.equal(await dpop.isBound(mine), true);
    await dpop.fetch(`${API}/orders`, { headers: { authorization: `Bearer ${mine}` } });
    assert.equal(seen.at(-1)!.headers.get('authorization'), `DPoP ${mine}`);
    assert.equal(decodeJws(seen.at(-1)!.headers.get('dpop')!).ath, await ath(mine));
    for (const other of [jwt({ jkt: 'another-key' }), jwt(undefined), 'opaque-token']) {
      assert.equal(await dpop.isBound(other), false);
      await dpop.fetch(`${API}/orders`, { headers: { authorization: `Bearer ${other}` } });
      assert.equal(seen.at(-1)!.headers.get('authorization'), `Bearer ${other}`);
      assert.equal(seen.at(-1)!.headers.get('dpop'), null);
    }
  });

  it('storageKeyStore refuses a storage that does not encrypt at rest, with a clear error', () => {
    for (const storage of [memoryStorage(), { get: () => null, set() {}, remove() {} }]) {
      assert.throws(
        () => storageKeyStore(storage),
        (e: unknown) =>
          e instanceof TypeError && /encrypts at rest/.test(e.message) && /indexedDbKeyStore/.test(e.message),
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dpop-'));
    try {
      const storage = encryptedFileStorage({ path: join(dir, 'f'), key: randomBytes(32) });
      assert.equal(storage.encryptedAtRest, true);
      assert.doesNotThrow(() => storageKeyStore(storage));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('attachAxios with dpop', () => {
  it('sends Authorization: DPoP with a proof (htm, htu, ath) and retries a use_dpop_nonce answer once', async () => {
    const seen: { auth: string | undefined; proof: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      const proof = decodeJws(String(req.headers.dpop));
      seen.push({ auth: req.headers.authorization, proof });
      if (proof.nonce !== 'rs-nonce') {
        res.writeHead(401, {
          'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"',
          'dpop-nonce': 'rs-nonce',
        });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = createTesseraClient({ tokenEndpoint: `${origin}/oauth/token`, clientId: 'web' });
      const dpop = createDpop({ tokenEndpoint: `${origin}/oauth/token`, keyStore: memoryKeyStore() });
      // Obtained elsewhere (not through dpop.fetch): a JWT that names the key is known as bound.
      const bound = jwtBoundTo(await dpop.thumbprint());
      await client.signInWithTokens({
        access_token: bound,
        token_type: 'DPoP',
        expires_in: 600,
        scope: '',
        revocation_endpoint: `${origin}/oauth/revoke`,
      });
      const instance = axios.create({ baseURL: origin });
      attachAxios(client, instance, { dpop });
      const res = await instance.post('/api/orders?x=1', { item: 1 });
      assert.equal(res.status, 200);
      assert.equal(seen.length, 2, 'one retry with the nonce');
      for (const { auth, proof } of seen) {
        assert.equal(auth, `DPoP ${bound}`);
        assert.equal(proof.htm, 'POST');
        assert.equal(proof.htu, `${origin}/api/orders`);
        assert.equal(proof.ath, await ath(bound));
      }
      assert.notEqual(seen[0]!.proof.jti, seen[1]!.proof.jti);
      client.close();
    } finally {
      server.close();
    }
  });
});

function decodeJws(jws: string): Record<string, unknown> {
  decodeProtectedHeader(jws);
  return JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** The slice of oidc-provider 9 used here (the package ships no types). */
interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => { addOIDCScope(s: string): void; save(): Promise<string> };
  Client: { find(id: string): Promise<unknown> };
  RefreshToken: new (init: Record<string, unknown>) => { save(): Promise<string> };
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => ProviderLike;
const specifier: string = 'oidc-provider';

describe('the SDK in DPoP mode against oidc-provider 9 with DPoP and server nonces on', () => {
  let server: Server;
  let provider: ProviderLike;
  let issuer = '';
  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { default: Provider } = (await import(specifier)) as { default: ProviderClass };
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'spa',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: ['http://127.0.0.1/cb'],
          token_endpoint_auth_method: 'none',
        },
      ],
      rotateRefreshToken: true,
      features: {
        devInteractions: { enabled: false },
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      },
      issueRefreshToken: async () => true,
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    });
    server.on('request', provider.callback());
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refreshes a refresh token bound to its key (nonce retry included) and calls userinfo with the bound token', async () => {
    const answers: Record<string, unknown>[] = [];
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (String((input as Request).url ?? input).endsWith('/token'))
        answers.push(await response.clone().json());
      return response;
    }) as typeof fetch;
    const dpop = createDpop({ tokenEndpoint: `${issuer}/token`, keyStore: memoryKeyStore(), fetch: spy });
    const grant = new provider.Grant({ accountId: 'user-1', clientId: 'spa' });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const refreshToken = await new provider.RefreshToken({
      accountId: 'user-1',
      client: await provider.Client.find('spa'),
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access',
      jkt: await dpop.thumbprint(),
    }).save();
    const client = createTesseraClient({
      tokenEndpoint: `${issuer}/token`,
      clientId: 'spa',
      fetch: dpop.fetch,
      nonce: false,
    });
    await client.signInWithTokens({
      access_token: 'placeholder',
      token_type: 'DPoP',
      expires_in: 1,
      refresh_token: refreshToken,
      scope: 'openid offline_access',
      revocation_endpoint: `${issuer}/token/revocation`,
    });
    const token = await client.refresh();
    assert.notEqual(token, 'placeholder');
    assert.equal(answers.at(-1)?.token_type, 'DPoP');
    assert.equal(answers[0]?.error, 'use_dpop_nonce', JSON.stringify(answers));
    assert.equal(answers.length, 2);
    const api = createFetch(client, { fetch: dpop.fetch });
    const me = await api(`${issuer}/me`);
    assert.equal(me.status, 200, await me.clone().text());
    assert.equal(((await me.json()) as { sub: string }).sub, 'user-1');
    // A second rotation proves the same key.
    assert.notEqual(await client.refresh(), token);
    // Another key with the rotated refresh token: oidc-provider refuses it.
    const stolen = JSON.parse(JSON.stringify(answers.at(-1))) as { refresh_token: string };
    const thief = createDpop({ tokenEndpoint: `${issuer}/token`, keyStore: memoryKeyStore() });
    const res = await thief.fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: stolen.refresh_token,
        client_id: 'spa',
      }),
    });
    assert.equal(res.status, 400);
    client.close();
  });
});
