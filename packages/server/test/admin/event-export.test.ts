import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LifecycleEvent } from '@tessera/protocol';
import { csvCell, exportLines } from '../../src/admin/event-export.js';
import { EventTail } from '../../src/admin/event-tail.js';
import { ManualClock, ManualTimers } from '../../src/index.js';
import type { EventFilter } from '../../src/ports/index.js';
import { signInAdmin } from '../helpers/admin-session.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('events export (GET /admin/api/events/export)', () => {
  let s: TestServer;
  let cookie = '';
  const T = Date.UTC(2026, 0, 1, 12);
  before(async () => {
    s = await startTestServer();
    ({ cookie } = await signInAdmin(s));
    const many = Array.from({ length: 2500 }, (_, i) => ({
      at: T + 1000 + i,
      type: 'token.refreshed' as const,
      clientId: i % 2 === 0 ? 'web' : 'mobile',
      familyId: `fam-${i % 7}`,
      data: { generation: i },
    }));
    await s.tessera.ctx.stores.events.append([
      {
        at: T + 500,
        type: 'login.failed',
        clientId: 'web',
        reason: '=HYPERLINK("x")',
        data: { note: 'a "quoted", comma\nand a line break' },
      },
      ...many,
    ]);
  });
  after(() => s.close());

  const get = (url: string) => s.tessera.app.inject({ method: 'GET', url, headers: { cookie } });

  it('NDJSON: one event a line, filtered by client and time, with a download name', async () => {
    const res = await get(
      `/admin/api/events/export?format=ndjson&client=web&from=${T + 1000}&to=${T + 2000}`,
    );
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    assert.match(
      String(res.headers['content-disposition']),
      /^attachment; filename="tessera-events-.*\.ndjson"$/,
    );
    const lines = res.body.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as LifecycleEvent);
    assert.equal(events.length, 500, 'the even i in [0, 1000)');
    assert.ok(events.every((e) => e.clientId === 'web' && e.at >= T + 1000 && e.at < T + 2000));
    const ids = events.map((e) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
  });

  it('CSV: RFC 4180 quoting, formula cells defused, every row across several batches', async () => {
    const res = await get('/admin/api/events/export?format=csv');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /\.csv"$/);
    const text = res.body;
    assert.ok(text.startsWith('id,at,time,type,session,user,client,reason,data\r\n'));
    assert.ok(text.includes(`,"'=HYPERLINK(""x"")",`), 'a formula is quoted and prefixed');
    assert.ok(
      text.includes('"{""note"":""a \\""quoted\\"", comma\\nand a line break"",'),
      text.slice(0, 600),
    );
    // 2,501 stored here plus the sign-in's own event, each one row after the header.
    const rows = text.trimEnd().split('\r\n').length - 1;
    assert.ok(rows >= 2501, String(rows));
  });

  it('refuses an unknown format and a range that ends before it starts', async () => {
    assert.equal((await get('/admin/api/events/export?format=xml')).statusCode, 400);
    assert.equal((await get('/admin/api/events/export?from=10&to=5')).statusCode, 400);
    assert.equal(
      (await s.tessera.app.inject({ method: 'GET', url: '/admin/api/events/export' })).statusCode,
      401,
    );
  });

  it('reads the store in keyset batches as the consumer pulls, never all at once', async () => {
    const calls: EventFilter[] = [];
    const fake = {
      async list(filter: EventFilter): Promise<LifecycleEvent[]> {
        calls.push(filter);
        const start = filter.afterId ?? 0;
        const n = Math.min(filter.limit ?? 100, Math.max(0, 5000 - start));
        return Array.from({ length: n }, (_, i) => ({ id: start + i + 1, at: 0, type: 'login.failed' }));
      },
    };
    const lines = exportLines(fake, {}, 'ndjson');
    await lines.next();
    assert.equal(calls.length, 1, 'one batch read for the first chunk');
    let chunks = 1;
    for await (const _ of lines) chunks++;
    assert.equal(chunks, 5);
    assert.deepEqual(
      calls.map((c) => c.afterId),
      [0, 1000, 2000, 3000, 4000, 5000],
    );
    assert.ok(calls.every((c) => (c.limit ?? 0) <= 1000));
  });

  it('GET /admin/api/events newest first: pages below `next`, the same events as oldest first', async () => {
    const page = async (q: string) => {
      const res = await get(`/admin/api/events?client=mobile&limit=500${q}`);
      assert.equal(res.statusCode, 200, res.body);
      return JSON.parse(res.body) as { items: { id: number }[]; next: number | null };
    };
    const asc: number[] = [];
    for (let next: number | null = 0; next !== null; ) {
      const p = await page(`&after=${next}`);
      asc.push(...p.items.map((e) => e.id));
      next = p.next;
    }
    const desc: number[] = [];
    for (let next: number | null | undefined; next !== null; ) {
      const p = await page(`&order=desc${next === undefined ? '' : `&before=${next}`}`);
      desc.push(...p.items.map((e) => e.id));
      next = p.next;
    }
    assert.equal(asc.length, 1250);
    assert.deepEqual(desc, [...asc].reverse());
    const bad = await get('/admin/api/events?order=sideways');
    assert.equal(bad.statusCode, 400);
    assert.equal(JSON.parse(bad.body).error, 'invalid_request');
  });

  it('csvCell: plain, quoted, formula-looking', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('+1'), "'+1");
    assert.equal(csvCell(-1), '-1');
    assert.equal(csvCell(null), '');
  });
});

const ev = (id: number): LifecycleEvent => ({ id, at: 0, type: 'login.failed' });

describe('EventTail: one reader for every subscriber, across commit-order holes', () => {
  it('hands out events past a missing id at once, waits for the hole, then moves past it', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    let stored: LifecycleEvent[] = [ev(1)];
    let queries = 0;
    const tail = new EventTail({
      events: {
        async list(f) {
          queries++;
          return stored.filter((e) => e.id > (f.afterId ?? 0)).slice(0, f.limit ?? 100);
        },
        async lastEventId() {
          return Math.max(0, ...stored.map((e) => e.id));
        },
      },
      clock,
      setTimer: timers.setTimer,
      pollMs: 1000,
      gapWaitMs: 5000,
    });
    const got: number[][] = [[], []];
    const subs = [
      await tail.subscribe((es) => got[0]!.push(...es.map((e) => e.id))),
      await tail.subscribe((es) => got[1]!.push(...es.map((e) => e.id))),
    ];
    assert.equal(subs[0]!.from, 1);
    // Id 2 is still committing; 3 is visible.
    stored = [...stored, ev(3)];
    queries = 0;
    await timers.advance(1000);
    assert.equal(queries, 1, 'one query for both subscribers');
    assert.deepEqual(got, [[3], [3]]);
    stored = [...stored, ev(2)].sort((x, y) => x.id - y.id);
    await timers.advance(1000);
    assert.deepEqual(got[0], [3, 2], 'the late commit is handed out too, once');
    // A hole that never fills (a rolled-back insert) is waited for, then passed.
    stored = [...stored, ev(5)];
    await timers.advance(7000);
    stored = [...stored, ev(6)];
    await timers.advance(1000);
    assert.deepEqual(got[1], [3, 2, 5, 6]);
    for (const s of subs) s.stop();
    assert.equal(timers.pending, 0, 'no timer left once nobody listens');
  });
});
