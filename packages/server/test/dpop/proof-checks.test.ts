import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { SignJWT } from 'jose';
import { saveClient } from '../../src/index.js';
import { dpopKey, rawEs256Jws, type TestDpopKey, unsignedJws } from '../helpers/dpop.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

// Every check of RFC 9449 §4.3, each refused on its own at the token endpoint, in the order of
// the OpenID Foundation's FAPI 2.0 DPoP negative tests, plus the guards against known defects
// of other implementations.

describe('DPoP proof checks at the token endpoint', () => {
  let s: TestServer;
  let key: TestDpopKey;
  let htu: string;
  const now = () => Math.floor(s.clock.now() / 1000);

  before(async () => {
    s = await startTestServer();
    await saveClient(s.tessera.ctx, {
      id: 'dpop-app',
      public: true,
      dpop: true,
      grantTypes: ['password', 'refresh_token'],
      defaultScope: 'profile',
    });
    key = await dpopKey();
    htu = `${s.tessera.ctx.config.issuer}${ENDPOINTS.token}`;
  });
  after(() => s.close());

  const passwordGrant = (dpop?: string | string[]) =>
    s.token(
      { grant_type: 'password', client_id: 'dpop-app', username: 'alice', password: PASSWORD },
      dpop === undefined ? {} : ({ dpop } as Record<string, string>),
    );
  const refused = async (dpop: string, description: RegExp) => {
    const res = await passwordGrant(dpop);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'invalid_dpop_proof');
    assert.match(res.body.error_description, description);
  };

  it('accepts a good proof and binds the tokens to its key', async () => {
    const res = await passwordGrant(await key.proof('POST', htu, { iat: now() }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'DPoP');
    const introspected = await s.introspect(res.body.access_token);
    assert.deepEqual(introspected.cnf, { jkt: key.jkt });
    assert.equal(introspected.token_type, 'DPoP');
  });

  it('a client added with --dpop must send a proof', async () => {
    const res = await passwordGrant();
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_dpop_proof');
  });

  it('refuses two DPoP headers', async () => {
    const proof = await key.proof('POST', htu, { iat: now() });
    const body = new URLSearchParams({
      grant_type: 'password',
      client_id: 'dpop-app',
      username: 'alice',
      password: PASSWORD,
    }).toString();
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.token,
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: [proof, proof] },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error_description, /DPoP header was sent more than once/);
  });

  it('refuses an oversized proof before parsing it', async () => {
    await refused(`${'a'.repeat(9000)}.b.c`, /too large/);
  });

  it('refuses what is not a JWS', async () => {
    await refused('not-a-jwt', /not a compact JWS/);
  });

  it('refuses a typ other than dpop+jwt', async () => {
    await refused(await key.proof('POST', htu, { iat: now(), header: { typ: 'JWT' } }), /typ/);
  });

  it('refuses alg none', async () => {
    const proof = unsignedJws(
      { alg: 'none', typ: 'dpop+jwt', jwk: key.jwk },
      { jti: 'x1', htm: 'POST', htu, iat: now() },
    );
    await refused(proof, /signed with one of ES256, EdDSA, RS256/);
  });

  it('refuses HS256, even with a symmetric key in the header', async () => {
    const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const proof = await new SignJWT({ jti: 'x2', htm: 'POST', htu, iat: now() })
      .setProtectedHeader({
        alg: 'HS256',
        typ: 'dpop+jwt',
        jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as never,
      })
      .sign(secret);
    await refused(proof, /signed with one of/);
  });

  it('refuses a proof signed by another key than its jwk', async () => {
    const other = await dpopKey();
    const proof = await new SignJWT({ jti: 'x3', htm: 'POST', htu, iat: now() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
      .sign(other.privateKey);
    await refused(proof, /signature does not verify/);
  });

  it('refuses a private key in the jwk, even with a valid signature (CVE-2026-54431)', async () => {
    const proof = await key.proof('POST', htu, { iat: now(), header: { jwk: key.privateJwk } });
    await refused(proof, /private key material/);
  });

  it('refuses a jwk whose curve does not match alg', async () => {
    const ed = await dpopKey('EdDSA');
    const proof = await new SignJWT({ jti: 'x4', htm: 'POST', htu, iat: now() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: ed.jwk })
      .sign(key.privateKey);
    await refused(proof, /type and curve/);
    const p384 = { ...key.jwk, crv: 'P-384' };
    await refused(await key.proof('POST', htu, { iat: now(), header: { jwk: p384 } }), /type and curve/);
  });

  it('refuses an unknown crit (CVE-2025-59420)', async () => {
    const proof = rawEs256Jws(
      key,
      {
        alg: 'ES256',
        typ: 'dpop+jwt',
        jwk: key.jwk,
        crit: ['urn:example:unknown'],
        'urn:example:unknown': true,
      },
      { jti: 'crit-1', htm: 'POST', htu, iat: now() },
    );
    // Signed well, so only the crit check refuses it: the same proof without crit passes.
    const plain = rawEs256Jws(
      key,
      { alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk },
      { jti: 'crit-2', htm: 'POST', htu, iat: now() },
    );
    assert.equal((await passwordGrant(plain)).status, 200);
    await refused(proof, /critical extension/);
  });

  it('refuses a proof without a jwk in its header', async () => {
    const proof = rawEs256Jws(
      key,
      { alg: 'ES256', typ: 'dpop+jwt' },
      { jti: 'no-jwk', htm: 'POST', htu, iat: now() },
    );
    await refused(proof, /public key as jwk/);
  });

  it('refuses a missing htm, a missing htu and a missing or non-numeric iat', async () => {
    await refused(await key.proof('POST', htu, { iat: now(), claims: { htm: undefined } }), /htm/);
    await refused(await key.proof('POST', htu, { iat: now(), claims: { htu: undefined } }), /htu/);
    await refused(await key.proof('POST', htu, { claims: { iat: undefined } }), /numeric iat/);
    await refused(await key.proof('POST', htu, { claims: { iat: String(now()) } }), /numeric iat/);
  });

  it('the htu is the issuer: X-Forwarded-Host and -Proto sent by a client do not move it', async () => {
    const body = new URLSearchParams({
      grant_type: 'password',
      client_id: 'dpop-app',
      username: 'alice',
      password: PASSWORD,
    }).toString();
    const forwarded = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const send = async (proof: string) =>
      s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.token,
        payload: body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof, ...forwarded },
      });
    const steered = await send(await key.proof('POST', 'https://evil.example/oauth/token', { iat: now() }));
    assert.equal(steered.statusCode, 400);
    assert.match(steered.json().error_description, /htu/);
    const honest = await send(await key.proof('POST', htu, { iat: now() }));
    assert.equal(honest.statusCode, 200, honest.body);
  });

  it('refuses a missing jti', async () => {
    await refused(await key.proof('POST', htu, { iat: now(), claims: { jti: undefined } }), /jti/);
  });

  it('refuses a wrong htm', async () => {
    await refused(await key.proof('GET', htu, { iat: now() }), /htm/);
  });

  it('refuses a wrong htu', async () => {
    await refused(await key.proof('POST', `${htu}/other`, { iat: now() }), /htu/);
    await refused(await key.proof('POST', 'https://evil.example/oauth/token', { iat: now() }), /htu/);
    await refused(await key.proof('POST', `${htu.replace('http:', 'https:')}`, { iat: now() }), /htu/);
  });

  it('compares htu without query and fragment, normalised', async () => {
    const spelled = htu.replace('http://', 'HTTP://').replace('/oauth/', '/oauth/./%74oken/../') + '?a=1#f';
    const res = await passwordGrant(await key.proof('POST', spelled, { iat: now() }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('accepts iat 10 s early or late, refuses 10 min either way', async () => {
    for (const skew of [-10, 10]) {
      const res = await passwordGrant(await key.proof('POST', htu, { iat: now() + skew }));
      assert.equal(res.status, 200, `skew ${skew}: ${JSON.stringify(res.body)}`);
    }
    await refused(await key.proof('POST', htu, { iat: now() - 600 }), /iat/);
    await refused(await key.proof('POST', htu, { iat: now() + 600 }), /iat/);
  });

  it('refuses a replayed jti', async () => {
    const proof = await key.proof('POST', htu, { iat: now() });
    assert.equal((await passwordGrant(proof)).status, 200);
    await refused(proof, /already used/);
  });

  it('keys the replay check on the normalised htu, so another spelling is still a replay', async () => {
    const jti = 'same-jti-two-spellings';
    const first = await key.proof('POST', htu, { iat: now(), claims: { jti } });
    assert.equal((await passwordGrant(first)).status, 200);
    const respelled = await key.proof('POST', `${htu.replace('http://', 'HTTP://')}?x=1`, {
      iat: now(),
      claims: { jti },
    });
    await refused(respelled, /already used/);
  });

  it('remembers a jti for as long as the window could accept its proof', async () => {
    const proof = await key.proof('POST', htu, { iat: now() + 50 });
    assert.equal((await passwordGrant(proof)).status, 200);
    s.clock.advance(100_000); // now = iat + 50 s: still inside the window, still a replay
    await refused(proof, /already used/);
    s.clock.advance(20_000); // past iat + 60 s: outside the window
    await refused(proof, /iat/);
  });

  it('fails closed (503, retryable) when the replay store cannot answer', async () => {
    const replay = s.tessera.ctx.stores.replay;
    const original = replay.insertIfAbsent;
    replay.insertIfAbsent = async () => {
      const { StoreUnavailableError } = await import('../../src/errors.js');
      throw new StoreUnavailableError('replay store down');
    };
    try {
      const res = await passwordGrant(await key.proof('POST', htu, { iat: now() }));
      assert.equal(res.status, 503);
      assert.equal(res.body.retryable, true);
    } finally {
      replay.insertIfAbsent = original;
    }
  });

  it('accepts EdDSA and RS256 proofs; refuses an RSA key under 2048 bits', async () => {
    for (const alg of ['EdDSA', 'RS256'] as const) {
      const k = await dpopKey(alg);
      const res = await passwordGrant(await k.proof('POST', htu, { iat: now() }));
      assert.equal(res.status, 200, `${alg}: ${JSON.stringify(res.body)}`);
    }
    const rsa = await dpopKey('RS256');
    const short = { ...rsa.jwk, n: (rsa.jwk.n as string).slice(0, 170) };
    await refused(await rsa.proof('POST', htu, { iat: now(), header: { jwk: short } }), /type and curve/);
  });

  it('advertises the proof algorithms in the metadata', async () => {
    const res = await s.tessera.app.inject({ method: 'GET', url: ENDPOINTS.metadata });
    assert.deepEqual(res.json().dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'RS256']);
  });
});
