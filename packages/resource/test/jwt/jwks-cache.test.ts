import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResourceServer } from '../../src/core/create-resource-server.js';
import { AUDIENCE, bearer, FakeIssuer, manualClock } from '../support/fake-issuer.js';

describe('JWKS cache', () => {
  let fake: FakeIssuer;
  before(async () => {
    fake = await FakeIssuer.start();
  });
  after(() => fake.close());

  it('N tokens with random unknown kids cost at most one fetch per cooldown', async () => {
    const clock = manualClock(Date.now());
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    const rs = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clock,
      jwksCooldownMs: 30_000,
    });
    const start = fake.counts.jwks;
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fake.sign({ header: { kid: `random-${i}-${Math.random()}` } })),
    );
    const results = await Promise.all(tokens.map((t) => rs.authenticate(bearer(t))));
    assert.ok(results.every((r) => !r.ok && r.status === 401));
    assert.equal(fake.counts.jwks - start, 1, 'one fetch for the whole burst');
    for (const t of tokens.slice(0, 10)) await rs.authenticate(bearer(t));
    assert.equal(fake.counts.jwks - start, 1, 'still within the cooldown');
    clock.advance(30_001);
    await Promise.all(tokens.map((t) => rs.authenticate(bearer(t))));
    assert.equal(fake.counts.jwks - start, 2, 'one more after the cooldown');
    assert.equal(rs.stats().signatureChecks, 0);
  });

  it('picks up a rotated-in key on an unknown kid once the cooldown allows', async () => {
    const clock = manualClock(Date.now());
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    const [es, ed] = fake.keys as [(typeof fake.keys)[0], (typeof fake.keys)[0]];
    fake.published = [es];
    const rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock, jwksCooldownMs: 1000 });
    assert.ok((await rs.authenticate(bearer(await fake.sign({ key: es })))).ok);
    fake.published = [es, ed]; // the issuer publishes its next key
    const next = await fake.sign({ key: ed });
    assert.ok(!(await rs.authenticate(bearer(next))).ok, 'inside the cooldown the new kid is unknown');
    clock.advance(1001);
    assert.ok((await rs.authenticate(bearer(next))).ok, 'after the cooldown the key set is refetched');
    fake.published = [...fake.keys];
  });

  it('refetches a key set older than its max age, and keeps serving if that refetch fails', async () => {
    const clock = manualClock(Date.now());
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    const rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
    assert.ok((await rs.authenticate(bearer(await fake.sign()))).ok);
    const start = fake.counts.jwks;
    clock.advance(11 * 60_000);
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    assert.ok((await rs.authenticate(bearer(await fake.sign()))).ok);
    assert.equal(fake.counts.jwks - start, 1);
  });

  it('ignores private, symmetric and wrong-use keys in the JWKS', async () => {
    const clock = manualClock(Date.now());
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    const es = fake.es;
    const original = es.publicJwk;
    try {
      es.publicJwk = { ...original, use: 'enc' };
      const rs = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
      assert.ok(!(await rs.authenticate(bearer(await fake.sign()))).ok);
      es.publicJwk = { ...original, alg: 'ES384' };
      const rs2 = createResourceServer({ issuer: fake.issuer, audience: AUDIENCE, clock });
      assert.ok(!(await rs2.authenticate(bearer(await fake.sign()))).ok);
    } finally {
      es.publicJwk = original;
    }
  });
});
