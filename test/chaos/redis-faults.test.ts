import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { saveClient } from '../../packages/server/src/index.js';
import { dpopKey, type TestDpopKey } from '../../packages/server/test/helpers/dpop.js';
import { PrivateRedis } from '../../packages/store-redis/test/private-redis.js';
import { redisSkip, testPrefix } from '../../packages/store-redis/test/redis-fixtures.js';
import { type Instance, PASSWORD, startTwoInstances } from '../../packages/store-redis/test/two-instances.js';
import { type Answer, post, toRefreshAnswer } from './support/driver.js';
import { checkInvariants, describeReport, History } from './support/invariants.js';
import { recordResult, sized } from './support/mode.js';

/**
 * Redis restarted under load: two instances on one database and one Redis (a redis-server of the
 * test's own, on its own port, without persistence; the machine's Redis is never touched) serve
 * refreshes with client nonces and DPoP proofs, whose single use Redis guards across instances.
 * Redis is SIGKILLed in the middle of a burst and started again empty.
 *
 * While it is down, a refresh that needs the replay store answers 503 retryable (never 200);
 * plain refreshes and sign-ins go on from the database. Once it is back, having lost everything,
 * the epoch rule holds: a value is accepted only once every value that might have been recorded
 * before the loss has expired (a DPoP proof after its window, a nonce after its TTL), so a nonce
 * or proof accepted before the loss is never accepted again. Then everything resumes by itself.
 * The invariant checker reads every answer: nothing lost, no single-use value accepted twice.
 */

const skip = redisSkip();
const NONCE_TTL_S = 600;
const DPOP_WINDOW_S = 60;
const SESSIONS = sized(12, 40);
const ROUNDS = sized(4, 20);

interface Holder {
  actor: string;
  token: string;
  /** A DPoP key when the session is bound to one. */
  key?: TestDpopKey;
}

describe('chaos: Redis restarted (its own redis-server, data lost)', { skip, timeout: 240_000 }, () => {
  let redis: PrivateRedis;
  let pair: Awaited<ReturnType<typeof startTwoInstances>>;
  let instances: Instance[];
  const history = new History();
  const now = () => pair.clock.now();

  before(async () => {
    redis = await PrivateRedis.start();
    pair = await startTwoInstances(redis.url, testPrefix(), {
      nonceTtl: NONCE_TTL_S,
      dpopProofWindow: DPOP_WINDOW_S,
    });
    instances = [pair.a, pair.b];
    await saveClient(pair.a.tessera.ctx, {
      id: 'dpop-app',
      public: true,
      dpop: true,
      grantTypes: ['refresh_token'],
    });
  });
  after(async () => {
    await pair?.close();
    await redis?.stop();
  });

  const issuer = () => pair.b.tessera.ctx.config.issuer;
  const proof = (key: TestDpopKey) =>
    key.proof('POST', `${issuer()}${ENDPOINTS.token}`, { iat: Math.floor(now() / 1000) });
  const nonce = () => randomBytes(16).toString('base64url');

  async function signIn(actor: string, on: Instance, key?: TestDpopKey): Promise<Holder> {
    const answer = await post(
      on.url,
      ENDPOINTS.login,
      { username: 'alice', password: PASSWORD, client_id: key ? 'dpop-app' : 'web' },
      {
        json: true,
        ...(key
          ? {
              headers: {
                dpop: await key.proof('POST', `${issuer()}${ENDPOINTS.login}`, {
                  iat: Math.floor(now() / 1000),
                }),
              },
            }
          : {}),
      },
    );
    assert.ok(answer !== 'lost' && answer.status === 200, `${actor} signs in: ${JSON.stringify(answer)}`);
    const token = String(answer.body.refresh_token);
    history.add({ kind: 'login', actor, refreshToken: token, at: now() });
    return { actor, token, ...(key ? { key } : {}) };
  }

  /**
   * One refresh of `h` at `on`, recorded: with a fresh nonce (`nonce: true`), a given nonce, or
   * none; with a fresh DPoP proof when bound (or the given one). The holder keeps the child.
   */
  async function refresh(
    h: Holder,
    on: Instance,
    options: { nonce?: string | true; proof?: string } = {},
  ): Promise<Answer | 'lost'> {
    const n = options.nonce === true ? nonce() : options.nonce;
    const dpop = options.proof ?? (h.key ? await proof(h.key) : undefined);
    const sentAt = now();
    const answer = await post(
      on.url,
      ENDPOINTS.token,
      {
        grant_type: 'refresh_token',
        client_id: h.key ? 'dpop-app' : 'web',
        refresh_token: h.token,
        ...(n ? { nonce: n } : {}),
      },
      dpop ? { headers: { dpop } } : {},
    );
    history.add({
      kind: 'refresh',
      actor: h.actor,
      presented: h.token,
      sentAt,
      answeredAt: now(),
      answer: toRefreshAnswer(answer),
    });
    const accepted = answer !== 'lost' && answer.status === 200;
    const instance = on === pair.a ? 'a' : 'b';
    if (n) history.add({ kind: 'single-use', value: `nonce ${n}`, accepted, instance });
    if (dpop) history.add({ kind: 'single-use', value: `dpop ${dpop}`, accepted, instance });
    if (accepted) h.token = String(answer.body.refresh_token);
    return answer;
  }

  const tally: Record<string, Record<string, number>> = {};
  const count = (phase: string, what: string, a: Answer | 'lost') => {
    const k = `${what} ${a === 'lost' ? 'lost' : `${a.status}${a.status === 200 ? '' : ` ${a.body?.error_code}`}`}`;
    tally[phase] ??= {};
    tally[phase][k] = (tally[phase][k] ?? 0) + 1;
  };
  const assertRetryable503 = (a: Answer | 'lost', what: string) => {
    assert.ok(a !== 'lost', `${what}: no answer`);
    assert.equal(a.status, 503, `${what}: ${a.status} ${JSON.stringify(a.body)}`);
    assert.equal(a.body.error_code, 'temporarily_unavailable', what);
    assert.equal(a.body.retryable, true, what);
    assert.ok(Number(a.headers['retry-after']) >= 1, `${what}: Retry-After`);
    assert.equal(a.body.refresh_token, undefined, `${what}: no token in a refusal`);
  };
  const assertReplay = (a: Answer | 'lost', what: string, code: string) => {
    assert.ok(a !== 'lost' && a.status === 400, `${what}: ${JSON.stringify(a)}`);
    assert.equal(a.body.error_code, code, what);
  };

  it('while Redis is down and until its epoch passes, single-use refreshes are 503 retryable; nothing is accepted twice; all resumes', async (t) => {
    const plain: Holder[] = [];
    const bound: Holder[] = [];
    for (let i = 0; i < SESSIONS; i++) plain.push(await signIn(`s${i}`, instances[i % 2]!));
    for (let i = 0; i < 4; i++) bound.push(await signIn(`d${i}`, instances[i % 2]!, await dpopKey()));
    const pick = () => instances[Math.floor(Math.random() * 2)]!;

    // 1. Redis up: nonces and proofs are single-use across the two instances.
    const acceptedNonces: { h: Holder; nonce: string }[] = [];
    const acceptedProofs: { h: Holder; proof: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all([
        ...plain.map(async (h) => {
          const n = nonce();
          const a = await refresh(h, pick(), { nonce: n });
          count('redis up', 'nonce refresh', a);
          assert.ok(a !== 'lost' && a.status === 200, `${h.actor}: ${JSON.stringify(a)}`);
          acceptedNonces.push({ h, nonce: n });
        }),
        ...bound.map(async (h) => {
          // One proof sent to both instances at once: exactly one accepts it.
          const p = await proof(h.key!);
          const answers = await Promise.all(instances.map((on) => refresh(h, on, { proof: p })));
          for (const a of answers) count('redis up', 'same DPoP proof at both instances', a);
          const ok = answers.filter((a) => a !== 'lost' && a.status === 200);
          assert.equal(
            ok.length,
            1,
            `${h.actor}: one of ${JSON.stringify(answers.map((a) => a !== 'lost' && a.status))}`,
          );
          acceptedProofs.push({ h, proof: p });
        }),
      ]);
      // A nonce accepted at one instance, replayed at the other.
      const { h, nonce: n } = acceptedNonces[Math.floor(Math.random() * acceptedNonces.length)]!;
      const replay = await refresh(h, pick(), { nonce: n });
      count('redis up', 'replayed nonce', replay);
      assertReplay(replay, 'a replayed nonce', 'replay_detected');
    }

    // 2. Redis SIGKILLed in the middle of a burst of nonce refreshes.
    const burst = Promise.all(
      plain.map(async (h) => {
        const a = await refresh(h, pick(), { nonce: true });
        count('redis killed mid-burst', 'nonce refresh', a);
        assert.ok(a !== 'lost' && (a.status === 200 || a.status === 503), `${h.actor}: ${JSON.stringify(a)}`);
        if (a.status === 503) assertRetryable503(a, 'a nonce refresh cut by the kill');
      }),
    );
    await new Promise((r) => setTimeout(r, Math.random() * 40));
    await redis.stop();
    await burst;
    let servedDuringOutage = 0;
    for (const h of plain) {
      const withNonce = await refresh(h, pick(), { nonce: true });
      count('redis down', 'nonce refresh', withNonce);
      assertRetryable503(withNonce, `${h.actor}: a nonce refresh while Redis is down`);
      const without = await refresh(h, pick());
      count('redis down', 'plain refresh', without);
      assert.ok(
        without !== 'lost' && without.status === 200,
        `${h.actor}: a plain refresh while Redis is down`,
      );
      servedDuringOutage++;
    }
    for (const h of bound) {
      const a = await refresh(h, pick());
      count('redis down', 'DPoP refresh', a);
      assertRetryable503(a, `${h.actor}: a DPoP refresh while Redis is down`);
    }
    for (const { h, nonce: n } of acceptedNonces.slice(0, 4)) {
      const a = await refresh(h, pick(), { nonce: n });
      count('redis down', 'replayed nonce', a);
      assertRetryable503(a, 'a nonce accepted before the outage, replayed during it');
    }
    const login = await signIn('during-outage', pick());
    plain.push(login);
    servedDuringOutage++;

    // 3. Redis back, empty. Every instance reconnects by itself.
    await redis.start();
    const reconnected = Date.now() + 20_000;
    for (;;) {
      const pings = await Promise.allSettled(instances.map((i) => i.redis.ping()));
      if (pings.every((p) => p.status === 'fulfilled')) break;
      assert.ok(Date.now() < reconnected, 'both instances reconnect to Redis within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const lossAt = now();
    // The epoch rule: what was accepted before the loss might still be live, so nothing that
    // lives as long is accepted yet: old nonces, old proofs, and fresh ones alike.
    for (const { h, nonce: n } of acceptedNonces.slice(0, 6)) {
      const a = await refresh(h, pick(), { nonce: n });
      count('redis back, empty', 'nonce accepted before the loss, replayed', a);
      assertRetryable503(a, 'an old nonce after the loss');
    }
    for (const { h, proof: p } of acceptedProofs.slice(-4)) {
      const a = await refresh(h, pick(), { proof: p });
      count('redis back, empty', 'DPoP proof accepted before the loss, replayed', a);
      assertRetryable503(a, 'a DPoP proof accepted before the loss, replayed after it');
    }
    for (const h of plain.slice(0, 4)) {
      const a = await refresh(h, pick(), { nonce: true });
      count('redis back, empty', 'fresh nonce', a);
      assertRetryable503(a, 'a fresh nonce within one TTL of the loss');
    }
    for (const h of bound) {
      const a = await refresh(h, pick());
      count('redis back, empty', 'fresh DPoP proof', a);
      assertRetryable503(a, 'a fresh DPoP proof within one proof lifetime of the loss');
    }
    for (const h of plain) {
      const a = await refresh(h, pick());
      count('redis back, empty', 'plain refresh', a);
      assert.ok(a !== 'lost' && a.status === 200, `${h.actor}: a plain refresh after the restart`);
    }

    // Past a proof's lifetime: proofs are single-use again; nonces (a longer TTL) still wait.
    pair.clock.advance((2 * DPOP_WINDOW_S + 2) * 1000);
    for (const h of bound) {
      const p = await proof(h.key!);
      const answers = await Promise.all(instances.map((on) => refresh(h, on, { proof: p })));
      for (const a of answers) count('past a proof lifetime', 'same DPoP proof at both instances', a);
      assert.equal(
        answers.filter((a) => a !== 'lost' && a.status === 200).length,
        1,
        `${h.actor}: ${JSON.stringify(answers.map((a) => (a === 'lost' ? a : [a.status, a.body.error_code])))}`,
      );
    }
    for (const h of plain.slice(0, 2)) {
      const a = await refresh(h, pick(), { nonce: true });
      count('past a proof lifetime', 'fresh nonce', a);
      assertRetryable503(a, 'a fresh nonce before its TTL since the loss');
    }

    // Past the nonce TTL since the loss: nonces are accepted again, once across both instances.
    pair.clock.set(lossAt + NONCE_TTL_S * 1000 + 1000);
    for (const h of plain) {
      const n = nonce();
      const on = pick();
      const first = await refresh(h, on, { nonce: n });
      count('past the nonce TTL', 'fresh nonce', first);
      assert.ok(
        first !== 'lost' && first.status === 200,
        `${h.actor}: nonces resume: ${JSON.stringify(first)}`,
      );
      const replay = await refresh(h, on === pair.a ? pair.b : pair.a, { nonce: n });
      count('past the nonce TTL', 'replayed nonce', replay);
      assertReplay(replay, 'single-use again', 'replay_detected');
    }

    const report = await checkInvariants({
      history,
      sessions: pair.a.tessera.ctx.stores.sessions,
      keys: pair.a.tessera.ctx.keys,
    });
    assert.deepEqual(report.violations, [], describeReport(report));
    t.diagnostic(JSON.stringify(tally));
    const singleUse = history.observations.filter((o) => o.kind === 'single-use');
    recordResult('redis-restarted', {
      sessions: plain.length + bound.length,
      instances: 2,
      phases: tally,
      servedDuringOutage,
      singleUseValuesTried: singleUse.length,
      singleUseAccepted: singleUse.filter((o) => o.kind === 'single-use' && o.accepted).length,
      answers: report.answers,
      violations: report.violations.length,
    });
  });
});
