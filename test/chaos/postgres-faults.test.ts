import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
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
 * PostgreSQL faults: the server's backends terminated in the middle of rotations, and the
 * database unreachable for 5 s (a loopback TCP proxy of this test's own between the server and
 * PostgreSQL, cut and restored). Refreshes answer 503 retryable meanwhile, nothing unstored is
 * handed out, the server recovers by itself, and the invariant checker finds nothing lost.
 */

/** A loopback TCP proxy to PostgreSQL that the test can cut (every connection reset, new ones refused). */
async function pgProxy(
  target: URL,
): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('chaos: PostgreSQL faults', () => {
  const skip = pgSkip();
  const schema = freshSchema();
  let s: TestServer;
  let proxy: Awaited<ReturnType<typeof pgProxy>>;
  before(async () => {
    if (skip) return;
    const target = new URL(PG_URL!);
    proxy = await pgProxy(target);
    const viaProxy = new URL(PG_URL!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const stores = await openPostgresStores({ url: viaProxy.href, schema, connectTimeoutMs: 1_000 });
    s = await startTestServer({ stores, masterSecret: randomBytes(32), config: { loginFailuresPerUser: 0 } });
  });
  after(async () => {
    if (skip) return;
    await s?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  /** Refreshes through the instance, recorded; 5xx and lost answers are retried with the same token. */
  async function chain(history: History, actor: string, token: string, rounds: number) {
    let current = token;
    const statuses: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const sentAt = Date.now();
      const r = await s.refresh(current);
      statuses.push(r.status);
      history.add({
        kind: 'refresh',
        actor,
        presented: current,
        sentAt,
        answeredAt: Date.now(),
        answer:
          r.status === 200
            ? { status: 200, refreshToken: r.body.refresh_token }
            : { status: r.status, errorCode: r.body?.error_code },
      });
      if (r.status === 200) current = r.body.refresh_token;
      else {
        assert.equal(r.status, 503, `only 503 while PostgreSQL fails: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.retryable, true);
        // A lost answer as far as the checker knows: it must recover on a retry.
        history.observations.pop();
        history.add({
          kind: 'refresh',
          actor,
          presented: current,
          sentAt,
          answeredAt: Date.now(),
          answer: 'lost',
        });
      }
    }
    return { token: current, statuses };
  }

  it('backends terminated in the middle of rotations: 503 retryable at worst, nothing lost', {
    skip,
  }, async () => {
    const history = new History();
    const tokens = await Promise.all(
      Array.from({ length: 6 }, () => s.login().then((t) => t.refresh_token!)),
    );
    let killed = 0;
    let stop = false;
    const killer = (async () => {
      while (!stop) {
        const rows = await admin<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
          [`tessera ${schema}`],
        );
        killed += rows[0]?.n ?? 0;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const results = await Promise.all(tokens.map((t, i) => chain(history, `app${i}`, t, 25)));
    stop = true;
    await killer;
    // Every client ends with a token that refreshes.
    const finals = await Promise.all(results.map((r, i) => chain(history, `app${i}`, r.token, 1)));
    for (const f of finals) assert.deepEqual(f.statuses, [200]);
    const report = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
    });
    assert.deepEqual(report.violations, [], describeReport(report));
    const all = results.flatMap((r) => r.statuses);
    recordResult('postgres-backend-terminated', {
      backendsTerminated: killed,
      refreshes: all.length,
      answered200: all.filter((x) => x === 200).length,
      answered503: all.filter((x) => x === 503).length,
      violations: 0,
    });
    assert.ok(killed > 0, 'backends were terminated');
  });

  it('PostgreSQL unreachable for 5 s: 503 retryable, the presented token still good, back by itself', {
    skip,
  }, async () => {
    const history = new History();
    const token = (await s.login()).refresh_token!;
    history.add({ kind: 'login', actor: 'app', refreshToken: token, at: 0 });
    const before = await chain(history, 'app', token, 2);
    proxy.cut();
    const cutAt = Date.now();
    const during: number[] = [];
    while (Date.now() - cutAt < 5_000) {
      const r = await s.refresh(before.token);
      during.push(r.status);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.retryable, true);
      assert.equal(r.body.refresh_token, undefined);
      await new Promise((x) => setTimeout(x, 250));
    }
    proxy.restore();
    // Back by itself: the pool reconnects on the next request.
    let after: number | undefined;
    const restoredAt = Date.now();
    let token2 = before.token;
    while (Date.now() - restoredAt < 15_000) {
      const r = await s.refresh(token2);
      if (r.status === 200) {
        after = Date.now() - restoredAt;
        history.add({
          kind: 'refresh',
          actor: 'app',
          presented: token2,
          sentAt: 0,
          answeredAt: 0,
          answer: { status: 200, refreshToken: r.body.refresh_token },
        });
        token2 = r.body.refresh_token;
        break;
      }
      await new Promise((x) => setTimeout(x, 200));
    }
    assert.ok(after !== undefined, 'the server serves again once PostgreSQL is back');
    const report = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
    });
    assert.deepEqual(report.violations, [], describeReport(report));
    recordResult('postgres-unreachable', {
      seconds: 5,
      answersDuring: during.length,
      allRetryable503: true,
      backAfterMs: after,
    });
  });
});
