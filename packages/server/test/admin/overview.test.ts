import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { ManualClock, ManualTimers } from '../../src/index.js';
import {
  LATENCY_BUCKETS_MS,
  MinuteCounters,
  p95OfHistogram,
} from '../../src/observability/minute-counters.js';
import type { CounterRow, CounterStore } from '../../src/ports/index.js';
import { signInAdmin } from '../helpers/admin-session.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('the overview (GET /admin/api/overview) from per-minute counters', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const timers = new ManualTimers(clock);
  let s: TestServer;
  let cookie = '';
  before(async () => {
    s = await startTestServer({ clock, setTimer: timers.setTimer });
    ({ cookie } = await signInAdmin(s));
  });
  after(() => s.close());

  const overview = async (query = '') => {
    const res = await s.tessera.app.inject({
      method: 'GET',
      url: `/admin/api/overview${query}`,
      headers: { cookie },
    });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body);
  };

  it('counts refreshes, grace reuses, detected reuse, revocations and failed logins as they happen', async () => {
    const before = await overview();
    assert.equal(before.tiles.refreshSuccessRate, null);
    const t = await s.login();
    const r1 = await s.refresh(t.refresh_token!);
    assert.equal(r1.status, 200);
    // The same parent again within grace: the same answer, a grace reuse.
    assert.equal((await s.refresh(t.refresh_token!)).status, 200);
    // Six minutes later the counters were flushed (virtual time) and the parent is past its grace.
    await timers.advance(6 * 60_000);
    const reused = await s.refresh(t.refresh_token!);
    assert.equal(reused.body.error_code, 'token_reused');
    const wrong = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'alice', password: 'not the password', client_id: 'web' }),
    });
    assert.equal(wrong.statusCode, 401);

    const o = await overview();
    assert.equal(o.tiles.reuseDetected24h, 1);
    assert.equal(o.tiles.failedLogins24h, 1);
    // rotated 1, grace 1, failed 1 (the reuse).
    assert.equal(o.tiles.refreshSuccessRate, 2 / 3);
    assert.ok(o.tiles.activeSessions >= 0);
    assert.equal(typeof o.tiles.signingKeyAgeSeconds, 'number');
    assert.equal(typeof o.tiles.tokenEndpointP95Ms, 'number', 'token requests were timed');
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(total(o.series.refreshes.rotated), 1);
    assert.equal(total(o.series.refreshes.grace), 1);
    assert.equal(total(o.series.graceReuses.web), 1);
    assert.equal(total(o.series.reuseDetected.web), 1);
    assert.equal(total(o.series.failures.token_reused), 1);
    assert.equal(total(o.series.revocations.system), 1, 'the reuse ended the session');
    assert.equal(total(o.series.failedLogins), 1);
    assert.equal(o.times.length, o.series.failedLogins.length);
    assert.equal(o.stepMs, 15 * 60_000, 'a day in 15-minute steps');
  });

  it('active sessions: a new session counts, a revoked one does not', async () => {
    const a = (await overview()).tiles.activeSessions;
    const t = await s.login();
    assert.equal((await overview()).tiles.activeSessions, a + 1);
    await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.revocation,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: t.refresh_token!, client_id: 'web' }).toString(),
    });
    assert.equal((await overview()).tiles.activeSessions, a);
  });

  it('charts a chosen range and step; refuses a bad one', async () => {
    const now = clock.now();
    const o = await overview(`?from=${now - 3_600_000}&to=${now}&step=1`);
    assert.equal(o.stepMs, 60_000);
    assert.equal(o.times.length, 61);
    const bad = await s.tessera.app.inject({
      method: 'GET',
      url: '/admin/api/overview?step=7',
      headers: { cookie },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(JSON.parse(bad.body).error_code, 'invalid_request');
  });
});

describe('MinuteCounters', () => {
  it('adds per minute in memory, flushes one upsert, keeps the counts when the store is down', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
    const written: CounterRow[][] = [];
    let down = false;
    const store: CounterStore = {
      async addCounts(rows) {
        if (down) throw new Error('down');
        written.push(rows.map((r) => ({ ...r })));
      },
      async readCounts() {
        return [];
      },
      async pruneCounts() {
        return 0;
      },
    };
    const c = new MinuteCounters(store, clock);
    c.observeEvents([
      { at: 0, type: 'token.refreshed' },
      { at: 0, type: 'token.refreshed' },
      { at: 0, type: 'token.refresh_failed', reason: 'token_expired' },
    ]);
    clock.advance(60_000);
    c.observeEvents([{ at: 0, type: 'token.refreshed' }]);
    down = true;
    await c.flush();
    assert.equal(written.length, 0);
    assert.equal(c.unflushed(0, Number.MAX_SAFE_INTEGER).length, 4, 'kept');
    down = false;
    c.observeEvents([{ at: 0, type: 'token.refreshed' }]);
    await c.flush();
    assert.equal(written.length, 1, 'one write for everything');
    const rotated = written[0]!.filter((r) => r.name === 'refreshes' && r.label === 'rotated');
    assert.deepEqual(
      rotated.map((r) => r.count),
      [2, 2],
      'two minutes, two each',
    );
    assert.equal(c.unflushed(0, Number.MAX_SAFE_INTEGER).length, 0);
  });

  it('the p95 of the latency histogram is the bound of the bucket that holds the 95th percentile', () => {
    const h = new Map<string, number>([
      ['5', 90],
      ['50', 5],
      ['500', 5],
    ]);
    assert.equal(p95OfHistogram(h), 50);
    assert.equal(p95OfHistogram(new Map([['inf', 1]])), LATENCY_BUCKETS_MS.at(-1)! * 2);
    assert.equal(p95OfHistogram(new Map()), null);
  });
});
