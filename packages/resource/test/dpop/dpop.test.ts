import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TesseraError } from '@tessera/protocol';
import express from 'express';
import Fastify from 'fastify';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createExpressAuth } from '../../src/adapters/express.js';
import { tesseraResource } from '../../src/adapters/fastify.js';
import { failureResponse } from '../../src/core/answers.js';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import { DpopVerifier } from '../../src/dpop/verify-dpop-proof.js';
import { AUDIENCE, bearer, FakeIssuer, manualClock } from '../support/fake-issuer.js';

const ORIGIN = 'https://api.example.test';

async function holder() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const jkt = await calculateJwkThumbprint(jwk);
  return {
    jwk,
    jkt,
    privateJwk,
    proof: (
      htm: string,
      htu: string,
      token: string | undefined,
      iat: number,
      over: Record<string, unknown> = {},
      header: Record<string, unknown> = {},
    ) =>
      new SignJWT({
        jti: randomUUID(),
        htm,
        htu,
        iat,
        ...(token === undefined ? {} : { ath: createHash('sha256').update(token).digest('base64url') }),
        ...over,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK, ...header })
        .sign(privateKey),
  };
}

const dpopRequest = (url: string, token: string, proofs: string[], method = 'GET') => {
  const headers = new Headers({ authorization: `DPoP ${token}` });
  for (const p of proofs) headers.append('dpop', p);
  return new Request(url, { method, headers });
};

describe('DPoP-bound access tokens at the resource server (RFC 9449 §7)', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  const clock = manualClock(Date.now());
  const now = () => Math.floor(clock.now() / 1000);
  let key: Awaited<ReturnType<typeof holder>>;
  let other: Awaited<ReturnType<typeof holder>>;
  let token: string;

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = now();
    rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock, origin: ORIGIN });
    key = await holder();
    other = await holder();
    token = await fake.sign({ claims: { cnf: { jkt: key.jkt } } });
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  const url = `${ORIGIN}/orders?page=2`;
  const refusedWith = async (request: Request, error: string, description?: RegExp) => {
    const result = await rs.authenticate(request);
    assert.equal(result.ok, false);
    if (result.ok) return result;
    assert.equal(result.status, 401);
    assert.match(result.wwwAuthenticate ?? '', new RegExp(`^DPoP .*error="${error}"`));
    assert.match(result.wwwAuthenticate ?? '', /algs="ES256 EdDSA RS256"/);
    if (description) assert.match(result.error.message, description);
    return result;
  };

  it('accepts a bound token with Authorization: DPoP and a valid proof with ath', async () => {
    const proof = await key.proof('GET', `${ORIGIN}/orders`, token, now());
    const result = await rs.authenticate(dpopRequest(url, token, [proof]));
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it('refuses a bound token sent as Bearer', async () => {
    await refusedWith(bearer(token), 'invalid_token', /DPoP-bound/);
  });

  it('refuses an unbound token sent with the DPoP scheme', async () => {
    const plain = await fake.sign();
    const proof = await key.proof('GET', `${ORIGIN}/orders`, plain, now());
    await refusedWith(dpopRequest(url, plain, [proof]), 'invalid_token', /not DPoP-bound/);
  });

  it('refuses a missing proof, two proofs, a proof by another key', async () => {
    await refusedWith(dpopRequest(url, token, []), 'invalid_dpop_proof', /needs a DPoP proof/);
    const p = await key.proof('GET', `${ORIGIN}/orders`, token, now());
    await refusedWith(dpopRequest(url, token, [p, p]), 'invalid_dpop_proof', /more than once/);
    const o = await other.proof('GET', `${ORIGIN}/orders`, token, now());
    await refusedWith(dpopRequest(url, token, [o]), 'invalid_dpop_proof', /another key/);
  });

  it('refuses a missing or wrong ath', async () => {
    const none = await key.proof('GET', `${ORIGIN}/orders`, undefined, now());
    await refusedWith(dpopRequest(url, token, [none]), 'invalid_dpop_proof', /ath/);
    const wrong = await key.proof('GET', `${ORIGIN}/orders`, 'another-token', now());
    await refusedWith(dpopRequest(url, token, [wrong]), 'invalid_dpop_proof', /ath/);
  });

  it('refuses a wrong htm, a wrong htu, an iat 10 minutes off', async () => {
    const post = await key.proof('POST', `${ORIGIN}/orders`, token, now());
    await refusedWith(dpopRequest(url, token, [post]), 'invalid_dpop_proof', /htm/);
    const elsewhere = await key.proof('GET', `${ORIGIN}/admin`, token, now());
    await refusedWith(dpopRequest(url, token, [elsewhere]), 'invalid_dpop_proof', /htu/);
    for (const skew of [-600, 600]) {
      const p = await key.proof('GET', `${ORIGIN}/orders`, token, now() + skew);
      await refusedWith(dpopRequest(url, token, [p]), 'invalid_dpop_proof', /iat/);
    }
  });

  it('refuses a private key in the jwk, alg none, an unknown crit, an oversized proof', async () => {
    const priv = await key.proof('GET', `${ORIGIN}/orders`, token, now(), {}, { jwk: key.privateJwk });
    await refusedWith(dpopRequest(url, token, [priv]), 'invalid_dpop_proof', /private/);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${part({ alg: 'none', typ: 'dpop+jwt', jwk: key.jwk })}.${part({ jti: 'n', htm: 'GET', htu: `${ORIGIN}/orders`, iat: now() })}.`;
    await refusedWith(dpopRequest(url, token, [none]), 'invalid_dpop_proof', /signed with one of/);
    const crit = `${part({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk, crit: ['x'], x: 1 })}.${part({})}.AAAA`;
    await refusedWith(dpopRequest(url, token, [crit]), 'invalid_dpop_proof', /critical/);
    await refusedWith(
      dpopRequest(url, token, [`${'a'.repeat(9000)}.b.c`]),
      'invalid_dpop_proof',
      /too large/,
    );
  });

  it('refuses a replayed proof (per-resource-server jti cache), also under another spelling of htu', async () => {
    const jti = 'replayed-jti';
    const p = await key.proof('GET', `${ORIGIN}/orders`, token, now(), { jti });
    assert.equal((await rs.authenticate(dpopRequest(url, token, [p]))).ok, true);
    await refusedWith(dpopRequest(url, token, [p]), 'invalid_dpop_proof', /already used/);
    const respelled = await key.proof('GET', `${ORIGIN.toUpperCase()}:443/orders#x`, token, now(), { jti });
    await refusedWith(dpopRequest(url, token, [respelled]), 'invalid_dpop_proof', /already used/);
  });

  it('keeps the replay cache bounded: when full of live proofs it refuses new ones (503) instead of forgetting one', async () => {
    const verifier = new DpopVerifier({
      clock,
      windowSeconds: 60,
      replayCacheSize: 3,
      maxProofBytes: 8192,
      maxJtiLength: 256,
    });
    const at = `${ORIGIN}/orders`;
    const check = (p: string, u = at) =>
      verifier.verify({ proofs: [p], token, jkt: key.jkt, method: 'GET', url: u });
    const captured = await key.proof('GET', at, token, now());
    await check(captured);
    // A flood of fresh proofs (here: two fill it, the third finds no room).
    await check(await key.proof('GET', at, token, now()));
    await check(
      await key.proof('GET', `${at}/${'x'.repeat(4000)}`, token, now()),
      `${at}/${'x'.repeat(4000)}`,
    );
    assert.equal(verifier.remembered, 3);
    await assert.rejects(check(await key.proof('GET', at, token, now())), (e: TesseraError) => {
      assert.equal(e.code, 'temporarily_unavailable');
      assert.equal(e.status, 503);
      assert.equal(e.retryAfter, 1);
      return true;
    });
    assert.equal(verifier.remembered, 3);
    // The captured proof is still remembered: its replay is refused, not accepted.
    await assert.rejects(check(captured), /already used/);
    // Once the window has passed, the expired entries make room again (and the old proof is too old anyway).
    clock.advance(62_000);
    await check(await key.proof('GET', at, token, now()));
    assert.equal(verifier.remembered, 1);
  });

  it('answers a full replay cache with a retryable 503, not a 401', async () => {
    const small = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      origin: ORIGIN,
      dpopReplayCacheSize: 1,
    });
    fake.nowSeconds = now();
    const t = await fake.sign({ claims: { cnf: { jkt: key.jkt } } });
    const ok = await small.authenticate(
      dpopRequest(url, t, [await key.proof('GET', `${ORIGIN}/orders`, t, now())]),
    );
    assert.equal(ok.ok, true);
    const full = await small.authenticate(
      dpopRequest(url, t, [await key.proof('GET', `${ORIGIN}/orders`, t, now())]),
    );
    assert.equal(full.ok, false);
    if (!full.ok) {
      assert.equal(full.status, 503);
      assert.equal(failureResponse(full).headers.get('retry-after'), '1');
    }
    small.close();
  });

  it('without origin, expects the request URL; with a nonce secret, answers use_dpop_nonce with DPoP-Nonce', async () => {
    const noOrigin = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      dpopNonceSecret: randomBytes(32),
    });
    const local = 'http://127.0.0.1:9999/orders';
    const p = await key.proof('GET', local, token, now());
    const first = await noOrigin.authenticate(dpopRequest(local, token, [p]));
    assert.equal(first.ok, false);
    if (first.ok) return;
    assert.match(first.wwwAuthenticate ?? '', /^DPoP .*error="use_dpop_nonce"/);
    assert.equal(first.status, 401);
    const nonce = first.dpopNonce;
    assert.equal(typeof nonce, 'string');
    assert.equal(failureResponse(first).headers.get('dpop-nonce'), nonce);
    const retry = await key.proof('GET', local, token, now(), { nonce });
    assert.equal((await noOrigin.authenticate(dpopRequest(local, token, [retry]))).ok, true);
    clock.advance(10 * 60_000 + 1);
    fake.nowSeconds = now();
    const freshToken = await fake.sign({ claims: { cnf: { jkt: key.jkt } } });
    const stale = await key.proof('GET', local, freshToken, now(), { nonce });
    const refused = await noOrigin.authenticate(dpopRequest(local, freshToken, [stale]));
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.match(refused.wwwAuthenticate ?? '', /use_dpop_nonce/);
    noOrigin.close();
  });

  it('the Fastify and Express adapters check proofs against the request URL or the origin', async () => {
    fake.nowSeconds = now();
    const bound = await fake.sign({ claims: { cnf: { jkt: key.jkt } } });
    const app = Fastify();
    await app.register(tesseraResource, { issuer: fake.issuer, audience: AUDIENCE, clock, origin: ORIGIN });
    app.get('/orders', { onRequest: app.requireAuth() }, async (req) => ({ sub: req.auth?.sub }));
    const good = await app.inject({
      method: 'GET',
      url: '/orders?x=1',
      headers: {
        authorization: `DPoP ${bound}`,
        dpop: await key.proof('GET', `${ORIGIN}/orders`, bound, now()),
      },
    });
    assert.equal(good.statusCode, 200, good.body);
    const asBearer = await app.inject({
      method: 'GET',
      url: '/orders',
      headers: { authorization: `Bearer ${bound}` },
    });
    assert.equal(asBearer.statusCode, 401);
    assert.match(String(asBearer.headers['www-authenticate']), /^DPoP /);
    await app.close();

    const ex = express();
    const auth = createExpressAuth({ issuer: fake.issuer, audience: AUDIENCE, clock });
    ex.get('/orders', auth.requireAuth(), (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    const server = ex.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    const target = `http://127.0.0.1:${port}/orders`;
    const ok = await fetch(target, {
      headers: { authorization: `DPoP ${bound}`, dpop: await key.proof('GET', target, bound, now()) },
    });
    assert.equal(ok.status, 200, await ok.text());
    const wrongHtu = await fetch(target, {
      headers: {
        authorization: `DPoP ${bound}`,
        dpop: await key.proof('GET', `${ORIGIN}/orders`, bound, now()),
      },
    });
    assert.equal(wrongHtu.status, 401);
    assert.match(wrongHtu.headers.get('www-authenticate') ?? '', /invalid_dpop_proof/);
    auth.server.close();
    server.close();
  });
});
