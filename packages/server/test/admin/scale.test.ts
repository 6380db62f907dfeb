import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { type CounterRow, createUser, openSqliteStores } from '../../src/index.js';
import { COUNTER_NAMES, LATENCY_BUCKETS_MS } from '../../src/observability/minute-counters.js';
import { signInAdmin } from '../helpers/admin-session.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

// The dashboard at the size it must stay fast at: 100,000 sessions and 1,000,000 events in
// SQLite, with a day of per-minute counters. Every list the admin API serves is read through its
// index (the plans of the statements the store really ran are checked), a page answers in
// milliseconds, and the overview in under 100 ms. Seeding is one transaction of prepared
// inserts; the time each step took is printed.
// npm test seeds a tenth (10,000 sessions, 100,000 events) to stay within its time budget on a
// shared machine; TESSERA_SCALE=full seeds the whole 100,000 and 1,000,000.
const FULL = process.env.TESSERA_SCALE === 'full';
const SESSIONS = FULL ? 100_000 : 10_000;
const EVENTS = FULL ? 1_000_000 : 100_000;
const USERS = 1000;
const CLIENTS = ['web', 'mobile', 'backend'] as const;
const NOW = Date.UTC(2026, 0, 1, 12);
const DAY = 86_400_000;

/**
 * The rows, in one transaction of prepared INSERT … SELECT statements over a counter (SQLite's
 * recursive CTE), and the batch-built event indexes filled at once, as a migration does.
 */
function seed(db: Database.Database, userId: string): CounterRow[] {
  const ua =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
  const user = (col: string) =>
    `CASE WHEN ${col} % ${USERS} = 0 THEN @userId ELSE 'user-' || (${col} % ${USERS}) END`;
  const client = (col: string) => `CASE ${col} % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'mobile' ELSE 'backend' END`;
  db.transaction(() => {
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count)
      INSERT INTO families (id, client_id, user_id, scope, status, created_at, expires_at, generation,
        last_refresh_at, user_agent, ip)
      SELECT 'fam-' || i, ${client('i')}, ${user('i')}, 'openid',
        CASE i % 10 WHEN 0 THEN 'revoked' WHEN 1 THEN 'expired' ELSE 'active' END,
        @start + i * @spacing, @start + i * @spacing + 30 * @day, i % 50, @start + i * @spacing + 60000,
        @ua, '198.51.100.4'
      FROM n`).run({
      count: SESSIONS,
      userId,
      start: NOW - 7 * DAY,
      spacing: Math.floor((7 * DAY) / SESSIONS),
      day: DAY,
      ua,
    });
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count)
      INSERT INTO events (at, type, family_id, user_id, client_id, reason, data)
      SELECT @start + i * @spacing,
        CASE WHEN i % 997 = 0 THEN 'token.reuse.detected'
          ELSE CASE i % 5 WHEN 3 THEN 'token.issued' WHEN 4 THEN 'login.succeeded' ELSE 'token.refreshed' END END,
        'fam-' || (i * 7919 % @sessions), ${user('(i * 7919 % @sessions)')}, ${client('(i * 7919 % @sessions)')},
        NULL, '{"generation":1,"ip":"198.51.100.4"}'
      FROM n`).run({
      count: EVENTS,
      userId,
      start: NOW - 7 * DAY,
      spacing: Math.floor((7 * DAY) / EVENTS),
      sessions: SESSIONS,
    });
    db.exec(`
      INSERT INTO event_index_family SELECT family_id, id FROM events ORDER BY family_id, id;
      INSERT INTO event_index_user SELECT user_id, id FROM events ORDER BY user_id, id;
      INSERT INTO event_index_client SELECT client_id, id FROM events ORDER BY client_id, id;
      INSERT INTO event_index_type SELECT type, id FROM events ORDER BY type, id;
      UPDATE event_index_mark SET id = (SELECT MAX(id) FROM events) WHERE one = 1;`);
  })();
  // A day of counters, as the flushes would have written them.
  const rows: CounterRow[] = [];
  const counter = (minute: number, name: string, label: string, count: number) =>
    rows.push({ minute, name, label, count });
  for (let m = NOW - DAY - (NOW % 60_000); m <= NOW; m += 60_000) {
    counter(m, COUNTER_NAMES.refreshes, 'rotated', 40);
    counter(m, COUNTER_NAMES.refreshes, 'grace', 2);
    counter(m, COUNTER_NAMES.refreshes, 'failed', 1);
    counter(m, COUNTER_NAMES.refreshFailures, 'token_expired', 1);
    counter(m, COUNTER_NAMES.failedLogins, '', 1);
    counter(m, COUNTER_NAMES.accessTokens, 'jwt', 45);
    for (const c of CLIENTS) {
      counter(m, COUNTER_NAMES.graceReuses, c, 1);
      counter(m, COUNTER_NAMES.reuseDetected, c, m % 7 === 0 ? 1 : 0);
      counter(m, COUNTER_NAMES.revocations, { web: 'user', mobile: 'system', backend: 'client' }[c], 1);
    }
    for (const b of LATENCY_BUCKETS_MS) counter(m, COUNTER_NAMES.tokenLatency, String(b), b < 20 ? 10 : 1);
  }
  return rows;
}

describe(`the dashboard at scale: ${SESSIONS.toLocaleString('en')} sessions, ${EVENTS.toLocaleString('en')} events (SQLite)`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const dbPath = join(dir, 'tessera.db');
  let s: TestServer;
  let cookie = '';
  let userName = '';
  let userId = '';
  const statements = new Set<string>();

  before(async () => {
    const t0 = performance.now();
    // The server creates alice and the clients on first start; then the rows go in behind it.
    s = await startTestServer({ dbPath });
    userName = 'scale-user';
    userId = (await createUser(s.tessera.ctx, { username: userName, password: PASSWORD, roles: ['user'] }))
      .id;
    const stores = openSqliteStores({ path: dbPath, eventIndexIntervalMs: 0, checkpointIntervalMs: 0 });
    const t1 = performance.now();
    const counters = seed(stores.db, userId);
    await stores.counters.addCounts(counters);
    const t2 = performance.now();
    stores.db.pragma('wal_checkpoint(TRUNCATE)');
    stores.db.exec('ANALYZE');
    const t3 = performance.now();
    await stores.close();
    console.log(
      `scale: seeded in ${Math.round(t2 - t1)} ms (one transaction, event indexes included), checkpoint and ANALYZE in ${Math.round(t3 - t2)} ms, set-up ${Math.round(t3 - t0)} ms`,
    );
    ({ cookie } = await signInAdmin(s));
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (url: string) => {
    const t = performance.now();
    const res = await s.tessera.app.inject({ method: 'GET', url, headers: { cookie } });
    const ms = performance.now() - t;
    assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
    return { body: JSON.parse(res.body), ms };
  };
  /** The median of five timed calls (the first warms the statement cache). */
  const timed = async (url: string) => {
    await get(url);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push((await get(url)).ms);
    return runs.sort((a, b) => a - b)[2]!;
  };

  it('the overview answers in under 100 ms from the counters', async () => {
    const cpu = process.cpuUsage();
    const ms = await timed('/admin/api/overview');
    const used = process.cpuUsage(cpu);
    const { body } = await get('/admin/api/overview');
    console.log(
      `scale: overview median ${ms.toFixed(1)} ms, CPU ${((used.user + used.system) / 6000).toFixed(1)} ms per call`,
    );
    assert.ok(body.tiles.activeSessions > 0.7 * SESSIONS);
    assert.ok(body.tiles.refreshSuccessRate > 0.9);
    assert.ok(ms < 100, `overview took ${ms.toFixed(1)} ms`);
  });

  it('every list is paged on the server, quickly, page after page', async () => {
    const lists = [
      '/admin/api/sessions?limit=50',
      '/admin/api/sessions?status=active&limit=50',
      `/admin/api/sessions?user=${userName}&limit=50`,
      '/admin/api/sessions?client=mobile&limit=50',
      `/admin/api/sessions?since=${NOW - DAY}&limit=50`,
      '/admin/api/events?limit=100',
      '/admin/api/events?type=token.reuse.detected&limit=100',
      '/admin/api/events?client=backend&limit=100',
      `/admin/api/events?user=${userName}&limit=100`,
      '/admin/api/events?session=fam-4242&limit=100',
      '/admin/api/keys',
    ];
    for (const url of lists) {
      const ms = await timed(url);
      console.log(`scale: ${url} median ${ms.toFixed(1)} ms`);
      assert.ok(ms < 250, `${url} took ${ms.toFixed(1)} ms`);
    }
    // Deep pages cost what the first does (keyset, not OFFSET).
    let next: string | null = null;
    for (let page = 0; page < 20; page++) {
      const { body } = await get(`/admin/api/sessions?limit=200${next ? `&cursor=${next}` : ''}`);
      next = body.next;
    }
    const deep = await timed(`/admin/api/sessions?limit=50&cursor=${next}`);
    assert.ok(deep < 250, `page 21 took ${deep.toFixed(1)} ms`);
    let after = 0;
    for (let page = 0; page < 5; page++) {
      const { body } = await get(`/admin/api/events?client=web&limit=1000&after=${after}`);
      after = body.next;
    }
    assert.ok((await timed(`/admin/api/events?client=web&limit=100&after=${after}`)) < 250);
  });

  it('the statements behind the lists use their indexes: no full scan, no sort', async () => {
    const stores = openSqliteStores({ path: dbPath, eventIndexIntervalMs: 0, checkpointIntervalMs: 0 });
    try {
      const prepare = stores.db.prepare.bind(stores.db);
      stores.db.prepare = ((sql: string) => {
        statements.add(sql);
        return prepare(sql);
      }) as typeof stores.db.prepare;
      const ts = { createdAt: NOW, id: 'fam-5' };
      await stores.sessions.listFamilies({ limit: 51, before: ts });
      await stores.sessions.listFamilies({ status: 'active', limit: 51, before: ts });
      await stores.sessions.listFamilies({ userId, limit: 51, before: ts });
      await stores.sessions.listFamilies({ clientId: 'mobile', limit: 51, before: ts });
      await stores.sessions.listFamilies({ createdAfter: NOW - DAY, limit: 51 });
      await stores.events.list({ limit: 100, afterId: 10 });
      await stores.events.list({ type: 'token.reuse.detected', limit: 100, afterId: 10 });
      await stores.events.list({ clientId: 'backend', limit: 100, afterId: 10 });
      await stores.events.list({ userId, limit: 100, afterId: 10 });
      await stores.events.list({ familyId: 'fam-4242', limit: 100, afterId: 10 });
      await stores.events.list({ from: NOW - DAY, to: NOW, limit: 1000, afterId: 10 });
      await stores.counters.readCounts({ from: NOW - DAY, to: NOW });
      const count = 'SELECT COUNT(*) FROM families WHERE status = ? AND expires_at > ?';
      statements.add(count);
      assert.ok(statements.size >= 11, [...statements].join('\n'));
      for (const sql of statements) {
        const params = (sql.match(/\?/g) ?? []).length;
        const named = [...new Set(sql.match(/@\w+/g) ?? [])];
        const args =
          named.length > 0 ? [Object.fromEntries(named.map((n) => [n.slice(1), 1]))] : Array(params).fill(1);
        const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
          .map((r) => r.detail)
          .join(' | ');
        assert.doesNotMatch(plan, /TEMP B-TREE/, `${sql}\n${plan}`);
        // A scan is allowed only in primary-key order with a LIMIT (the first rows only).
        for (const step of plan.split(' | ')) {
          if (!/^SCAN /.test(step) || /USING (COVERING )?INDEX|PRIMARY KEY/.test(step)) continue;
          assert.match(sql, /ORDER BY id LIMIT/, `a full scan: ${sql}\n${plan}`);
        }
      }
    } finally {
      await stores.close();
    }
  });
});
