import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSqliteStores, type SqliteStores } from '../../src/index.js';

// The dashboard's lists page on the server; each must be served by an index in its order, so a
// page reads only its rows with 100,000 sessions as with ten (no full scan, no sort).
describe('the dashboard lists use their indexes (EXPLAIN QUERY PLAN)', () => {
  let stores: SqliteStores;
  before(async () => {
    stores = await openSqliteStores({ path: ':memory:' });
  });
  after(() => stores.close());

  const plan = (sql: string, ...args: unknown[]) =>
    (stores.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
  const page = (where: string) =>
    `SELECT id FROM families ${where} ORDER BY created_at DESC, id DESC LIMIT 51`;

  for (const [name, where, index, args] of [
    ['all sessions', 'WHERE (created_at, id) < (?, ?)', 'families_created', [1, 'x']],
    ['by user', 'WHERE user_id = ? AND (created_at, id) < (?, ?)', 'families_user_created', ['u', 1, 'x']],
    ['by client', 'WHERE client_id = ?', 'families_client_created', ['web']],
    [
      'by status',
      'WHERE status = ? AND (created_at, id) < (?, ?)',
      'families_status_created',
      ['active', 1, 'x'],
    ],
  ] as const) {
    it(`${name}: ${index}, no sort`, () => {
      const p = plan(page(where), ...args);
      assert.match(p, new RegExp(`USING (COVERING )?INDEX ${index}\\b`), p);
      assert.doesNotMatch(p, /TEMP B-TREE/, p);
    });
  }

  it('events by type, in id order: the batch-built event_index_type, no sort', async () => {
    // The statement the event store runs for a type filter, as it prepares it.
    const texts: string[] = [];
    const prepare = stores.db.prepare.bind(stores.db);
    stores.db.prepare = ((sql: string) => {
      texts.push(sql);
      return prepare(sql);
    }) as typeof stores.db.prepare;
    try {
      await stores.events.list({ type: 'token.refreshed', afterId: 0, limit: 100 });
    } finally {
      stores.db.prepare = prepare;
    }
    const sql = texts.find((t) => t.includes('event_index_type'));
    assert.ok(sql, texts.join('\n'));
    const p = plan(sql, 'token.refreshed', 0, 100);
    assert.match(p, /SEARCH event_index_type USING PRIMARY KEY \(type=\? AND id>\?\)/, p);
    assert.doesNotMatch(p, /TEMP B-TREE/, p);
  });
});
