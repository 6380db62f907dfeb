import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { startTestServer, type TestServer } from '../../packages/server/test/helpers/test-server.js';
import { Holder, login, post, refresh } from './support/driver.js';
import { type CheckInput, checkInvariants, describeReport, History } from './support/invariants.js';

/** The checker must pass a good run and name each planted violation: it is no test that cannot fail. */
describe('chaos: the invariant checker', () => {
  let s: TestServer;
  const credentials = { username: 'alice', password: 'correct horse battery staple' };
  before(async () => {
    s = await startTestServer({ listen: true });
  });
  after(async () => {
    await s.close();
  });
  const input = (history: History, extra: Partial<CheckInput> = {}): CheckInput => ({
    history,
    sessions: s.tessera.ctx.stores.sessions,
    keys: s.tessera.ctx.keys,
    sqlitePath: s.dbPath,
    ...extra,
  });

  it('a clean run (rotations, concurrent duplicates, a lost answer retried) has no violation', async () => {
    const history = new History();
    const holders = await Promise.all(
      ['a', 'b', 'c'].map(
        async (actor) => new Holder(actor, await login(history, s.url, actor, credentials)),
      ),
    );
    for (let round = 0; round < 3; round++) {
      await Promise.all(holders.map((h) => h.refreshOnce(history, s.url)));
    }
    // Two tabs of one session present the same token at once: one child, both told it.
    const a = holders[0]!;
    const [x, y] = await Promise.all([
      refresh(history, s.url, 'a', a.token),
      refresh(history, s.url, 'a', a.token),
    ]);
    assert.ok(x !== 'lost' && y !== 'lost' && x.body.refresh_token === y.body.refresh_token);
    // A lost answer (recorded as such), then the retry.
    const lostToken = holders[1]!.token;
    history.add({
      kind: 'refresh',
      actor: 'b',
      presented: lostToken,
      sentAt: 0,
      answeredAt: 0,
      answer: 'lost',
    });
    await refresh(history, s.url, 'b', lostToken);
    const report = await checkInvariants(input(history));
    assert.deepEqual(report.violations, [], describeReport(report));
    assert.equal(report.families, 3);
    assert.ok(report.tokens >= 12);
  });

  it('names a token handed out that the store does not have, and a lost answer never recovered', async () => {
    const history = new History();
    const token = await login(history, s.url, 'd', credentials);
    // A made-up child of a real family: the server would recognise its shape, the store lacks it.
    const child = await refresh(history, s.url, 'd', token);
    assert.ok(child !== 'lost');
    const forged = `${child.body.refresh_token.slice(0, -3)}AAA`;
    history.add({
      kind: 'refresh',
      actor: 'd',
      presented: child.body.refresh_token,
      sentAt: 1,
      answeredAt: 1,
      answer: 'lost',
    });
    history.add({ kind: 'login', actor: 'd', refreshToken: forged, at: 2 });
    const { violations } = await checkInvariants(input(history));
    assert.ok(
      violations.some((v) => v.includes('does not recognise') || v.includes('never had it')),
      violations.join('\n'),
    );
    assert.ok(
      violations.some((v) => v.includes('never recovered')),
      violations.join('\n'),
    );
  });

  it('names a rotation whose lost answer was recovered only after the grace period', async () => {
    // Observations on the server's clock: the rule compares them with the store's times.
    const clock = () => s.clock.now();
    const lost = (actor: string, presented: string, at: number) =>
      ({ kind: 'refresh', actor, presented, sentAt: at, answeredAt: at, answer: 'lost' }) as const;
    const history = new History();
    const token = await login(history, s.url, 'g', credentials);
    // The request rotated the token, and its answer was lost.
    const sentAt = clock();
    await refresh(history, s.url, 'g', token, { clock });
    history.observations.pop();
    history.add(lost('g', token, sentAt));
    // 10 s later the retry gets the child from the grace period.
    s.clock.advance(10_000);
    await refresh(history, s.url, 'g', token, { clock });
    const clean = await checkInvariants(input(history, { graceMs: 60_000 }));
    assert.deepEqual(clean.violations, [], 'recovered 10 s later, within a minute');
    const { violations } = await checkInvariants(input(history, { graceMs: 5_000 }));
    assert.ok(
      violations.some((v) => v.includes('past the grace period')),
      violations.join('\n'),
    );
    // A lost request that never rotated anything: a retry at any time is a plain rotation.
    const other = new History();
    const second = await login(other, s.url, 'h', credentials);
    other.add(lost('h', second, clock()));
    s.clock.advance(10_000);
    await refresh(other, s.url, 'h', second, { clock });
    assert.deepEqual((await checkInvariants(input(other, { graceMs: 5_000 }))).violations, []);
  });

  it('names a false token_reused, two children for one parent, a double-spent nonce', async () => {
    const history = new History();
    const token = await login(history, s.url, 'e', credentials);
    const first = await refresh(history, s.url, 'e', token);
    assert.ok(first !== 'lost');
    const other = await login(history, s.url, 'e2', credentials);
    history.add({
      kind: 'refresh',
      actor: 'e',
      presented: token,
      sentAt: 3,
      answeredAt: 3,
      answer: { status: 200, refreshToken: other },
    });
    history.add({
      kind: 'refresh',
      actor: 'e',
      presented: token,
      sentAt: 4,
      answeredAt: 4,
      answer: { status: 400, errorCode: 'token_reused' },
    });
    history.add({ kind: 'single-use', value: 'nonce-nonce-nonce-1', accepted: true });
    history.add({ kind: 'single-use', value: 'nonce-nonce-nonce-1', accepted: true, instance: 'b' });
    const { violations } = await checkInvariants(input(history));
    assert.ok(
      violations.some((v) => v.includes('token_reused')),
      violations.join('\n'),
    );
    assert.ok(
      violations.some((v) => v.includes('two different children')),
      violations.join('\n'),
    );
    assert.ok(
      violations.some((v) => v.includes('accepted 2 times')),
      violations.join('\n'),
    );
  });

  it('names a family revoked that the test never ended, and a refresh answered after a revocation', async () => {
    const history = new History();
    const token = await login(history, s.url, 'f', credentials);
    const revoked = await post(s.url, ENDPOINTS.revocation, { token, client_id: 'web' });
    assert.ok(revoked !== 'lost' && revoked.status === 200);
    const undeclared = await checkInvariants(input(history));
    assert.ok(
      undeclared.violations.some((v) => v.includes('never ended')),
      undeclared.violations.join('\n'),
    );

    history.add({ kind: 'revoke', actor: 'f', familyOf: token, answeredAt: 10 });
    history.add({
      kind: 'refresh',
      actor: 'f',
      presented: token,
      sentAt: 11,
      answeredAt: 12,
      answer: { status: 200, refreshToken: token },
    });
    const declared = await checkInvariants(input(history, { deliberatelyEnded: [token] }));
    assert.ok(!declared.violations.some((v) => v.includes('never ended')), declared.violations.join('\n'));
    assert.ok(
      declared.violations.some((v) => v.includes("after its family's revocation")),
      declared.violations.join('\n'),
    );
  });
});
