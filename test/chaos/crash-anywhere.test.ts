import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROTATION_FAULT_POINTS, type RotationFaultPoint } from '@tessera/server/testing';
import { RETRY_MAX_MS } from '../../packages/client/src/core/defaults.js';
import { deriveServerKeys } from '../../packages/server/src/crypto/secrets.js';
import {
  createTessera,
  createUser,
  loadConfig,
  openSqliteStores,
  saveClient,
} from '../../packages/server/src/index.js';
import { freePort } from '../../packages/server/test/helpers/test-server.js';
import { Holder, login, refresh } from './support/driver.js';
import { checkInvariants, describeReport, History } from './support/invariants.js';
import { LONG, recordResult, sized } from './support/mode.js';
import { buildServer, kill, type Running, type ServerBuild, startServer } from './support/processes.js';
import { type SdkActor, sdkActor } from './support/sdk-actor.js';

/**
 * Crash anywhere: a real `tessera serve` is SIGKILLed again and again during bursts of concurrent
 * refreshes of many sessions, at a random moment or at a fixed point of the rotation; restarted
 * on the same database, every client first retries what was in flight. After every run the
 * invariant checker reads the store: nothing lost, nothing duplicated, nobody signed out.
 */

const RUNS = sized(20, 200);
const SESSIONS = sized(16, 40);
const SDK_CLIENTS = 3;
/** Every FIXED_EVERY-th run kills at a fixed point (cycling through them); the others at random. */
const FIXED_EVERY = 4;
const CREDENTIALS = { username: 'alice', password: 'correct horse battery staple' };

describe(`chaos: crash anywhere (${RUNS} SIGKILLs of tessera serve${LONG ? ', long form' : ''})`, () => {
  let dir: string;
  let build: ServerBuild;
  let server: Running | undefined;
  const secret = randomBytes(32);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-chaos-crash-'));
    build = await buildServer();
  });
  /** The SDK clients, closed after the test whatever its outcome (their timers keep the process alive). */
  const clients: SdkActor[] = [];
  after(async () => {
    for (const s of clients) {
      s.client.close();
      s.time.stop();
    }
    if (server) await kill(server);
    build?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no crash loses or duplicates a token, revokes a family or signs an SDK client out', async (t) => {
    const db = join(dir, 'tessera.db');
    const seed = await createTessera({
      config: loadConfig({ env: {}, overrides: { db, logLevel: 'silent', passwordHashCost: 10 } }),
      masterSecret: secret,
      background: false,
    });
    await saveClient(seed.ctx, { id: 'web', public: true });
    await createUser(seed.ctx, CREDENTIALS);
    await seed.close();

    const port = await freePort();
    const env = {
      TESSERA_SECRET: secret.toString('base64url'),
      TESSERA_LOG_LEVEL: 'error',
      TESSERA_PASSWORD_HASH_COST: '10',
      TESSERA_RATE_LIMIT_LOGIN: '0',
      TESSERA_RATE_LIMIT_REFRESH: '0',
    };
    const serveArgs = ['serve', '--db', db, '--port', String(port)];
    const start = (fault?: { point: RotationFaultPoint; nth: number }) =>
      fault
        ? startServer(build.faulty, [fault.point, db, String(port), String(fault.nth)], env, port)
        : startServer(build.cli, serveArgs, env, port);

    const history = new History();
    server = await start();
    const url = server.url;
    const holders: Holder[] = [];
    for (let i = 0; i < SESSIONS; i++)
      holders.push(new Holder(`s${i}`, await login(history, url, `s${i}`, CREDENTIALS)));
    const sdks: SdkActor[] = [];
    for (let i = 0; i < SDK_CLIENTS; i++) sdks.push(await sdkActor(history, `sdk${i}`, url, CREDENTIALS));
    clients.push(...sdks);

    const keys = deriveServerKeys(secret);
    const check = async (final: boolean) => {
      const stores = openSqliteStores({ path: db, checkpointIntervalMs: 0 });
      try {
        return await checkInvariants({
          history,
          sessions: stores.sessions,
          keys,
          sqlitePath: db,
          retriesPending: !final,
          // The server's grace period (the default): a lost answer is recovered within it.
          graceMs: loadConfig({ env: {} }).refreshGracePeriod * 1000,
        });
      } finally {
        await stores.close();
      }
    };

    const figures = {
      runs: 0,
      random: 0,
      fixed: {} as Record<string, number>,
      pointNotReached: 0,
      lostAnswers: 0,
    };
    const startedAt = Date.now();
    for (let run = 0; run < RUNS; run++) {
      const point =
        run % FIXED_EVERY === FIXED_EVERY - 1
          ? ROTATION_FAULT_POINTS[Math.floor(run / FIXED_EVERY) % ROTATION_FAULT_POINTS.length]!
          : undefined;
      if (run > 0) {
        server = await start(point ? { point, nth: 1 + Math.floor(Math.random() * SESSIONS) } : undefined);
        // For the SDK clients each restart is a server back after their longest backoff: they
        // probe it now, rather than sit out real minutes of a backoff grown by the crashes (and a
        // lost answer is retried long before its grace period ends).
        for (const s of sdks) if (s.inFlight() === 0) s.time.skip(RETRY_MAX_MS);
      }
      const running: Running = server!;
      let dead = false;
      void running.exited.then(() => {
        dead = true;
      });
      // Random runs: SIGKILL at a random moment of the burst (the first retries included).
      const killer = point
        ? undefined
        : setTimeout(() => running.child.kill('SIGKILL'), 20 + Math.random() * 600);
      const burstEnds = Date.now() + 3_000;
      const lost0 = history.refreshes.filter((o) => o.answer === 'lost').length;
      // A new order each run: the first requests to reach a fresh server are served first, and a
      // fixed order starved the last sessions of answers for minutes in the long form.
      const order = holders.map((h, i) => ({ h, i, key: Math.random() })).sort((a, b) => a.key - b.key);
      await Promise.all([
        ...order.map(async ({ h, i }) => {
          // Every client first retries what was in flight when the last server died.
          while (!dead && Date.now() < burstEnds) {
            // A quarter of the sessions are two tabs that refresh the same token at once.
            const answers = await Promise.all(
              i % 4 === 0
                ? [h.refreshOnce(history, url), h.refreshOnce(history, url)]
                : [h.refreshOnce(history, url)],
            );
            if (answers.includes('lost')) break;
          }
        }),
        ...sdks.map(async (s) => {
          while (!dead && Date.now() < burstEnds) {
            await s.client.refresh().catch(() => {});
          }
        }),
      ]);
      clearTimeout(killer);
      if (point) {
        if (!dead) figures.pointNotReached++;
        else figures.fixed[point] = (figures.fixed[point] ?? 0) + 1;
      } else figures.random++;
      await kill(running);
      assert.equal(await running.exited, 'SIGKILL', `run ${run}: the server was killed`);
      figures.runs++;
      figures.lostAnswers += history.refreshes.filter((o) => o.answer === 'lost').length - lost0;
      const report = await check(false);
      assert.deepEqual(report.violations, [], `run ${run} (${point ?? 'random'}): ${describeReport(report)}`);
    }

    const recent = (actor: string) =>
      history.refreshes
        .filter((o) => o.actor === actor)
        .slice(-8)
        .map(
          (o) =>
            `  ${o.presented.slice(0, 12)}… sent ${Math.round((Date.now() - o.sentAt) / 1000)} s ago, answered after ${o.answeredAt - o.sentAt} ms: ${JSON.stringify(o.answer)}`,
        )
        .join('\n');
    // The last restart: every client retries, and each session still refreshes.
    server = await start();
    await Promise.all(holders.map((h) => h.refreshOnce(history, url)));
    await Promise.all(holders.map((h) => h.refreshOnce(history, url)));
    // An SDK client may be deep in its backoff from the crashes: consecutive lost answers grow it
    // to its longest (a minute), and it promises to find a recovered server within that. Its
    // clock skips that minute instead of waiting it out in real time (a loaded machine stretched
    // a real-time bound of 65 s past itself: the probe after a 60 s backoff had 5 s left).
    const sdkRecovery: { actor: string; skips: number; ms: number }[] = [];
    for (const s of sdks) {
      const t0 = Date.now();
      let token: string | undefined;
      let skips = 0;
      while (!token && skips < 3) {
        // A request still in flight (to the last server, or this one) ends within its timeout.
        const settled = Date.now() + 30_000;
        while (s.inFlight() > 0 && Date.now() < settled) await new Promise((r) => setTimeout(r, 20));
        s.time.skip(RETRY_MAX_MS);
        skips++;
        token = await s.client.refresh().catch(() => undefined);
      }
      assert.ok(
        token,
        `${s.actor} still refreshes within its longest backoff (${s.client.state}); its last requests:\n${recent(s.actor)}`,
      );
      sdkRecovery.push({ actor: s.actor, skips, ms: Date.now() - t0 });
    }
    for (const h of holders) {
      const last = await refresh(history, url, h.actor, h.token);
      assert.ok(last !== 'lost' && last.status === 200, `${h.actor} still refreshes`);
      h.token = last.body.refresh_token;
    }
    await kill(server);
    server = undefined;
    const report = await check(true);
    t.diagnostic(describeReport(report));
    assert.deepEqual(report.violations, [], describeReport(report));
    for (const s of sdks) assert.deepEqual(s.expired, [], `${s.actor} never emitted sessionExpired`);
    for (const s of sdks) s.client.close();
    const served = report.answers['200'] ?? 0;
    t.diagnostic(JSON.stringify({ ...figures, sdkRecovery }));
    // Fixed points that were reached (the n-th rotation may not come before the burst ends).
    assert.ok(
      Object.keys(figures.fixed).length >=
        Math.min(ROTATION_FAULT_POINTS.length, Math.floor(RUNS / FIXED_EVERY)) - 1,
      JSON.stringify(figures),
    );
    recordResult('crash-anywhere', {
      ...figures,
      sessions: SESSIONS,
      sdkClients: SDK_CLIENTS,
      refreshesAnswered200: served,
      answers: report.answers,
      families: report.families,
      tokens: report.tokens,
      violations: report.violations.length,
      sdkSessionExpired: sdks.reduce((n, s) => n + s.expired.length, 0),
      sdkRefreshesAnswered200: history.refreshes.filter(
        (o) => o.actor.startsWith('sdk') && o.answer !== 'lost' && o.answer.status === 200,
      ).length,
      sdkRecovery,
      seconds: Math.round((Date.now() - startedAt) / 1000),
    });
  });
});
