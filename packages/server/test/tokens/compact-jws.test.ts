import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import { SIGNING_ALGS } from '../../src/index.js';
import { compactSigner, SignatureBurst } from '../../src/tokens/compact-jws.js';
import type { AccessTokenClaims } from '../../src/tokens/token-format.js';
import { startTestServer } from '../helpers/test-server.js';

const SAMPLE = 400;

/** Claims of every shape the server issues: with and without sid, roles, audience lists, unicode. */
function claimsNumber(i: number): AccessTokenClaims {
  const iat = 1_767_268_800 + i * 37;
  return {
    iss: i % 3 === 0 ? 'http://127.0.0.1:4000' : 'https://auth.example.com/tenant/é',
    sub: `user-${randomBytes(8).toString('hex')}`,
    aud: i % 4 === 0 ? ['https://api.example.com', 'orders-api'] : 'http://127.0.0.1:4000',
    client_id: i % 2 === 0 ? 'web' : 'mobile "app"',
    scope: i % 5 === 0 ? '' : 'openid profile orders:read',
    jti: randomBytes(16).toString('base64url'),
    iat,
    exp: iat + 300 + (i % 7),
    ...(i % 6 === 0 ? {} : { sid: randomBytes(16).toString('base64url') }),
    ...(i % 3 === 1 ? { roles: ['admin', `r${i}`, 'ünï'] } : {}),
  };
}

describe('access tokens signed on the spot (node:crypto sign, compact JWS)', () => {
  for (const alg of SIGNING_ALGS) {
    it(`${alg}: ${SAMPLE} issued tokens verify with jose.jwtVerify and equal what jose.SignJWT makes`, async () => {
      const s = await startTestServer({ config: { signingAlg: alg } });
      try {
        const ring = s.tessera.ctx.keyRing;
        const format = s.tessera.ctx.defaultFormat;
        assert.equal(format.name, 'jwt');
        const { kid, privateKey } = ring.current();
        const publicJwk = ring.jwks().keys.find((k) => k.kid === kid)!;
        const publicKey = await importJWK(publicJwk, alg);
        for (let i = 0; i < SAMPLE; i++) {
          const claims = claimsNumber(i);
          const token = await format.issue(claims);
          const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
            algorithms: [alg],
            typ: 'at+jwt',
            issuer: claims.iss,
            currentDate: new Date(claims.iat * 1000),
          });
          assert.deepEqual(protectedHeader, { alg, typ: 'at+jwt', kid });
          assert.deepEqual(payload, claims);
          // jose's own JWT of the same claims and header, with the same private key.
          const reference = await new SignJWT({ ...claims })
            .setProtectedHeader({ alg, typ: 'at+jwt', kid })
            .sign(privateKey);
          const [h, p, sig] = token.split('.');
          const [rh, rp, rsig] = reference.split('.');
          assert.equal(h, rh, 'header bytes');
          assert.equal(p, rp, 'payload bytes');
          if (alg === 'ES256') {
            // ECDSA signatures are randomised; both are 64 bytes of r‖s and both verify.
            assert.equal(Buffer.from(sig!, 'base64url').length, 64);
            assert.equal(Buffer.from(rsig!, 'base64url').length, 64);
          } else {
            // Ed25519 and RSASSA-PKCS1-v1_5 are deterministic: the very same token.
            assert.equal(sig, rsig, 'signature bytes');
          }
        }
        // The server's own path: a refreshed access token verifies against its JWKS.
        const login = await s.login();
        const refreshed = await s.refresh(login.refresh_token!);
        assert.equal(refreshed.status, 200);
        assert.equal(decodeProtectedHeader(refreshed.body.access_token).alg, alg);
        const claims = await format.verify(refreshed.body.access_token);
        assert.ok(claims?.sid, 'the server verifies its own token');
        // A tampered token does not verify.
        const bad = `${login.access_token.slice(0, -4)}AAAA`;
        assert.equal(await format.verify(bad), undefined);
      } finally {
        await s.close();
      }
    });
  }

  it('refuses a key that does not fit the algorithm, and a public key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => compactSigner({ alg: 'ES256' }, ed.privateKey), /does not fit/);
    assert.throws(() => compactSigner({ alg: 'ES256' }, p384.privateKey), /does not fit/);
    assert.throws(() => compactSigner({ alg: 'EdDSA' }, ec.privateKey), /does not fit/);
    assert.throws(() => compactSigner({ alg: 'RS256' }, ec.privateKey), /does not fit/);
    assert.throws(() => compactSigner({ alg: 'HS256' }, ec.privateKey), /cannot sign/);
    assert.throws(() => compactSigner({ alg: 'ES256' }, ec.publicKey), /private key/);
  });
});

describe('signatures in bursts (the tokens asked for in one turn, signed together at its end)', () => {
  it('signs nothing in the caller’s turn, then each payload with its own signer; a failed signature rejects only its own', async () => {
    const signed: string[] = [];
    const good = {
      sign: (payload: string) => {
        signed.push(payload);
        return `jws(${payload})`;
      },
    };
    const broken = {
      sign: () => {
        throw new Error('the key is gone');
      },
    };
    const burst = new SignatureBurst();
    const a = burst.sign(good, 'a');
    const b = burst.sign(broken, 'b');
    const c = burst.sign(good, 'c');
    assert.deepEqual(signed, [], 'nothing is signed before the turn ends');
    assert.equal(await a, 'jws(a)');
    await assert.rejects(b, /the key is gone/);
    assert.equal(await c, 'jws(c)');
    assert.deepEqual(signed, ['a', 'c']);
    // A later turn makes a burst of its own.
    assert.equal(await burst.sign(good, 'd'), 'jws(d)');
    assert.deepEqual(signed, ['a', 'c', 'd']);
  });

  it('64 access tokens issued at once by the server: distinct, and each verifies with its own claims', async () => {
    const s = await startTestServer({ config: { signingAlg: 'ES256' } });
    try {
      const ring = s.tessera.ctx.keyRing;
      const { kid } = ring.current();
      const publicKey = await importJWK(ring.jwks().keys.find((k) => k.kid === kid)!, 'ES256');
      const claims = Array.from({ length: 64 }, (_, i) => claimsNumber(i));
      const tokens = await Promise.all(claims.map((c) => s.tessera.ctx.defaultFormat.issue(c)));
      assert.equal(new Set(tokens).size, 64);
      for (const [i, token] of tokens.entries()) {
        const expected = claims[i]!;
        const { payload } = await jwtVerify(token, publicKey, {
          algorithms: ['ES256'],
          typ: 'at+jwt',
          issuer: expected.iss,
          currentDate: new Date(expected.iat * 1000),
        });
        assert.deepEqual(payload, expected);
      }
    } finally {
      await s.close();
    }
  });
});
