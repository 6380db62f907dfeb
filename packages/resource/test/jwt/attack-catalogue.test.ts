import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import {
  AUDIENCE,
  bearer,
  FakeIssuer,
  manualClock,
  RS_CLIENT_ID,
  RS_CLIENT_SECRET,
} from '../support/fake-issuer.js';
import { b64u, hmacRaw, signRaw, withSegment } from '../support/forge.js';

/**
 * Forged and malformed tokens from published JWT attacks, each refused with 401. `cheap`
 * attacks must be refused before any signature check or JWKS fetch; the others may cost at
 * most one signature check, as a valid token does.
 */
describe('attack catalogue', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  const clock = manualClock(Date.now());
  const now = () => Math.floor(clock.now() / 1000);
  const cases: Array<{ name: string; cheap: boolean; token: () => Promise<string> }> = [];
  const add = (name: string, cheap: boolean, token: () => Promise<string>) =>
    cases.push({ name, cheap, token });

  const claims = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      iss: fake.issuer,
      sub: 'user-1',
      aud: AUDIENCE,
      iat: now(),
      exp: now() + 900,
      jti: 'jti-x',
      client_id: 'web-app',
      scope: 'orders:read',
      sid: 'family-1',
      ...over,
    });
  const header = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: fake.es.kid, ...over });

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = now();
    rs = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      clientId: RS_CLIENT_ID,
      clientSecret: RS_CLIENT_SECRET,
      revocations: false,
    });
    // Warm the key set, so the accounting below sees only what each attack costs.
    const warm = await rs.authenticate(bearer(await fake.sign()));
    assert.ok(warm.ok);
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  // alg: none in every spelling, with and without a signature.
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    add(`alg ${alg}, empty signature`, true, async () => `${b64u(header({ alg }))}.${b64u(claims())}.`);
    add(`alg ${alg}, junk signature`, true, async () => `${b64u(header({ alg }))}.${b64u(claims())}.AAAA`);
  }
  // HS256 with the public key as the HMAC secret (CVE-2015-9235 and kin).
  add('HS256 with the RSA public key PEM', true, async () =>
    hmacRaw(header({ alg: 'HS256', kid: 'k-rs' }), claims(), new TextEncoder().encode(fake.keys[2]!.spki)),
  );
  add('HS256 with the EC public key PEM', true, async () =>
    hmacRaw(header({ alg: 'HS256' }), claims(), new TextEncoder().encode(fake.es.spki)),
  );
  add('HS256 with the public JWK JSON', true, async () =>
    hmacRaw(header({ alg: 'HS256' }), claims(), new TextEncoder().encode(JSON.stringify(fake.es.publicJwk))),
  );
  // Headers that let the token pick its own key (CVE-2018-0114 and jku/x5u SSRF).
  const attacker = async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return { privateKey, jwk: await exportJWK(publicKey) };
  };
  add('embedded jwk header (attacker key)', true, async () => {
    const a = await attacker();
    return new SignJWT(JSON.parse(claims()))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: fake.es.kid, jwk: a.jwk })
      .sign(a.privateKey);
  });
  for (const h of ['jku', 'x5u']) {
    add(`${h} header`, true, async () =>
      signRaw(header({ [h]: 'http://127.0.0.1:1/evil.json' }), claims(), fake.es),
    );
  }
  add('x5c header', true, async () => signRaw(header({ x5c: ['MIIB'] }), claims(), fake.es));
  add('attacker key with the real kid', false, async () => {
    const a = await attacker();
    return new SignJWT(JSON.parse(claims()))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: fake.es.kid })
      .sign(a.privateKey);
  });
  // Hostile kid values: never used as a path or a query, only looked up in the key set.
  for (const [name, kid] of [
    ['path traversal', '../../../../../../dev/null'],
    ['SQL injection', "' OR '1'='1' --"],
    ['very long', 'k'.repeat(300)],
    ['control characters', 'k\u0000\n'],
    ['a number', 42],
    ['an object', { $ne: null }],
  ] as const) {
    add(`kid: ${name}`, true, async () => signRaw(header({ kid }), claims(), fake.es));
  }
  add('unknown crit', true, async () => signRaw(header({ crit: ['exp'], exp: 1 }), claims(), fake.es));
  add('crit naming an unknown extension', true, async () =>
    signRaw(header({ crit: ['urn:evil'], 'urn:evil': true }), claims(), fake.es),
  );
  add('b64: false', true, async () => signRaw(header({ b64: false, crit: ['b64'] }), claims(), fake.es));
  // Psychic signatures (CVE-2022-21449): r = s = 0.
  add('all-zero ECDSA signature', true, async () =>
    withSegment(await fake.sign(), 2, b64u(new Uint8Array(64))),
  );
  add('ECDSA signature with s = 0 only', true, async () =>
    withSegment(
      await fake.sign(),
      2,
      b64u(new Uint8Array([...new Uint8Array(31), 1, ...new Uint8Array(32)])),
    ),
  );
  add('all-zero ECDSA signature, DER-shaped', true, async () =>
    withSegment(await fake.sign(), 2, b64u(new Uint8Array([0x30, 6, 2, 1, 0, 2, 1, 0]))),
  );
  // Other token types presented as access tokens.
  add('ID token (typ JWT)', true, async () => fake.sign({ header: { typ: 'JWT' } }));
  add('refresh token as JWT (typ refresh+jwt)', true, async () =>
    fake.sign({ header: { typ: 'refresh+jwt' } }),
  );
  add('no typ', true, async () =>
    signRaw(JSON.stringify({ alg: 'ES256', kid: fake.es.kid }), claims(), fake.es),
  );
  add('typ at+jwt with junk prefix', true, async () => fake.sign({ header: { typ: 'x-at+jwt' } }));
  // Claims.
  add('wrong aud', true, async () => fake.sign({ claims: { aud: 'https://other.test' } }));
  add('missing aud', true, async () => fake.sign({ claims: { aud: undefined } }));
  add('empty aud list', true, async () => fake.sign({ claims: { aud: [] } }));
  add('aud a number', true, async () => fake.sign({ claims: { aud: 7 } }));
  add('wrong iss', true, async () => fake.sign({ claims: { iss: 'https://evil.test' } }));
  add('iss with a trailing slash', true, async () => fake.sign({ claims: { iss: `${fake.issuer}/` } }));
  add('missing iss', true, async () => fake.sign({ claims: { iss: undefined } }));
  add('future iat', true, async () => fake.sign({ claims: { iat: now() + 60 } }));
  add('future nbf', true, async () => fake.sign({ claims: { nbf: now() + 60 } }));
  add('missing exp', true, async () => fake.sign({ claims: { exp: undefined } }));
  add('exp as a string', true, async () => signRaw(header(), claims({ exp: String(now() + 900) }), fake.es));
  add('missing jti', true, async () => fake.sign({ claims: { jti: undefined } }));
  add('missing client_id', true, async () => fake.sign({ claims: { client_id: undefined } }));
  add('missing sub', true, async () => fake.sign({ claims: { sub: undefined } }));
  add('DPoP-bound (cnf.jkt) as bearer', false, async () => fake.sign({ claims: { cnf: { jkt: 'abc' } } }));
  // Duplicate keys: jose lets the last win, another parser the first.
  add('duplicate alg in header', true, async () =>
    signRaw(`{"alg":"none","alg":"ES256","typ":"at+jwt","kid":"${fake.es.kid}"}`, claims(), fake.es),
  );
  add('duplicate sub in payload', true, async () =>
    signRaw(header(), claims().replace('"sub":"user-1"', '"sub":"user-1","sub":"admin"'), fake.es),
  );
  add('duplicate key spelled with an escape', true, async () =>
    signRaw(header(), claims().replace('"sub":"user-1"', '"sub":"user-1","\\u0073ub":"admin"'), fake.es),
  );
  // Size and shape.
  add('oversized token (validly signed)', true, async () => fake.sign({ claims: { pad: 'x'.repeat(9000) } }));
  add('deeply nested claim (validly signed)', true, async () =>
    signRaw(header(), claims().replace('{', `{"deep":${'['.repeat(40)}${']'.repeat(40)},`), fake.es),
  );
  add('payload a JSON array', true, async () => signRaw(header(), '[1,2,3]', fake.es));
  add('header not JSON', true, async () => withSegment(await fake.sign(), 0, b64u('{alg:ES256')));
  add('payload invalid UTF-8', true, async () =>
    withSegment(await fake.sign(), 1, b64u(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))),
  );
  add('standard base64 (+ and /) in a segment', true, async () => {
    // About 1 signature in 15 has neither - nor _ (the "forgery" would be the valid token itself).
    let t = await fake.sign();
    for (let i = 0; i < 100 && !/[-_]/.test(t.split('.')[2]!); i++) t = await fake.sign();
    const sig = t.split('.')[2]!;
    assert.match(sig, /[-_]/);
    return withSegment(t, 2, sig.replace(/-/g, '+').replace(/_/g, '/'));
  });
  add('padding in a segment', true, async () => {
    const t = await fake.sign();
    return withSegment(t, 1, `${t.split('.')[1]}==`);
  });
  add('non-canonical trailing bits in the signature', true, async () => {
    const t = await fake.sign();
    const sig = t.split('.')[2]!; // 64 bytes: the last character carries 4 unused bits
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
    return withSegment(t, 2, sig.slice(0, -1) + twin);
  });
  add(
    'non-canonical twin of a CACHED token (the cache is keyed by the canonical spelling only)',
    true,
    async () => {
      const t = await fake.sign({ claims: { sub: 'cached-twin' } });
      assert.ok((await rs.authenticate(bearer(t))).ok); // now cached under its canonical signature segment
      const sig = t.split('.')[2]!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return withSegment(t, 2, sig.slice(0, -1) + alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1]!);
    },
  );
  add('JWE (five parts) where a JWS is expected', true, async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d');
  add('four parts', true, async () => `${await fake.sign()}.AAAA`);
  add('empty header segment', true, async () => withSegment(await fake.sign(), 0, ''));
  add('ES256 header with the RSA key kid (key/alg confusion)', true, async () =>
    signRaw(header({ kid: 'k-rs' }), claims(), fake.es),
  );
  add('payload swapped under a cached signature', false, async () => {
    const good = await fake.sign({ claims: { sub: 'user-1' } });
    assert.ok((await rs.authenticate(bearer(good))).ok); // now cached
    return withSegment(good, 1, b64u(claims({ sub: 'admin' })));
  });

  it('refuses every forged or malformed token with 401 invalid_token, at no more than the cost of a valid one', async () => {
    assert.ok(cases.length >= 60, `catalogue has ${cases.length} cases`);
    for (const c of cases) {
      const token = await c.token();
      const before = rs.stats();
      const result = await rs.authenticate(bearer(token));
      const afterStats = rs.stats();
      assert.equal(result.ok, false, `${c.name} was accepted`);
      assert.ok(!result.ok);
      assert.equal(result.status, 401, `${c.name}: status ${result.status} ${result.error.message}`);
      assert.equal(result.error.error, 'invalid_token', c.name);
      // A DPoP-bound token sent as Bearer is told which scheme it needs (RFC 9449 §7.1).
      const scheme = c.name.startsWith('DPoP-bound') ? 'DPoP' : 'Bearer';
      assert.match(result.wwwAuthenticate ?? '', new RegExp(`^${scheme} error="invalid_token"`), c.name);
      assert.equal(afterStats.jwksFetches, before.jwksFetches, `${c.name} fetched the JWKS`);
      assert.equal(afterStats.cacheHits, before.cacheHits, `${c.name} hit the verified cache`);
      const checks = afterStats.signatureChecks - before.signatureChecks;
      assert.ok(checks <= (c.cheap ? 0 : 1), `${c.name} cost ${checks} signature checks`);
    }
  });

  it('tells an expired token apart from an invalid one', async () => {
    const result = await rs.authenticate(bearer(await fake.sign({ claims: { exp: now() - 60 } })));
    assert.ok(!result.ok && result.error.code === 'access_token_expired');
    assert.match(result.wwwAuthenticate ?? '', /error_description="The access token has expired"/);
  });

  it('refuses a refresh token presented as an opaque access token (introspection says refresh_token)', async () => {
    fake.introspection.set('tsr_refresh123', {
      active: true,
      token_type: 'refresh_token',
      scope: 'orders:read',
      client_id: 'web-app',
      sub: 'user-1',
      exp: now() + 3600,
      iat: now(),
      iss: fake.issuer,
    });
    const result = await rs.authenticate(bearer('tsr_refresh123'));
    assert.ok(!result.ok && result.status === 401 && result.error.code === 'access_token_invalid');
  });

  it('refuses an oversized Authorization header before looking at it', async () => {
    const before = rs.stats();
    const result = await rs.authenticate(bearer('a'.repeat(1024 * 1024)));
    assert.ok(!result.ok && result.status === 401);
    assert.equal(rs.stats().signatureChecks, before.signatureChecks);
    assert.equal(rs.stats().introspections, before.introspections);
  });

  it('refuses characters outside RFC 6750 b64token without introspecting', async () => {
    const before = rs.stats();
    for (const token of ['abc!def', 'a"b', 'tok\u00e9n', 'a%2Eb']) {
      const result = await rs.authenticate(bearer(token));
      assert.ok(!result.ok && result.status === 401, token);
    }
    assert.equal(rs.stats().introspections, before.introspections);
  });
});
