import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import type { SqliteStores } from '../../packages/server/src/index.js';
import {
  PASSWORD,
  startTestServer,
  type TestServer,
} from '../../packages/server/test/helpers/test-server.js';
import { type Answer, Holder, login, post, refresh } from './support/driver.js';
import { checkInvariants, describeReport, History } from './support/invariants.js';
import { recordResult } from './support/mode.js';

/**
 * The database cannot take writes: the disk is full (SQLite's `max_page_count` on the serving
 * connection stands in for a full filesystem: the same SQLITE_FULL), or another process holds
 * the write lock longer than the busy timeout. Refresh, sign-in and revocation answer 503,
 * retryable, with Retry-After; nothing is handed out that was not stored; when the fault ends the
 * server serves again by itself, and the tokens presented meanwhile are still good.
 */

const CREDENTIALS = { username: 'alice', password: PASSWORD };

function assertRetryable503(answer: Answer | 'lost', what: string): void {
  assert.ok(answer !== 'lost', `${what}: no answer`);
  assert.equal(answer.status, 503, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.retryable, true, what);
  assert.equal(answer.body.error, 'temporarily_unavailable', what);
  assert.ok(Number(answer.headers['retry-after']) >= 1, `${what}: Retry-After`);
  assert.equal(answer.body.access_token, undefined, `${what}: no token in a refusal`);
  assert.equal(answer.body.refresh_token, undefined, `${what}: no token in a refusal`);
}

/** The family id inside a refresh token (its first 16 bytes after the prefix). */
const familyOf = (token: string) =>
  Buffer.from(token.slice(REFRESH_TOKEN_PREFIX.length), 'base64url').subarray(0, 16).toString('base64url');

describe('chaos: disk full', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ listen: true, config: { loginFailuresPerUser: 0 } });
  });
  after(async () => {
    await s.close();
  });

  it('refresh, login and revoke answer 503 retryable; nothing unstored is handed out; it recovers by itself', async () => {
    const db = (s.tessera.ctx.stores as SqliteStores).db;
    const history = new History();
    const holders: Holder[] = [];
    for (let i = 0; i < 8; i++)
      holders.push(new Holder(`h${i}`, await login(history, s.url, `h${i}`, CREDENTIALS)));
    const victim = await login(history, s.url, 'victim', CREDENTIALS);

    // Fill the disk: no page beyond those the file has now.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    // Whatever free pages were left fill up under refreshes; then every write fails.
    const statuses: Record<string, number> = {};
    let full = false;
    for (let round = 0; round < 400 && !full; round++) {
      const answers = await Promise.all(holders.map((h) => h.refreshOnce(history, s.url)));
      for (const a of answers) {
        const k = a === 'lost' ? 'lost' : String(a.status);
        statuses[k] = (statuses[k] ?? 0) + 1;
      }
      full = answers.every((a) => a !== 'lost' && a.status === 503);
    }
    assert.ok(full, `the disk filled up: ${JSON.stringify(statuses)}`);
    for (const h of holders) {
      const answer = await refresh(history, s.url, h.actor, h.inFlight ?? h.token);
      assertRetryable503(answer, 'refresh on a full disk');
    }
    assertRetryable503(
      await post(s.url, ENDPOINTS.login, { ...CREDENTIALS, client_id: 'web' }, { json: true }),
      'login on a full disk',
    );
    // A revocation changes rows in place: it may need no new page, and then it is done (and
    // said so) even on a full disk; if it needs one, it is refused like the others.
    const revokeOnFull = await post(s.url, ENDPOINTS.revocation, { token: victim, client_id: 'web' });
    const revokedOnFull = revokeOnFull !== 'lost' && revokeOnFull.status === 200;
    if (revokedOnFull) {
      const family = await s.tessera.ctx.stores.sessions.findFamily(familyOf(victim));
      assert.equal(family?.status, 'revoked', 'a revocation answered 200 on a full disk was stored');
    } else assertRetryable503(revokeOnFull, 'revoke on a full disk');
    const duringFault = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
      retriesPending: true,
      deliberatelyEnded: revokedOnFull ? [victim] : [],
    });
    assert.deepEqual(duringFault.violations, [], describeReport(duringFault));

    // Space returns: the server serves again with nothing restarted.
    db.pragma('max_page_count = 4294967294');
    for (const h of holders) {
      const answer = await h.refreshOnce(history, s.url);
      assert.ok(answer !== 'lost' && answer.status === 200, `${h.actor} refreshes once space returns`);
    }
    const signIn = await post(s.url, ENDPOINTS.login, { ...CREDENTIALS, client_id: 'web' }, { json: true });
    assert.ok(signIn !== 'lost' && signIn.status === 200);
    const revoked = await post(s.url, ENDPOINTS.revocation, { token: victim, client_id: 'web' });
    assert.ok(revoked !== 'lost' && revoked.status === 200);
    const family = await s.tessera.ctx.stores.sessions.findFamily(familyOf(victim));
    assert.equal(family?.status, 'revoked');
    history.add({ kind: 'revoke', actor: 'victim', familyOf: victim, answeredAt: Date.now() });

    const report = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
      sqlitePath: s.dbPath,
      deliberatelyEnded: [victim],
    });
    assert.deepEqual(report.violations, [], describeReport(report));
    recordResult('disk-full', {
      statusesWhileFilling: statuses,
      revokeOnFullDisk: revokedOnFull
        ? '200 (stored: an in-place update needs no new page)'
        : '503 retryable',
      answers: report.answers,
      violations: 0,
    });
  });
});

/**
 * A real full disk where the test may mount (root on Linux): the database, its WAL and the
 * checkpointer on a 6 MiB tmpfs of the test's own, filled up by a file beside them until the
 * filesystem has no byte left. Deleting the file is the space coming back.
 */
function mountTmpfs(mib: number): { dir: string; unmount(): void } | string {
  if (process.platform !== 'linux') return 'needs Linux tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'tessera-full-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'pipe' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${String(mounted.stderr).trim() || mounted.error?.message}); the max_page_count test stands in`;
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `path` until the filesystem refuses a byte (ENOSPC); returns the bytes written. */
function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (let i = 0; i < 4096; i++) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('chaos: disk full (a real filesystem: a tmpfs of the test)', () => {
  const mount = mountTmpfs(6);
  const skip = typeof mount === 'string' ? mount : false;
  let s: TestServer;
  before(async () => {
    if (typeof mount === 'string') return;
    s = await startTestServer({
      listen: true,
      dbPath: join(mount.dir, 'tessera.db'),
      config: { loginFailuresPerUser: 0 },
    });
  });
  after(async () => {
    if (typeof mount === 'string') return;
    await s?.close();
    mount.unmount();
  });

  it('refresh, login and revoke answer 503 retryable; nothing unstored is handed out; it recovers when space returns', {
    skip,
  }, async () => {
    if (typeof mount === 'string') return;
    const history = new History();
    const holders: Holder[] = [];
    for (let i = 0; i < 8; i++)
      holders.push(new Holder(`h${i}`, await login(history, s.url, `h${i}`, CREDENTIALS)));
    const victim = await login(history, s.url, 'victim', CREDENTIALS);
    const filler = join(mount.dir, 'filler');
    const filled = fillUp(filler);

    // The last free pages of the file, of its WAL and of the filesystem fill up under refreshes.
    const statuses: Record<string, number> = {};
    let full = false;
    for (let round = 0; round < 600 && !full; round++) {
      const answers = await Promise.all(holders.map((h) => h.refreshOnce(history, s.url)));
      for (const a of answers) {
        const k = a === 'lost' ? 'lost' : String(a.status);
        statuses[k] = (statuses[k] ?? 0) + 1;
        if (a !== 'lost' && a.status !== 200) assertRetryable503(a, 'a refresh as the disk fills');
      }
      full = answers.every((a) => a !== 'lost' && a.status === 503);
    }
    assert.ok(full, `the disk filled up: ${JSON.stringify(statuses)}`);
    assertRetryable503(
      await post(s.url, ENDPOINTS.login, { ...CREDENTIALS, client_id: 'web' }, { json: true }),
      'login on a full disk',
    );
    const revokeOnFull = await post(s.url, ENDPOINTS.revocation, { token: victim, client_id: 'web' });
    const revokedOnFull = revokeOnFull !== 'lost' && revokeOnFull.status === 200;
    if (!revokedOnFull) assertRetryable503(revokeOnFull, 'revoke on a full disk');
    // Reads go on: the metadata and the keys need no write.
    assert.equal((await fetch(`${s.url}${ENDPOINTS.jwks}`)).status, 200, 'JWKS on a full disk');
    const duringFault = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
      retriesPending: true,
      deliberatelyEnded: revokedOnFull ? [victim] : [],
    });
    assert.deepEqual(duringFault.violations, [], describeReport(duringFault));

    // Space returns: the server serves again by itself.
    rmSync(filler);
    const back = Date.now();
    for (const h of holders) {
      let answer: Answer | 'lost' = 'lost';
      // The first write after the fault may still find the WAL mid-checkpoint: a few retries, bounded.
      for (let i = 0; i < 20; i++) {
        answer = await h.refreshOnce(history, s.url);
        if (answer !== 'lost' && answer.status === 200) break;
        assertRetryable503(answer, 'a refresh just after space returned');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(answer !== 'lost' && answer.status === 200, `${h.actor} refreshes once space returns`);
    }
    const recoveredMs = Date.now() - back;
    const signIn = await post(s.url, ENDPOINTS.login, { ...CREDENTIALS, client_id: 'web' }, { json: true });
    assert.ok(signIn !== 'lost' && signIn.status === 200, 'login once space returns');
    const revoked = await post(s.url, ENDPOINTS.revocation, { token: victim, client_id: 'web' });
    assert.ok(revoked !== 'lost' && revoked.status === 200);
    history.add({ kind: 'revoke', actor: 'victim', familyOf: victim, answeredAt: Date.now() });
    const report = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
      sqlitePath: s.dbPath,
      deliberatelyEnded: [victim],
    });
    assert.deepEqual(report.violations, [], describeReport(report));
    recordResult('disk-full-tmpfs', {
      filesystemMiB: 6,
      fillerBytes: filled,
      statusesWhileFilling: statuses,
      revokeOnFullDisk: revokedOnFull ? '200 (stored)' : '503 retryable',
      recoveredMs,
      answers: report.answers,
      violations: report.violations.length,
    });
  });
});

describe('chaos: database locked by another process past the busy timeout', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ listen: true, config: { loginFailuresPerUser: 0 } });
  });
  after(async () => {
    await s.close();
  });

  it('a refresh answers 503 with Retry-After, other requests are still answered, and the token still works after', async (t) => {
    const history = new History();
    const token = await login(history, s.url, 'a', CREDENTIALS);
    // Another process takes the write lock and keeps it (longer than the 5 s busy timeout).
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         process.stdout.write('locked\\n');
         process.stdin.on('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`,
        s.dbPath,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => locker.stdout!.once('data', () => resolve()));
      // The event loop's longest stall while the refresh waits for the lock.
      let last = Date.now();
      let stall = 0;
      const probe = setInterval(() => {
        const now = Date.now();
        stall = Math.max(stall, now - last);
        last = now;
      }, 20);
      const started = Date.now();
      const pending = refresh(history, s.url, 'a', token);
      // While that refresh waits for the lock, a read-only request is still answered promptly.
      await new Promise((r) => setTimeout(r, 1_000));
      const t0 = Date.now();
      const jwks = await fetch(`${s.url}${ENDPOINTS.jwks}`);
      const jwksMs = Date.now() - t0;
      assert.equal(jwks.status, 200);
      const answer = await pending;
      const waitedMs = Date.now() - started;
      clearInterval(probe);
      assertRetryable503(answer, 'refresh while locked');
      t.diagnostic(
        `refresh answered after ${waitedMs} ms; JWKS meanwhile in ${jwksMs} ms; longest event-loop stall ${stall} ms`,
      );
      assert.ok(waitedMs >= 4_000, `the refresh waited for the lock (${waitedMs} ms) before giving up`);
      // Waiting for a lock must not block the thread (a 5 s busy timeout in SQLite would, whole).
      assert.ok(stall < 1_500, `the event loop stalled ${stall} ms while a write waited for the lock`);
      assert.ok(jwksMs < 1_500, `JWKS answered in ${jwksMs} ms while a write waited for the lock`);
      recordResult('database-locked', {
        refreshAnswer: (answer as Answer).status,
        waitedMs,
        jwksMs,
        stallMs: stall,
      });
    } finally {
      locker.stdin!.write('go\n');
      await new Promise((r) => locker.once('exit', r));
    }
    const retry = await refresh(history, s.url, 'a', token);
    assert.ok(retry !== 'lost' && retry.status === 200, 'the presented token is still valid');
    const report = await checkInvariants({
      history,
      sessions: s.tessera.ctx.stores.sessions,
      keys: s.tessera.ctx.keys,
      sqlitePath: s.dbPath,
    });
    assert.deepEqual(report.violations, [], describeReport(report));
  });
});
