import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Stores } from '../ports/index.js';
import { newFamily, newToken, T0, uniqueId } from './fixtures.js';

/** `EventStore`: the append-only lifecycle record. */
export function eventStoreCases(get: () => Stores): void {
  it('events: appended in order, filtered, never rewritten', async () => {
    const { events } = get();
    const fam = uniqueId('fam');
    await events.append([
      { at: T0, type: 'token.issued', familyId: fam, userId: 'u', clientId: 'web' },
      {
        at: T0 + 1,
        type: 'token.refreshed',
        familyId: fam,
        userId: 'u',
        clientId: 'web',
        data: { generation: 1 },
      },
      { at: T0 + 2, type: 'session.ended', familyId: fam, reason: 'logout' },
    ]);
    const all = await events.list({ familyId: fam });
    assert.deepEqual(
      all.map((e) => e.type),
      ['token.issued', 'token.refreshed', 'session.ended'],
    );
    assert.deepEqual(all[1]?.data, { generation: 1 });
    assert.ok(all[0]!.id < all[1]!.id);
    assert.deepEqual(
      (await events.list({ familyId: fam, afterId: all[1]!.id })).map((e) => e.reason),
      ['logout'],
    );
  });

  it('events: newest first, paged below an id, the same events as oldest first (no gap, no duplicate)', async () => {
    const stores = get();
    const { events } = stores;
    const fam = uniqueId('fam');
    const user = uniqueId('user');
    const client = uniqueId('client');
    const batch = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => ({
        at: T0 + from + i,
        type: i % 3 === 0 ? ('token.issued' as const) : ('token.refreshed' as const),
        familyId: fam,
        userId: user,
        clientId: client,
        data: { i: from + i },
      }));
    const pageAll = async (filter: Parameters<typeof events.list>[0], order: 'asc' | 'desc') => {
      const ids: number[] = [];
      for (let cursor: number | undefined, n = 0; n < 50; n++) {
        const page = await events.list({
          ...filter,
          order,
          limit: 4,
          ...(cursor === undefined ? {} : order === 'desc' ? { beforeId: cursor } : { afterId: cursor }),
        });
        ids.push(...page.map((e) => e.id));
        if (page.length < 4) break;
        cursor = page.at(-1)?.id;
      }
      return ids;
    };
    const check = async (label: string) => {
      const start = (await events.list({ familyId: fam, limit: 1 }))[0]?.id ?? 0;
      for (const filter of [
        { familyId: fam },
        { userId: user },
        { clientId: client },
        { clientId: client, type: 'token.refreshed' },
        { type: 'token.issued', afterId: start - 1 },
        { afterId: start - 1 },
      ]) {
        const asc = await pageAll(filter, 'asc');
        const desc = await pageAll(filter, 'desc');
        assert.ok(asc.length > 0, `${label}: ${JSON.stringify(filter)} finds events`);
        assert.deepEqual(desc, [...asc].reverse(), `${label}: ${JSON.stringify(filter)}`);
        assert.equal(new Set(desc).size, desc.length, `${label}: no duplicate`);
      }
    };
    await events.append(batch(13, 0));
    await check('as appended');
    // A store that indexes in batches (SQLite) answers from its index and from the events past it.
    (stores as { settle?: () => number }).settle?.();
    await events.append(batch(6, 13));
    await check('indexed and not yet indexed');
    const newest = await events.list({ familyId: fam, order: 'desc', limit: 2 });
    assert.deepEqual(
      newest.map((e) => e.data?.i),
      [18, 17],
    );
  });

  it('events: filtered by client and by time, the newest id, pruned by age in bounded batches', async () => {
    const { events } = get();
    const client = uniqueId('client');
    const before = await events.lastEventId();
    await events.append([
      { at: 1_000, type: 'login.failed', clientId: client },
      { at: 1_001, type: 'login.failed', clientId: client },
      { at: T0 + 10, type: 'token.issued', clientId: client },
      { at: T0 + 20, type: 'token.refreshed', clientId: client },
    ]);
    const mine = await events.list({ clientId: client });
    assert.equal(mine.length, 4);
    const newest = await events.lastEventId();
    assert.ok(newest > before, 'the newest id moves on');
    assert.equal(newest, mine.at(-1)!.id);
    assert.deepEqual(
      (await events.list({ clientId: client, from: T0 + 10, to: T0 + 20 })).map((e) => e.type),
      ['token.issued'],
      'from is inclusive, to exclusive',
    );
    assert.deepEqual(
      (await events.list({ clientId: client, type: 'login.failed', afterId: mine[0]!.id })).map((e) => e.at),
      [1_001],
    );
    // One at a time: each batch looks at the oldest `limit` events only.
    let gone = 0;
    for (let i = 0; i < 10_000 && (await events.list({ clientId: client, to: 2_000 })).length > 0; i++) {
      gone += await events.pruneEvents({ before: 2_000, limit: 100_000 });
    }
    assert.ok(gone >= 2);
    assert.deepEqual(
      (await events.list({ clientId: client })).map((e) => e.type),
      ['token.issued', 'token.refreshed'],
      'newer events stay',
    );
    assert.equal(await events.pruneEvents({ before: 2_000, limit: 100_000 }), 0);
  });
}

/** `CounterStore`: per-minute counters that add up across writers. */
export function counterStoreCases(get: () => Stores): void {
  it('counters: added to (not replaced), read by minute range and name, pruned by minute', async () => {
    const { counters } = get();
    const name = uniqueId('refresh');
    const m0 = T0 - (T0 % 60_000);
    await counters.addCounts([
      { minute: m0, name, label: 'rotated', count: 3 },
      { minute: m0, name, label: 'grace', count: 1 },
      { minute: m0 + 60_000, name, label: 'rotated', count: 2 },
    ]);
    // A second instance flushing the same minute adds to it.
    await counters.addCounts([{ minute: m0, name, label: 'rotated', count: 4 }]);
    const rows = await counters.readCounts({ from: m0, to: m0 + 120_000, names: [name] });
    const at = (minute: number, label: string) =>
      rows.find((r) => r.minute === minute && r.label === label)?.count;
    assert.equal(at(m0, 'rotated'), 7);
    assert.equal(at(m0, 'grace'), 1);
    assert.equal(at(m0 + 60_000, 'rotated'), 2);
    assert.deepEqual(
      (await counters.readCounts({ from: m0 + 60_000, to: m0 + 120_000, names: [name] })).map((r) => r.count),
      [2],
    );
    assert.equal((await counters.readCounts({ from: m0, to: m0 + 120_000, names: ['none'] })).length, 0);
    // Summed per step: both minutes in one step that starts at `from`.
    const stepped = await counters.readCounts({ from: m0, to: m0 + 120_000, names: [name], stepMs: 120_000 });
    assert.deepEqual(stepped.map((r) => [r.minute, r.label, r.count]).sort(), [
      [m0, 'grace', 1],
      [m0, 'rotated', 9],
    ]);
    // A long range reads the coarse rows: the same totals per hour.
    const h0 = m0 - (m0 % 3_600_000);
    const hourly = await counters.readCounts({
      from: h0,
      to: h0 + 7_200_000,
      names: [name],
      stepMs: 3_600_000,
    });
    assert.equal(
      hourly.filter((r) => r.label === 'rotated').reduce((n, r) => n + r.count, 0),
      9,
      'every minute is in its hour',
    );
    assert.ok((await counters.pruneCounts(m0 + 60_000)) >= 2);
    assert.deepEqual(
      (await counters.readCounts({ from: 0, to: m0 + 120_000, names: [name] })).map((r) => r.minute),
      [m0 + 60_000],
    );
  });

  it('sessions: active families are counted, ended and lapsed ones are not', async () => {
    const { sessions } = get();
    const now = T0 + 5_000;
    const base = await sessions.countActiveFamilies(now);
    const live = newFamily({ createdAt: T0 });
    const lapsed = newFamily({ createdAt: T0 - 10_000, expiresAt: T0 + 1_000 });
    const ended = newFamily({ createdAt: T0 });
    for (const f of [live, lapsed, ended]) await sessions.createFamily(f, newToken(f));
    await sessions.revokeFamily(ended.id, { reason: 'logout', now, noticeUntil: now + 60_000 });
    assert.equal(await sessions.countActiveFamilies(now), base + 1);
  });
}
