import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FamilyRecord, loadConfig, openStores, type RefreshTokenRecord } from '@tessera/server';
import { newFamily, newToken, T0 } from '@tessera/server/testing';
import type pg from 'pg';
import { Database, MAX_PREPARED } from '../src/database.js';
import type { PostgresStores } from '../src/index.js';
import { admin, dropSchema, freshSchema, openTestStores, PG_URL, pgSkip } from './support/pg.js';

const skip = pgSkip();

/** A family with its first token, whose hash is derived from the family's id. */
function family(id: string): { f: FamilyRecord; t: RefreshTokenRecord } {
  const f = newFamily({ id, userAgent: null, ip: null });
  return { f, t: newToken(f, { hash: `${id}-h0` }) };
}

/** Stores in a fresh schema for `fn`, with the warnings they give; closed (and dropped) after. */
async function withStores(
  options: Parameters<typeof openTestStores>[0],
  fn: (stores: PostgresStores, warnings: string[]) => Promise<void>,
): Promise<void> {
  const warnings: string[] = [];
  const stores = await openTestStores({ ...options, onError: (m) => warnings.push(m) });
  try {
    await fn(stores, warnings);
  } finally {
    await stores.close();
  }
}

/** The statements prepared on the pool's one connection (the pool is opened with one). */
async function prepared(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
  return rows.map((r) => r.statement);
}

describe('statement naming', () => {
  const db = new Database({} as pg.Pool, 'tessera');

  it('names a parameterized statement after its text, the same name every time', () => {
    const a = db.statement('SELECT $1::int', [1]);
    const b = db.statement('SELECT $1::int', [2]);
    const c = db.statement('SELECT $1::text', ['x']);
    assert.equal(typeof a, 'object');
    assert.ok(typeof a === 'object' && typeof b === 'object' && typeof c === 'object');
    assert.equal(a.name, b.name);
    assert.notEqual(a.name, c.name);
    assert.deepEqual(b.values, [2]);
  });

  it('sends a statement without parameters as it is (simple protocol, several statements allowed)', () => {
    assert.equal(db.statement('SELECT 1; SELECT 2', []), 'SELECT 1; SELECT 2');
    assert.equal(db.statement('SELECT 1', undefined), 'SELECT 1');
  });

  it(`prepares at most ${MAX_PREPARED} texts; later ones go unnamed, with their values`, () => {
    const many = new Database({} as pg.Pool, 'tessera');
    for (let i = 0; i < MAX_PREPARED; i++) {
      const q = many.statement(`SELECT $1::int + ${i}`, [i]);
      assert.ok(typeof q === 'object' && q.name !== undefined);
    }
    const over = many.statement('SELECT $1::int - 1', [7]);
    assert.deepEqual(over, { text: 'SELECT $1::int - 1', values: [7] });
    // A text named before the bound keeps its name.
    const again = many.statement('SELECT $1::int + 0', [0]);
    assert.ok(typeof again === 'object' && again.name !== undefined);
  });

  it('names a text the same in every process (a digest of it), whatever came first', () => {
    const other = new Database({} as pg.Pool, 'tessera');
    other.statement('SELECT $1::text', ['first here']);
    const here = db.statement('SELECT $1::int', [1]);
    const there = other.statement('SELECT $1::int', [1]);
    assert.ok(typeof here === 'object' && typeof there === 'object');
    assert.equal(here.name, there.name);
  });

  it('names nothing when preparing is off', () => {
    const off = new Database({} as pg.Pool, 'tessera', { prepare: false });
    assert.deepEqual(off.statement('SELECT $1::int', [1]), { text: 'SELECT $1::int', values: [1] });
  });
});

describe('prepared statements on PostgreSQL', { skip }, () => {
  it('prepares the rotation path once per connection, and runs it again without parsing', async () => {
    await withStores({ poolSize: 1 }, async (stores) => {
      const { f, t } = family('fam-prepared');
      await stores.sessions.createFamily(f, t);
      for (let i = 0; i < 3; i++) assert.ok(await stores.sessions.findToken(f.id, t.hash));
      const result = await stores.sessions.rotate({
        parentHash: t.hash,
        parentGeneration: 0,
        child: { ...t, hash: `${f.id}-h1`, generation: 1, parentHash: t.hash },
        graceResponse: new Uint8Array([1, 2, 3]),
        now: T0 + 1,
      });
      assert.equal(result.outcome, 'rotated');
      const texts = await prepared(stores.pool);
      assert.equal(texts.filter((s) => s.includes('JOIN') && s.includes('refresh_tokens')).length, 1);
      assert.equal(texts.filter((s) => s.includes('tessera_rotate')).length, 1);
    });
  });

  it('prepares nothing when turned off, and works the same', async () => {
    await withStores({ poolSize: 1, preparedStatements: false }, async (stores) => {
      const { f, t } = family('fam-unprepared');
      await stores.sessions.createFamily(f, t);
      assert.equal((await stores.sessions.findToken(f.id, t.hash))?.token.hash, t.hash);
      assert.deepEqual(await prepared(stores.pool), []);
    });
  });

  it('stops preparing, says so once, and answers, when a connection loses its statements (a pooler)', async () => {
    await withStores({ poolSize: 1 }, async (stores, warnings) => {
      const { f, t } = family('fam-lost');
      await stores.sessions.createFamily(f, t);
      assert.ok(await stores.sessions.findToken(f.id, t.hash));
      // What a transaction-mode pooler does: the next statement lands on a server connection
      // that never saw the Parse \`pg\` remembers.
      await stores.pool.query('DEALLOCATE ALL');
      assert.equal((await stores.sessions.findToken(f.id, t.hash))?.token.hash, t.hash);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /26000.*no longer prepared.*TESSERA_DATABASE_PREPARED_STATEMENTS=false/);
      // From then on every statement goes unprepared, a transaction's too.
      assert.equal(
        await stores.sessions.revokeFamily(f.id, {
          now: T0 + 5,
          reason: 'logout',
          noticeUntil: T0 + 1000,
        }),
        true,
      );
      assert.equal((await stores.sessions.findFamily(f.id))?.status, 'revoked');
      assert.deepEqual(await prepared(stores.pool), []);
      assert.equal(warnings.length, 1);
    });
  });

  it('answers every statement in flight when several connections lost theirs at once', async () => {
    await withStores({ poolSize: 3 }, async (stores, warnings) => {
      const { f, t } = family('fam-lost-many');
      await stores.sessions.createFamily(f, t);
      const three = () => Promise.all([1, 2, 3].map(() => stores.sessions.findToken(f.id, t.hash)));
      await three();
      await three();
      // Hold all three connections and clear each, so the next three statements fail together.
      const clients = await Promise.all([1, 2, 3].map(() => stores.pool.connect()));
      for (const c of clients) await c.query('DEALLOCATE ALL');
      for (const c of clients) c.release();
      const found = await three();
      assert.deepEqual(
        found.map((x) => x?.token.hash),
        [t.hash, t.hash, t.hash],
      );
      assert.equal(warnings.length, 1);
    });
  });

  it('runs a transaction again, unprepared, when its statements were lost mid-way', async () => {
    await withStores({ poolSize: 1 }, async (stores, warnings) => {
      const a = family('fam-tx-a');
      await stores.sessions.createFamily(a.f, a.t);
      await stores.pool.query('DEALLOCATE ALL');
      // createFamily's inserts were prepared on this connection by the first call; all lost now.
      const b = family('fam-tx-b');
      await stores.sessions.createFamily(b.f, b.t);
      assert.equal((await stores.sessions.listTokens(b.f.id)).length, 1);
      assert.equal(warnings.length, 1);
    });
  });

  it('keeps working when a later migration adds a column under a prepared statement', async () => {
    await withStores({ poolSize: 1 }, async (stores) => {
      const { f, t } = family('fam-migrated');
      await stores.sessions.createFamily(f, t);
      assert.ok(await stores.sessions.findToken(f.id, t.hash));
      assert.equal((await stores.events.list({ familyId: f.id })).length, 0);
      await admin(`ALTER TABLE "${stores.schema}".refresh_tokens ADD COLUMN later text`);
      await admin(`ALTER TABLE "${stores.schema}".families ADD COLUMN later text`);
      await admin(`ALTER TABLE "${stores.schema}".events ADD COLUMN later text`);
      const found = await stores.sessions.findToken(f.id, t.hash);
      assert.equal(found?.token.hash, t.hash);
      assert.equal(found?.family.id, f.id);
      assert.equal((await stores.events.list({ familyId: f.id })).length, 0);
      assert.equal((await stores.sessions.listTokens(f.id)).length, 1);
    });
  });

  it('is what the server configuration says (databasePreparedStatements), and a lost statement is logged as a warning', async () => {
    for (const prepare of [true, false]) {
      const schema = freshSchema();
      const warnings: { obj: unknown; msg: string }[] = [];
      const log = {
        warn: (obj: unknown, msg: string) => warnings.push({ obj, msg }),
      } as unknown as Parameters<typeof openStores>[1];
      const config = loadConfig({
        env: {},
        flags: {
          databaseUrl: PG_URL!,
          databaseSchema: schema,
          databasePoolSize: 1,
          databasePreparedStatements: prepare,
        },
      });
      const { stores } = await openStores(config, log);
      try {
        const { f, t } = family(`fam-config-${prepare}`);
        await stores.sessions.createFamily(f, t);
        assert.ok(await stores.sessions.findToken(f.id, t.hash));
        const pool = (stores as PostgresStores).pool;
        assert.equal((await prepared(pool)).length > 0, prepare);
        await pool.query('DEALLOCATE ALL');
        assert.ok(await stores.sessions.findToken(f.id, t.hash));
        assert.equal(warnings.length, prepare ? 1 : 0);
        if (prepare) {
          assert.equal(warnings[0]!.msg, 'PostgreSQL store');
          const line = JSON.stringify(warnings[0]!.obj);
          assert.match(line, /no longer prepared/);
          assert.ok(!line.includes(PG_URL!), 'the URL is not logged');
        }
      } finally {
        await stores.close();
        await dropSchema(schema);
      }
    }
  });
});
