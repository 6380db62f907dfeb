import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import type { Stores } from '../../packages/server/src/index.js';
import { startTestServer, type TestServer } from '../../packages/server/test/helpers/test-server.js';
import { openPostgresStores } from '../../packages/store-postgres/src/index.js';
import {
  admin,
  dropSchema,
  freshSchema,
  PG_URL,
  pgSkip,
} from '../../packages/store-postgres/test/support/pg.js';
import { checkInvariants, describeReport, History } from './support/invariants.js';
import { recordResult } from './support/mode.js';

/**
 * Races and restarts that broke well-known servers, each a named test: several instances on one
 * store (one SQLite file, or one PostgreSQL schema), virtual clocks, the invariant checker after.
 */

const GRACE_MS = 5 * 60_000;
type Answer = { status: number; body: any };

/** Records a refresh made through an instance (in-process HTTP injection) in the history. */
async function refreshVia(
  history: History,
  s: TestServer,
  actor: string,
  token: string,
  extra: { deliberateReuse?: boolean } = {},
): Promise<Answer> {
  const sentAt = s.clock.now();
  const r = await s.refresh(token);
  history.add({
    kind: 'refresh',
    actor,
    presented: token,
    sentAt,
    answeredAt: s.clock.now(),
    answer:
      r.status === 200
        ? { status: 200, refreshToken: r.body.refresh_token }
        : { status: r.status, errorCode: r.body?.error_code },
    ...extra,
  });
  return r;
}

/** K instances on one SQLite file (one master secret), each with its own connection and clock. */
async function instancesOnOneFile(k: number): Promise<TestServer[]> {
  const first = await startTestServer();
  const rest = await Promise.all(
    Array.from({ length: k - 1 }, () =>
      startTestServer({ dbPath: first.dbPath, masterSecret: first.masterSecret }),
    ),
  );
  return [first, ...rest];
}

async function closeAll(servers: TestServer[]) {
  // The first owns the folder: close it last.
  for (const s of servers.slice(1)) await s.tessera.close();
  await servers[0]?.close();
}

async function check(history: History, s: TestServer, extra: { ended?: string[] } = {}) {
  const report = await checkInvariants({
    history,
    sessions: s.tessera.ctx.stores.sessions,
    keys: s.tessera.ctx.keys,
    deliberatelyEnded: extra.ended ?? [],
  });
  assert.deepEqual(report.violations, [], describeReport(report));
  return report;
}

/** N concurrent refreshes of one token spread over the instances: one child, identical answers, no 5xx. */
async function concurrentRefreshes(servers: TestServer[], n: number) {
  const history = new History();
  const token = (await servers[0]!.login()).refresh_token!;
  history.add({ kind: 'login', actor: 'app', refreshToken: token, at: 0 });
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) => refreshVia(history, servers[i % servers.length]!, 'app', token)),
  );
  const statuses = answers.map((a) => a.status);
  assert.ok(
    statuses.every((st) => st === 200),
    `every answer 200: ${JSON.stringify(statuses)} ${JSON.stringify(answers.find((a) => a.status !== 200)?.body)}`,
  );
  const children = new Set(answers.map((a) => a.body.refresh_token));
  const accessTokens = new Set(answers.map((a) => a.body.access_token));
  assert.equal(children.size, 1, 'one child');
  assert.equal(accessTokens.size, 1, 'identical answers');
  const lineage = await servers[0]!.tessera.ctx.stores.sessions.listTokens(
    (await servers[0]!.tessera.ctx.stores.sessions.listFamilies({ limit: 1 }))[0]!.id,
  );
  await check(history, servers[0]!);
  return {
    n,
    instances: servers.length,
    children: children.size,
    statuses: [...new Set(statuses)],
    generations: lineage.length,
  };
}

describe('chaos: races and restarts', () => {
  it('refresh racing a revoke of the same family (two instances): the family ends revoked, nothing minted after', async () => {
    const [a, b] = await instancesOnOneFile(2);
    try {
      const history = new History();
      const signedIn = await a!.login();
      let token = signedIn.refresh_token!;
      let access = signedIn.access_token;
      const first = token;
      history.add({ kind: 'login', actor: 'app', refreshToken: token, at: 0 });
      // A chain of refreshes on A while B revokes the family part-way.
      const chain = (async () => {
        for (let i = 0; i < 40; i++) {
          const r = await refreshVia(history, a!, 'app', token);
          if (r.status !== 200) return r;
          token = r.body.refresh_token;
          access = r.body.access_token;
        }
        return undefined;
      })();
      await new Promise((r) => setImmediate(r));
      const revoked = await b!.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.revocation,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token: first, client_id: 'web' }).toString(),
      });
      assert.equal(revoked.statusCode, 200);
      history.add({ kind: 'revoke', actor: 'admin', familyOf: first, answeredAt: b!.clock.now() });
      const stopped = await chain;
      // After the revocation, whatever the app holds is refused on either instance.
      for (const s of [a!, b!]) {
        const r = await refreshVia(history, s, 'app', token);
        assert.notEqual(r.status, 200, 'no token minted after the revocation is accepted');
        // Nor the family's newest access token, whichever instance is asked.
        assert.equal((await s.introspect(access)).active, false, 'the newest access token is revoked too');
      }
      const family = await a!.tessera.ctx.stores.sessions.findFamily(
        (await a!.tessera.ctx.stores.sessions.listFamilies({ limit: 1 }))[0]!.id,
      );
      assert.equal(family?.status, 'revoked');
      await check(history, a!, { ended: [first] });
      recordResult('race-refresh-vs-revoke', {
        chainStoppedWith: stopped
          ? `${stopped.status} ${stopped.body?.error_code}`
          : 'finished before the revoke',
        familyStatus: family?.status,
      });
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it('reuse detection survives a restart: a rotated token presented after a restart past grace is reuse', async () => {
    const s = await startTestServer();
    const history = new History();
    const parent = (await s.login()).refresh_token!;
    history.add({ kind: 'login', actor: 'app', refreshToken: parent, at: 0 });
    const child = await refreshVia(history, s, 'app', parent);
    assert.equal(child.status, 200);
    const at = s.clock.now();
    await s.tessera.close();
    const restarted = await startTestServer({ dbPath: s.dbPath, masterSecret: s.masterSecret });
    try {
      restarted.clock.set(at + GRACE_MS + 1_000);
      const replay = await refreshVia(history, restarted, 'thief', parent, { deliberateReuse: true });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error_code, 'token_reused');
      const victim = await refreshVia(history, restarted, 'app', child.body.refresh_token);
      assert.equal(victim.body.error_code, 'token_revoked', 'the whole family ended');
      // The app's refusal for its own token is the revocation, not a reuse of its own.
      await check(history, restarted, { ended: [parent] });
      recordResult('reuse-after-restart', {
        replay: replay.body.error_code,
        childAfter: victim.body.error_code,
      });
    } finally {
      await restarted.close();
      await s.close();
    }
  });

  it('N concurrent refreshes of one token across K instances on one SQLite file: one child, identical answers', async () => {
    const servers = await instancesOnOneFile(3);
    try {
      recordResult('concurrent-sqlite', await concurrentRefreshes(servers, 60));
    } finally {
      await closeAll(servers);
    }
  });

  it('a lost response replayed 30 s later gets 200 and the same child', async () => {
    const s = await startTestServer();
    try {
      const history = new History();
      const parent = (await s.login()).refresh_token!;
      const first = await refreshVia(history, s, 'app', parent);
      // The app never saw `first`: its answer was lost. It replays the request 30 s later.
      history.observations.pop();
      history.add({
        kind: 'refresh',
        actor: 'app',
        presented: parent,
        sentAt: 0,
        answeredAt: 0,
        answer: 'lost',
      });
      s.clock.advance(30_000);
      const replay = await refreshVia(history, s, 'app', parent);
      assert.equal(replay.status, 200);
      assert.equal(replay.body.refresh_token, first.body.refresh_token);
      assert.equal(replay.body.access_token, first.body.access_token);
      await check(history, s);
      recordResult('lost-response-replay', { after: '30 s (virtual clock)', answer: 200, sameChild: true });
    } finally {
      await s.close();
    }
  });

  it('clock skew between instances and clients within the leeway changes nothing', async () => {
    const [a, b, c] = await instancesOnOneFile(3);
    try {
      const skew = 30_000;
      b!.clock.set(a!.clock.now() - skew);
      c!.clock.set(a!.clock.now() + skew);
      const history = new History();
      const parent = (await a!.login()).refresh_token!;
      const child = await refreshVia(history, a!, 'app', parent);
      // The retry of a lost answer lands on an instance whose clock is behind, or ahead.
      for (const s of [b!, c!]) {
        const retry = await refreshVia(history, s, 'app', parent);
        assert.equal(retry.status, 200);
        assert.equal(retry.body.refresh_token, child.body.refresh_token);
      }
      // The next refresh on the skewed instances, and the access token read by every instance.
      const next = await refreshVia(history, b!, 'app', child.body.refresh_token);
      assert.equal(next.status, 200);
      const further = await refreshVia(history, c!, 'app', next.body.refresh_token);
      assert.equal(further.status, 200);
      for (const s of [a!, b!, c!])
        assert.equal((await s.introspect(further.body.access_token)).active, true);
      await check(history, a!);
      recordResult('clock-skew', { skewSeconds: skew / 1000, instances: 3, answers: 'unchanged' });
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });
});

describe('chaos: races on PostgreSQL', () => {
  const skip = pgSkip();
  const schema = freshSchema();
  after(async () => {
    if (!skip) await dropSchema(schema);
  });
  it('N concurrent refreshes of one token across K instances on one PostgreSQL schema: one child, identical answers', {
    skip,
  }, async () => {
    const masterSecret = randomBytes(32);
    const open = async (): Promise<Stores> => openPostgresStores({ url: PG_URL!, schema });
    const first = await startTestServer({ stores: await open(), masterSecret });
    const rest = [
      await startTestServer({ stores: await open(), masterSecret }),
      await startTestServer({ stores: await open(), masterSecret }),
    ];
    const servers = [first, ...rest];
    try {
      recordResult('concurrent-postgres', await concurrentRefreshes(servers, 60));
      // The single-use nonce, accepted once across every instance.
      const token = (await first.login()).refresh_token!;
      const nonce = randomBytes(16).toString('base64url');
      const answers = await Promise.all(servers.map((s) => s.refresh(token, { nonce })));
      assert.equal(
        answers.filter((r) => r.status === 200).length,
        1,
        JSON.stringify(answers.map((r) => r.status)),
      );
      const history = new History();
      for (const [i, r] of answers.entries())
        history.add({ kind: 'single-use', value: nonce, accepted: r.status === 200, instance: `i${i}` });
      const report = await checkInvariants({
        history,
        sessions: first.tessera.ctx.stores.sessions,
        keys: first.tessera.ctx.keys,
      });
      assert.deepEqual(report.violations, []);
    } finally {
      for (const s of servers) await s.close();
      await admin('SELECT 1');
    }
  });
});
