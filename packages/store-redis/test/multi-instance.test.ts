// Two server instances on one database and one Redis (a redis-server of the test's own, on a
// free port, stopped and restarted mid-run; the machine's Redis is never touched).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResourceServer, type ResourceServer } from '@tessera/resource';
import { until } from '@tessera/test-support';
import { PrivateRedis } from './private-redis.js';
import { redisSkip, testPrefix } from './redis-fixtures.js';
import { type Instance, PASSWORD, RS_SECRET, startTwoInstances } from './two-instances.js';

const skip = redisSkip();
const NONCE_TTL_S = 600;
const nonce = () => `nonce-${Math.random().toString(36).slice(2)}-${Date.now()}`;

describe('two instances sharing one database and one Redis', { skip, timeout: 120_000 }, () => {
  let redis: PrivateRedis;
  let pair: Awaited<ReturnType<typeof startTwoInstances>>;
  let a: Instance;
  let b: Instance;
  let rs: ResourceServer;

  const signIn = async (on: Instance, ip: string) => {
    const res = await on.login('alice', PASSWORD, ip);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { access_token: string; refresh_token: string };
  };
  const refresh = (on: Instance, token: string, extra: Record<string, string> = {}) =>
    on.token({ grant_type: 'refresh_token', client_id: 'web', refresh_token: token, ...extra }, '10.9.9.9');
  const accepted = async (jwt: string) =>
    (
      await rs.authenticate(
        new Request('http://api.test/me', { headers: { authorization: `Bearer ${jwt}` } }),
      )
    ).ok;

  before(async () => {
    redis = await PrivateRedis.start();
    pair = await startTwoInstances(redis.url, testPrefix(), {
      rateLimitLogin: 5,
      loginFailuresPerUser: 3,
      nonceTtl: NONCE_TTL_S,
      // The streams read the database once a minute: a revocation seen sooner came by Redis.
      revocationFeedPoll: 60,
    });
    ({ a, b } = pair);
    rs = createResourceServer({
      issuer: b.url,
      audience: b.url,
      clientId: 'api',
      clientSecret: RS_SECRET,
      clock: pair.clock,
    });
    await rs.ready();
  });
  after(async () => {
    rs?.close();
    await pair?.close();
    await redis?.stop();
  });

  it('the per-IP login limit is one budget across both instances', async () => {
    const ip = '10.0.0.1';
    for (const on of [a, b, a, b, a]) assert.equal((await on.login('alice', PASSWORD, ip)).status, 200);
    for (const on of [b, a]) {
      const refused = await on.login('alice', PASSWORD, ip);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error_code, 'rate_limited');
    }
  });

  it('the per-user login lockout holds across both instances', async () => {
    const ip = '10.0.0.2';
    for (const on of [a, b, a]) {
      const failed = await on.login('bob', 'wrong password', ip);
      assert.notEqual(failed.status, 200);
      assert.notEqual(failed.status, 429);
    }
    // The right password, at the other instance: locked out without a password check.
    const locked = await b.login('bob', PASSWORD, '10.0.0.3');
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error_code, 'rate_limited');
  });

  it('a nonce is single-use across both instances', async () => {
    const tokens = await signIn(a, '10.0.1.1');
    const n = nonce();
    const first = await refresh(a, tokens.refresh_token, { nonce: n });
    assert.equal(first.status, 200);
    const replayed = await refresh(b, first.body.refresh_token, { nonce: n });
    assert.equal(replayed.status, 400);
    assert.equal(replayed.body.error_code, 'replay_detected');
  });

  it('a logout on A: a resource server following B refuses the JWT within 2 seconds', async () => {
    const tokens = await signIn(a, '10.0.1.2');
    assert.equal(await accepted(tokens.access_token), true);
    assert.equal(await a.logout(tokens.refresh_token), 204);
    const tookMs = await until(async () => !(await accepted(tokens.access_token)), 'the refusal', 2000, 20);
    console.log(`# refused at the resource server ${tookMs} ms after the logout`);
    assert.equal((await refresh(b, tokens.refresh_token)).status, 400, 'and the refresh token at B at once');
  });

  let beforeOutage: { refresh_token: string } | undefined;
  let acceptedNonce = '';

  it('Redis stopped: nonce refreshes answer 503 retryable; plain refreshes, logins and the feed work from the database', async () => {
    const tokens = await signIn(a, '10.0.2.1');
    acceptedNonce = nonce();
    const withNonce = await refresh(a, tokens.refresh_token, { nonce: acceptedNonce });
    assert.equal(withNonce.status, 200);
    beforeOutage = withNonce.body;

    await redis.stop();

    for (const on of [a, b]) {
      const refused = await refresh(on, (beforeOutage as { refresh_token: string }).refresh_token, {
        nonce: nonce(),
      });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error_code, 'temporarily_unavailable');
      assert.equal(refused.body.retryable, true);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    }
    // Never a 200 for a nonce while Redis is away, the nonce accepted before it included.
    assert.equal((await refresh(b, tokens.refresh_token, { nonce: acceptedNonce })).status, 503);

    const plain = await refresh(b, (beforeOutage as { refresh_token: string }).refresh_token);
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    const again = await refresh(a, plain.body.refresh_token);
    assert.equal(again.status, 200);

    // The limits count per instance meanwhile (never a 503), with one warning per instance.
    for (const on of [a, b, a]) assert.equal((await on.login('alice', PASSWORD, '10.0.2.2')).status, 200);
    for (const on of [a, b]) {
      const warnings = on.logs.filter((l) => l.includes('rate_limit_store.unavailable'));
      assert.equal(warnings.length, 1, 'one warning per outage');
      assert.doesNotMatch(warnings[0] as string, /redis:\/\//);
    }

    const notices = (await b.feed()).notices.length;
    assert.equal(await a.logout(again.body.refresh_token), 204);
    assert.equal((await b.feed()).notices.length, notices + 1, 'the feed reads the database');
    assert.equal((await refresh(b, again.body.refresh_token)).status, 400);
    const ready = await b.tessera.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, 'ready: the database is the truth');
  });

  it('Redis back (empty): everything resumes by itself; a nonce waits out its TTL after the loss', async () => {
    await redis.start();
    await until(
      async () =>
        (await Promise.allSettled([a.redis.ping(), b.redis.ping()])).every((p) => p.status === 'fulfilled'),
      'both instances to reconnect',
      10_000,
    );

    // The replay store lost everything: a nonce as long-lived as the TTL might have been
    // accepted before the loss, so none is accepted until one TTL has passed.
    const tokens = await signIn(a, '10.0.3.1');
    const fresh = nonce();
    for (const n of [acceptedNonce, fresh]) {
      const refused = await refresh(b, tokens.refresh_token, { nonce: n });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.retryable, true);
    }
    pair.clock.advance(NONCE_TTL_S * 1000);
    const resumed = await refresh(b, tokens.refresh_token, { nonce: fresh });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(
      (await refresh(a, resumed.body.refresh_token, { nonce: fresh })).status,
      400,
      'single-use again',
    );

    // The limits are one budget again.
    const ip = '10.0.3.2';
    for (const on of [a, b, a, b, a]) assert.equal((await on.login('alice', PASSWORD, ip)).status, 200);
    assert.equal((await b.login('alice', PASSWORD, ip)).status, 429);
    for (const on of [a, b]) assert.ok(on.logs.some((l) => l.includes('rate_limit_store.recovered')));

    // And the fan-out: a logout on A reaches the resource server following B within 2 s.
    const session = await signIn(a, '10.0.3.3');
    assert.equal(await accepted(session.access_token), true);
    assert.equal(await a.logout(session.refresh_token), 204);
    const tookMs = await until(async () => !(await accepted(session.access_token)), 'the refusal', 2000, 20);
    console.log(`# after the restart: refused ${tookMs} ms after the logout`);
  });
});
