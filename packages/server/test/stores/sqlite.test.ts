import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { describeReplayStoreConformance, describeStoreConformance } from '@tessera/server/testing';
import Database from 'better-sqlite3';
import {
  type FamilyRecord,
  openSqliteStores,
  type RefreshTokenRecord,
  StoreUnavailableError,
} from '../../src/index.js';
import { startCheckpointer } from '../../src/stores/sqlite/checkpointer.js';
import { MIGRATIONS } from '../../src/stores/sqlite/migrations.js';

describeStoreConformance('sqlite (file)', async () =>
  openSqliteStores({ path: join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db') }),
);
describeStoreConformance('sqlite (memory)', async () => openSqliteStores({ path: ':memory:' }));
describeReplayStoreConformance('sqlite (memory, the replay port alone)', async () => {
  const stores = openSqliteStores({ path: ':memory:' });
  return { store: stores.replay, close: () => stores.close() };
});

describe('sqlite specifics', () => {
  it('uses WAL, and refuses a database newer than this code', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
    const stores = openSqliteStores({ path });
    assert.equal(stores.db.pragma('journal_mode', { simple: true }), 'wal');
    stores.db.pragma('user_version = 99');
    stores.db.close();
    assert.throws(() => openSqliteStores({ path }), /newer than this Tessera/);
  });

  it('reports an unusable database as StoreUnavailableError (fail closed), and a bug as itself', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const { family, token } = newSession('f1', 'h1', 0, 1);
    await stores.sessions.createFamily(family, token);
    const duplicate = await stores.sessions.createFamily(family, token).catch((err: unknown) => err);
    assert.ok(
      duplicate instanceof Error && !(duplicate instanceof StoreUnavailableError),
      'a constraint bug stays a bug',
    );
    stores.db.close();
    await assert.rejects(stores.sessions.findToken('f1', 'h1'), StoreUnavailableError);
    await assert.rejects(stores.replay.insertIfAbsent('k', 2, 1), StoreUnavailableError);
    await assert.rejects(stores.ping(), StoreUnavailableError);
  });

  it('every port fails closed once the database is gone', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    stores.db.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['sessions', () => stores.sessions.findFamily('f')],
      ['accessTokens', () => stores.accessTokens.findAccessToken('h', 1)],
      ['revocationFeed', () => stores.revocationFeed.listRevocations(0, 1)],
      ['cleanup', () => stores.cleanup.sweep({ now: 1, graceHorizon: 0 })],
      ['directory', () => stores.directory.listClients()],
      ['keys', () => stores.keys.listKeys('jwt')],
      ['events', () => stores.events.list({})],
      ['replay', () => stores.replay.insertIfAbsent('k', 2, 1)],
    ];
    for (const [port, call] of calls) await assert.rejects(call(), StoreUnavailableError, port);
  });

  it('prepares every statement once: a query whose filters repeat is not prepared again', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const prepared: string[] = [];
    const prepare = stores.db.prepare.bind(stores.db);
    stores.db.prepare = ((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof stores.db.prepare;
    try {
      const { family, token } = newSession('f1', 'h1', 0, 9e12);
      const end = { reason: 'admin_revoked' as const, now: 1, noticeUntil: 2 };
      for (let i = 0; i < 2; i++) {
        await stores.sessions.createFamily({ ...family, id: `f${i}` }, { ...token, familyId: `f${i}` });
        await stores.sessions.rotate({ ...firstRotation({ ...token, familyId: `f${i}` }, 1) });
        await stores.sessions.findToken(`f${i}`, token.hash);
        await stores.sessions.listFamilies({});
        await stores.sessions.listFamilies({ userId: 'u', status: 'active' });
        await stores.sessions.revokeFamilies({ clientId: 'web' }, end);
        await stores.sessions.revokeFamily(`f${i}`, end);
        await stores.accessTokens.saveAccessToken(`a${i}`, '{}', 9e12);
        await stores.accessTokens.revokeJti(`j${i}`, 9e12);
        await stores.revocationFeed.listRevocations(0, 1);
        await stores.cleanup.sweep({ now: 1, graceHorizon: 0 });
        await stores.events.list({ familyId: 'f0', afterId: 0 });
        await stores.events.list({});
        await stores.keys.initKeys(`ring${i}`, []);
        await stores.keys.rotateKeys({
          ring: 'jwt',
          newNext: {
            kid: `k${i}`,
            alg: 'ES256',
            state: 'next',
            publicJwk: {},
            privateJwkSealed: new Uint8Array(1),
            createdAt: 1,
            activatedAt: null,
            retiredAt: null,
          },
          now: 1,
          expectedCurrentKid: 'none',
          dropRetiredBefore: 0,
        });
        await stores.replay.insertIfAbsent(`n${i}`, 2, 1);
        await stores.ping();
      }
      const twice = prepared.filter((sql, i) => prepared.indexOf(sql) !== i);
      assert.deepEqual(twice, [], 'statements prepared again on a later call');
      assert.ok(
        prepared.length > 0,
        'the queries whose WHERE clause depends on their filters are prepared on first use',
      );
    } finally {
      await stores.close();
    }
  });

  it("migrations 3 to 6 from version 2: each family's newest sealed answer in its row, event ids kept, tokens found in their family", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
    // A database as version 2 left it: the answers sealed in the rotated tokens' rows.
    const old = new Database(path);
    for (const m of MIGRATIONS.slice(0, 2)) old.exec(m);
    old.pragma('user_version = 2');
    old.exec(`INSERT INTO families (id, client_id, user_id, scope, status, created_at, expires_at, generation)
      VALUES ('f1', 'web', 'u', '', 'active', 0, 9e12, 2), ('f2', 'web', 'u', '', 'active', 0, 9e12, 0)`);
    const insert = old.prepare(`INSERT INTO refresh_tokens (hash, family_id, generation, parent_hash, status,
      issued_at, expires_at, rotated_at, grace_response) VALUES (?, ?, ?, ?, ?, 0, 9e12, ?, ?)`);
    insert.run('h0', 'f1', 0, null, 'rotated', 10, Buffer.from('old box'));
    insert.run('h1', 'f1', 1, 'h0', 'rotated', 20, Buffer.from('newest box'));
    insert.run('h2', 'f1', 2, 'h1', 'active', null, null);
    insert.run('g0', 'f2', 0, null, 'active', null, null);
    old.exec(
      `INSERT INTO events (at, type, family_id) VALUES (1, 'session.created', 'f1'), (2, 'token.refreshed', 'f1')`,
    );
    old.close();

    const stores = openSqliteStores({ path });
    assert.equal(stores.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    const lineage = await stores.sessions.listTokens('f1');
    assert.deepEqual(
      lineage.map((t) => [t.hash, t.graceResponse && Buffer.from(t.graceResponse).toString()]),
      [
        ['h0', null],
        ['h1', 'newest box'],
        ['h2', null],
      ],
    );
    assert.equal(
      Buffer.from((await stores.sessions.findToken('f1', 'h1'))!.token.graceResponse!).toString(),
      'newest box',
    );
    assert.equal((await stores.sessions.findToken('f2', 'g0'))!.token.graceResponse, null);
    const events = await stores.events.list({ familyId: 'f1' });
    assert.deepEqual(
      events.map((e) => [e.id, e.type]),
      [
        [1, 'session.created'],
        [2, 'token.refreshed'],
      ],
    );
    await stores.events.append([{ at: 3, type: 'token.refreshed', familyId: 'f1' }]);
    assert.equal((await stores.events.list({ afterId: 2 }))[0]?.id, 3, 'new ids follow the old ones');
    assert.equal((await stores.sessions.findToken('f1', 'h2'))?.token.generation, 2);
    const h2 = (await stores.sessions.findToken('f1', 'h2'))!.token;
    const rotated = await stores.sessions.rotate({
      parentHash: 'h2',
      parentGeneration: 2,
      child: { ...h2, hash: 'h3', generation: 3, parentHash: 'h2' },
      graceResponse: Buffer.from('box 3'),
      now: 30,
    });
    assert.deepEqual(rotated, { outcome: 'rotated' });
    assert.deepEqual(
      (await stores.sessions.listTokens('f1')).map((t) => [t.hash, t.status, t.rotatedAt]),
      [
        ['h0', 'rotated', 10],
        ['h1', 'rotated', 20],
        ['h2', 'rotated', 30],
        ['h3', 'active', null],
      ],
    );
    assert.equal(await stores.sessions.findToken('f2', 'h3'), null, 'not under another family');
    assert.equal((await stores.sessions.findToken('f1', 'h0'))?.token.generation, 0, 'an old ancestor');
    await stores.close();
  });

  it('migration 8 from version 7: current tokens in their family rows, the lineage as a chain, events indexed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
    const old = new Database(path);
    for (const m of MIGRATIONS.slice(0, 7)) old.exec(m);
    old.pragma('user_version = 7');
    // f1: rotated twice, its newest answer in its row; f2: revoked; f3: its current token pruned.
    old.exec(`INSERT INTO families (id, client_id, user_id, scope, status, created_at, expires_at, generation,
      last_refresh_at, ended_at, end_reason, grace_parent_hash, grace_box, dpop_jkt) VALUES
      ('f1', 'web', 'u1', 'openid', 'active', 0, 9e12, 2, 20, NULL, NULL, 'h1', X'626f78', 'jkt-1'),
      ('f2', 'web', 'u2', '', 'revoked', 0, 9e12, 1, 15, 16, 'logout', NULL, NULL, NULL),
      ('f3', 'web', 'u1', '', 'expired', 0, 9e12, 0, NULL, 50, 'idle_expired', NULL, NULL, NULL)`);
    const insert = old.prepare(`INSERT INTO refresh_tokens (family_id, generation, hash, parent_hash, status,
      issued_at, expires_at, rotated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    insert.run('f1', 0, 'h0', null, 'rotated', 0, 1000, 10);
    insert.run('f1', 1, 'h1', 'h0', 'rotated', 10, 1010, 20);
    insert.run('f1', 2, 'h2', 'h1', 'active', 20, 1020, null);
    insert.run('f2', 0, 'k0', null, 'revoked', 0, 1000, 15);
    insert.run('f2', 1, 'k1', 'k0', 'revoked', 15, 1015, null);
    old.exec(`INSERT INTO events (at, type, family_id, user_id) VALUES (1, 'session.created', 'f1', 'u1'),
      (2, 'session.created', 'f2', 'u2'), (3, 'token.refreshed', 'f1', 'u1'), (4, 'session.ended', 'f2', 'u2')`);
    old.close();

    const stores = openSqliteStores({ path });
    try {
      assert.equal(stores.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      const tables = stores.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
      assert.ok(!tables.includes('refresh_tokens'), 'the token table is gone');
      const f1 = await stores.sessions.listTokens('f1');
      assert.deepEqual(
        f1.map((t) => [t.hash, t.generation, t.parentHash, t.status, t.issuedAt, t.expiresAt, t.rotatedAt]),
        [
          ['h0', 0, null, 'rotated', 0, 1000, 10],
          ['h1', 1, 'h0', 'rotated', 10, 1010, 20],
          ['h2', 2, 'h1', 'active', 20, 1020, null],
        ],
      );
      assert.equal(Buffer.from(f1[1]!.graceResponse!).toString(), 'box');
      const current = await stores.sessions.findToken('f1', 'h2');
      assert.equal(current?.family.dpopJkt, 'jkt-1', 'the DPoP binding stays');
      assert.deepEqual(current?.token, {
        hash: 'h2',
        familyId: 'f1',
        generation: 2,
        parentHash: 'h1',
        status: 'active',
        issuedAt: 20,
        expiresAt: 1020,
        rotatedAt: null,
        graceResponse: null,
      });
      assert.equal(
        Buffer.from((await stores.sessions.findToken('f1', 'h1'))!.token.graceResponse!).toString(),
        'box',
      );
      assert.deepEqual(
        (await stores.sessions.listTokens('f2')).map((t) => [t.hash, t.status]),
        [
          ['k0', 'revoked'],
          ['k1', 'revoked'],
        ],
      );
      assert.equal(await stores.sessions.findToken('f3', 'anything'), null);
      assert.equal((await stores.sessions.findFamily('f3'))?.status, 'expired', 'the tombstone stays');
      // A rotation after the migration continues the chain.
      const r = await stores.sessions.rotate({
        parentHash: 'h2',
        parentGeneration: 2,
        child: {
          ...current!.token,
          hash: 'h3',
          generation: 3,
          parentHash: 'h2',
          issuedAt: 30,
          expiresAt: 1030,
        },
        graceResponse: Buffer.from('box 3'),
        now: 30,
      });
      assert.deepEqual(r, { outcome: 'rotated' });
      assert.deepEqual(
        (await stores.sessions.listTokens('f1')).map((t) => [t.hash, t.status, t.rotatedAt]),
        [
          ['h0', 'rotated', 10],
          ['h1', 'rotated', 20],
          ['h2', 'rotated', 30],
          ['h3', 'active', null],
        ],
      );
      // The events, by family and by user, from the indexes the migration built.
      assert.deepEqual(
        (await stores.events.list({ familyId: 'f1' })).map((e) => e.id),
        [1, 3],
      );
      assert.deepEqual(
        (await stores.events.list({ userId: 'u2' })).map((e) => e.id),
        [2, 4],
      );
      assert.equal(stores.db.prepare('SELECT id FROM event_index_mark').pluck().get(), 4);
    } finally {
      await stores.close();
    }
  });

  it('lineage and lifecycle-record reads use keys only: no scan of a family, token or event table', async () => {
    // Every statement the stores prepare, as they prepare them.
    const texts: string[] = [];
    const prepare = Database.prototype.prepare;
    Database.prototype.prepare = function (this: Database.Database, sql: string) {
      texts.push(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    let stores: ReturnType<typeof openSqliteStores>;
    try {
      stores = openSqliteStores({ path: ':memory:' });
      // The queries prepared on first use: by family, by user, with and without more filters.
      await stores.events.list({ familyId: 'f' });
      await stores.events.list({ familyId: 'f', type: 'token.refreshed', afterId: 3 });
      await stores.events.list({ userId: 'u' });
      await stores.events.list({ userId: 'u', clientId: 'web' });
      await stores.events.list({ clientId: 'web', type: 'token.refreshed' });
      await stores.events.list({ type: 'token.refreshed', afterId: 3 });
      // Newest first, the first page and the next (below an id).
      for (const key of [
        { familyId: 'f' },
        { userId: 'u' },
        { clientId: 'web' },
        { type: 'token.issued' },
        {},
      ]) {
        await stores.events.list({ ...key, order: 'desc' });
        await stores.events.list({ ...key, order: 'desc', beforeId: 9 });
      }
    } finally {
      Database.prototype.prepare = prepare;
    }
    try {
      const reads = [...new Set(texts)].filter(
        (sql) => /^\s*(WITH|SELECT)/.test(sql) && /lineage|event_index|FROM events|chain_/.test(sql),
      );
      const heads = reads.filter((sql) =>
        /FROM families\s+WHERE (id = \?|user_id = \? AND status = 'active') AND chain_head/.test(sql),
      );
      assert.equal(heads.length, 2, 'the chain heads of a family and of a user');
      const byFamily = reads.filter((sql) => /chain|event_index_family/.test(sql));
      assert.ok(byFamily.length >= 4, `lineage and per-family event reads: ${byFamily.length}`);
      for (const sql of reads) {
        const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
        const args = named.length
          ? [Object.fromEntries(named.map((n) => [n, 'x']))]
          : Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 'x');
        const plan = (
          stores.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]
        ).map((r) => r.detail);
        // Retention reads the oldest `limit` events by design (the first rows of the table).
        const bounded = sql.includes('ORDER BY id LIMIT @limit');
        const scans = plan.filter(
          (d) => /^SCAN (?!c$)/.test(d) && !(bounded && /^SCAN (events|\(subquery-\d\))$/.test(d)),
        );
        // Listing every event (no family, no user) is the one read that may walk the table.
        if (!/event_index|chain|lineage/.test(sql)) continue;
        assert.deepEqual(scans, [], `${sql.replace(/\s+/g, ' ')}\n  ${plan.join('\n  ')}`);
        if (sql.includes('event_index_family'))
          assert.match(
            plan.join(' | '),
            /SEARCH event_index_family USING PRIMARY KEY \(family_id=\? AND id>\?( AND id<\?)?\)/,
          );
        if (sql.includes('event_index_user'))
          assert.match(
            plan.join(' | '),
            /SEARCH event_index_user USING PRIMARY KEY \(user_id=\? AND id>\?( AND id<\?)?\)/,
          );
        for (const [table, column] of [
          ['event_index_client', 'client_id'],
          ['event_index_type', 'type'],
        ] as const)
          if (sql.includes(table))
            assert.match(
              plan.join(' | '),
              new RegExp(`SEARCH ${table} USING PRIMARY KEY \\(${column}=\\? AND id>\\?( AND id<\\?)?\\)`),
            );
        // The indexed events by their ids; those past the mark by the end of the table.
        if (/event_index_(family|user|client|type)/.test(sql))
          assert.match(plan.join(' | '), /SEARCH events USING INTEGER PRIMARY KEY \(rowid=\?\)/);
        if (sql.includes('events.id > MAX('))
          assert.match(
            plan.join(' | '),
            /SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?( AND rowid<\?)?\)/,
          );
        if (sql.includes('WITH RECURSIVE chain'))
          assert.match(plan.join(' | '), /SEARCH l USING INTEGER PRIMARY KEY \(rowid=\?\)/);
        // The events' chains: their heads in the family rows, by id, through the user's index, or
        // (cleanup) by expiry.
        if (/FROM families\s+WHERE .*chain_head > chain_indexed/.test(sql))
          assert.match(
            plan.join(' | '),
            /SEARCH families USING INDEX (sqlite_autoindex_families_1 \(id=\?\)|families_user \(user_id=\? AND status=\?\)|families_expiry \(expires_at<\?\))/,
          );
      }
    } finally {
      await stores.close();
    }
  });

  it('migration 9 from version 8: the events before it are found as before, a rotation after it chains its own', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
    const v8 = MIGRATIONS.length - 1;
    const old = new Database(path);
    for (const m of MIGRATIONS.slice(0, v8)) old.exec(m);
    old.pragma(`user_version = ${v8}`);
    old.exec(`INSERT INTO lineage (seq, family_id, generation, hash, parent_hash, issued_at, expires_at)
      VALUES (1, 'f1', 0, 'h0', NULL, 0, 9e12)`);
    old.exec(`INSERT INTO families (id, client_id, user_id, scope, status, created_at, expires_at, generation,
      token_hash, token_issued_at, token_expires_at, lineage_head, grace_box) VALUES
      ('f1', 'web', 'u1', '', 'active', 0, 9e12, 0, 'h0', 0, 9e12, 1, zeroblob(16))`);
    // Two events indexed before the migration, two past the index's mark.
    old.exec(`INSERT INTO events (at, type, family_id, user_id, client_id) VALUES
      (1, 'token.issued', 'f1', 'u1', 'web'), (2, 'token.refreshed', 'f1', 'u1', 'web'),
      (3, 'token.refreshed', 'f1', 'u1', 'web'), (4, 'token.issued', 'f2', 'u1', 'web')`);
    old.exec(`INSERT INTO event_index_family SELECT family_id, id FROM events WHERE id <= 2;
      INSERT INTO event_index_user SELECT user_id, id FROM events WHERE id <= 2;
      INSERT INTO event_index_client SELECT client_id, id FROM events WHERE id <= 2;
      INSERT INTO event_index_type SELECT type, id FROM events WHERE id <= 2;
      UPDATE event_index_mark SET id = 2`);
    old.close();

    const stores = openSqliteStores({ path, eventIndexIntervalMs: 0, eventChainFlush: 2 });
    try {
      assert.equal(stores.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      const byFamily = async () => (await stores.events.list({ familyId: 'f1' })).map((e) => e.id);
      const byUser = async () => (await stores.events.list({ userId: 'u1', order: 'desc' })).map((e) => e.id);
      assert.deepEqual(await byFamily(), [1, 2, 3]);
      assert.deepEqual(await byUser(), [4, 3, 2, 1]);
      const rotated = await stores.sessions.rotate({
        parentHash: 'h0',
        parentGeneration: 0,
        child: { ...newSession('f1', 'h1', 10, 9e12).token, generation: 1, parentHash: 'h0' },
        graceResponse: Buffer.from('box'),
        now: 10,
        events: [{ at: 10, type: 'token.refreshed', familyId: 'f1', userId: 'u1', clientId: 'web' }],
      });
      assert.deepEqual(rotated, { outcome: 'rotated' });
      const chain = () =>
        stores.db
          .prepare('SELECT chain_head, chain_indexed, chain_pending FROM families WHERE id = ?')
          .get('f1');
      assert.equal(stores.db.prepare('SELECT family_prev FROM events WHERE id = 5').pluck().get(), 0);
      assert.deepEqual(chain(), { chain_head: 5, chain_indexed: 0, chain_pending: 1 });
      for (const settled of [false, true]) {
        if (settled) stores.settle();
        assert.deepEqual(await byFamily(), [1, 2, 3, 5], `settled: ${settled}`);
        assert.deepEqual(await byUser(), [5, 4, 3, 2, 1], `settled: ${settled}`);
      }
      // The old events went into the index one by one; the chained one waits for its family's flush.
      const indexed = (table: string) =>
        stores.db.prepare(`SELECT id FROM ${table} ORDER BY id`).pluck().all() as number[];
      assert.deepEqual(indexed('event_index_family'), [1, 2, 3, 4]);
      assert.deepEqual(indexed('event_index_user'), [1, 2, 3, 4]);
      assert.deepEqual(indexed('event_index_type'), [1, 2, 3, 4, 5]);
    } finally {
      await stores.close();
    }
  });

  it('migration 9 indexes again the events whose ids came back below the mark after retention had deleted them all', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
    const old = new Database(path);
    for (const m of MIGRATIONS.slice(0, MIGRATIONS.length - 1)) old.exec(m);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    // Ids 1 and 2 came back after retention deleted every event (the mark was 4): never indexed.
    old.exec(`INSERT INTO events (id, at, type, family_id, user_id, client_id) VALUES
      (1, 1, 'token.issued', 'f1', 'u1', 'web'), (2, 2, 'token.refreshed', 'f1', 'u1', 'web'),
      (3, 3, 'token.refreshed', 'f1', 'u1', 'web'), (4, 4, 'session.ended', 'f1', 'u1', 'web')`);
    old.exec(`INSERT INTO event_index_family SELECT family_id, id FROM events WHERE id > 2;
      INSERT INTO event_index_user SELECT user_id, id FROM events WHERE id > 2;
      INSERT INTO event_index_client SELECT client_id, id FROM events WHERE id > 2;
      INSERT INTO event_index_type SELECT type, id FROM events WHERE id > 2;
      UPDATE event_index_mark SET id = 4`);
    old.close();
    const stores = openSqliteStores({ path, eventIndexIntervalMs: 0 });
    try {
      assert.equal(stores.db.prepare('SELECT id FROM event_index_mark').pluck().get(), 0);
      for (const settled of [false, true]) {
        if (settled) assert.equal(stores.settle(), 4);
        for (const key of [{ familyId: 'f1' }, { userId: 'u1' }, { clientId: 'web' }, {}]) {
          assert.deepEqual(
            (await stores.events.list(key)).map((e) => e.id),
            [1, 2, 3, 4],
            `${JSON.stringify(key)}, settled: ${settled}`,
          );
          assert.deepEqual(
            (await stores.events.list({ ...key, order: 'desc', limit: 3 })).map((e) => e.id),
            [4, 3, 2],
          );
        }
        assert.deepEqual(
          (await stores.events.list({ type: 'token.refreshed' })).map((e) => e.id),
          [2, 3],
        );
      }
    } finally {
      await stores.close();
    }
  });

  it('a lineage of 2,000 rotations and its events read back complete and in order, before and after indexing', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    try {
      const { family, token } = newSession('f1', 'h0', 0, 9e12);
      await stores.sessions.createFamily({ ...family, userId: 'u1' }, token);
      const other = newSession('f2', 'x0', 0, 9e12);
      await stores.sessions.createFamily(other.family, other.token);
      let parent = token;
      for (let g = 1; g <= 2000; g++) {
        const child = { ...parent, hash: `h${g}`, generation: g, parentHash: parent.hash, issuedAt: g };
        const r = await stores.sessions.rotate({
          parentHash: parent.hash,
          parentGeneration: g - 1,
          child,
          graceResponse: Buffer.from(`box ${g}`),
          now: g,
          events: [{ at: g, type: 'token.refreshed', familyId: 'f1', userId: 'u1', data: { generation: g } }],
        });
        assert.equal(r.outcome, 'rotated');
        if (g % 500 === 0)
          await stores.events.append([{ at: g, type: 'token.issued', familyId: 'f2', userId: 'u2' }]);
        if (g === 1000) stores.settle();
        parent = child;
      }
      const check = async () => {
        const lineage = await stores.sessions.listTokens('f1');
        assert.equal(lineage.length, 2001);
        assert.ok(lineage.every((t, g) => t.generation === g && t.hash === `h${g}`));
        assert.ok(lineage.slice(0, -1).every((t, g) => t.status === 'rotated' && t.rotatedAt === g + 1));
        assert.equal(lineage.at(-1)?.status, 'active');
        assert.equal(Buffer.from(lineage.at(-2)!.graceResponse!).toString(), 'box 2000');
        const events = await stores.events.list({ familyId: 'f1', limit: 10_000 });
        assert.deepEqual(
          events.map((e) => e.data?.generation),
          Array.from({ length: 2000 }, (_, i) => i + 1),
        );
        const page = await stores.events.list({ userId: 'u1', afterId: events[1499]!.id, limit: 10 });
        assert.deepEqual(
          page.map((e) => e.data?.generation),
          Array.from({ length: 10 }, (_, i) => 1501 + i),
        );
        assert.equal((await stores.events.list({ userId: 'u2' })).length, 4);
        assert.equal((await stores.sessions.findToken('f1', 'h7'))?.token.generation, 7, 'an old ancestor');
      };
      // Half of it indexed (settled at generation 1,000), half past the mark; then all of it.
      await check();
      assert.ok(stores.settle() > 0);
      await check();
    } finally {
      await stores.close();
    }
  });

  it('opaque access tokens issued in one turn share one commit; each is answered after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    // No checkpointer: the WAL's frames are then exactly what the commits wrote.
    const stores = openSqliteStores({ path: join(dir, 't.db'), checkpointIntervalMs: 0 });
    try {
      stores.db.pragma('wal_checkpoint(TRUNCATE)');
      const frames = () => (stores.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
      const hashes = Array.from({ length: 50 }, () => randomBytes(32).toString('base64url'));
      let answered = 0;
      const saves = hashes.map((h) =>
        stores.accessTokens.saveAccessToken(h, '{"sub":"u"}', Date.now() + 60_000).then(() => answered++),
      );
      assert.equal(answered, 0, 'nobody is answered before the commit');
      await Promise.all(saves);
      // One commit writes each touched page once; 50 commits of their own wrote about 100 frames.
      assert.ok(frames() <= 10, `${frames()} WAL frames for 50 tokens`);
      for (const h of hashes)
        assert.equal(await stores.accessTokens.findAccessToken(h, Date.now()), '{"sub":"u"}');
      // A failing insert (the same hash twice) fails alone; the rest of its batch commits.
      const again = randomBytes(32).toString('base64url');
      const results = await Promise.allSettled([
        stores.accessTokens.saveAccessToken(hashes[0]!, '{}', Date.now() + 60_000),
        stores.accessTokens.saveAccessToken(again, '{"sub":"v"}', Date.now() + 60_000),
      ]);
      assert.equal(results[0]!.status, 'rejected');
      assert.equal(results[1]!.status, 'fulfilled');
      assert.equal(await stores.accessTokens.findAccessToken(again, Date.now()), '{"sub":"v"}');
    } finally {
      await stores.close();
    }
  });

  it('a group commit writes the WAL and nothing else: savepoints never spill to a temporary file', {
    skip: process.platform !== 'linux' && 'counts write syscalls in /proc/self/io',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    const stores = openSqliteStores({ path: join(dir, 't.db'), checkpointIntervalMs: 0 });
    try {
      stores.db.pragma('wal_autocheckpoint = 0');
      const sessions = Array.from({ length: 1000 }, () =>
        newSession(randomBytes(16).toString('base64url'), randomBytes(32).toString('base64url'), 0, 9e12),
      );
      for (const { family, token } of sessions) await stores.sessions.createFamily(family, token);
      stores.db.pragma('wal_checkpoint(TRUNCATE)');
      const frames = () => (stores.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
      const writes = () => Number(/syscw: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
      const before = writes();
      // 64 rotations in one turn: one transaction, each rotation in its own savepoint. Families
      // far apart, so each rotation writes a page of its own.
      const results = await Promise.all(
        sessions
          .filter((_, i) => i % 15 === 0)
          .map(({ token }) =>
            stores.sessions.rotate({
              ...firstRotation(token, 1),
              events: [{ at: 1, type: 'token.refreshed', familyId: token.familyId, userId: 'u', data: {} }],
            }),
          ),
      );
      const written = writes() - before;
      assert.ok(results.every((r) => r.outcome === 'rotated'));
      // SQLite writes a WAL frame as two writes (header, page). The savepoints' journal held
      // ~1 MiB here: spilled to a temporary file it cost hundreds of writes more.
      // Well past the 64 KiB at which SQLite moves a statement journal to a file.
      assert.ok(frames() >= 40, `${frames()} frames: the batch really wrote its pages`);
      assert.ok(written <= 2 * frames() + 16, `${written} write syscalls for ${frames()} WAL frames`);
    } finally {
      await stores.close();
    }
  });

  it('restarts the WAL under steady writes instead of letting it grow without end', async () => {
    const { restarts, rotations, biggestWal, holds } = await steadyRotations(0, 200_000);
    assert.ok(restarts >= 3, `the WAL restarted ${restarts} times in ${rotations} rotations`);
    assert.ok(holds >= 1, 'the checkpointer held rotations to catch up');
    assert.ok(biggestWal < 256 * 1024 * 1024, `the WAL grew to ${biggestWal} bytes`);
  });

  it('reports a failing checkpoint instead of dropping it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 'garbage.db');
    writeFileSync(path, 'this is not a database '.repeat(200));
    const messages: string[] = [];
    const checkpointer = startCheckpointer(path, { intervalMs: 10, onError: (m) => messages.push(m) });
    const deadline = performance.now() + 5000;
    while (messages.length === 0 && performance.now() < deadline) await setTimeout(10);
    await checkpointer.stop();
    assert.match(messages[0] ?? 'nothing reported', /not a database/);
  });

  it('restarts the WAL at most once per interval (each restart holds rotations for a moment)', async () => {
    // Restarts can also happen by themselves, in a gap between commits; holds are the checkpointer's.
    const { holds, rotations } = await steadyRotations(60_000, 4_000, Number.POSITIVE_INFINITY);
    assert.equal(rotations, 4_000);
    assert.ok(holds <= 1, `${holds} holds within one interval`);
  });
});

/**
 * Rotates without pause (each batch is queued before the last commits) until the WAL has restarted
 * `stopAfterRestarts` times or `maxRotations` were made; answers how often it restarted (and was held for it) and
 * how large it grew.
 */
async function steadyRotations(restartIntervalMs: number, maxRotations: number, stopAfterRestarts = 3) {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db');
  const stores = openSqliteStores({
    path,
    checkpointIntervalMs: 20,
    walRestartFrames: 512,
    walRestartIntervalMs: restartIntervalMs,
  });
  // Counts the checkpointer's holds (the gate is looked up on every hold).
  let holds = 0;
  const gate = stores.writeQueue;
  const pause = gate.pause.bind(gate);
  gate.pause = () => {
    holds++;
    pause();
  };
  // The WAL header's checkpoint sequence number goes up by one each time the WAL restarts.
  const walSequence = () => {
    const fd = openSync(`${path}-wal`, 'r');
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    closeSync(fd);
    return header.readUInt32BE(12);
  };
  const now = Date.now();
  let rotations = 0;
  let restarts = 0;
  let biggestWal = 0;
  const first = walSequence();
  const deadline = performance.now() + 20_000;
  // Rotations never stop: each turn of the loop queues the next batch before the last one commits.
  while (restarts < stopAfterRestarts && rotations < maxRotations && performance.now() < deadline) {
    const batch = Array.from({ length: 8 }, () =>
      newSession(
        randomBytes(16).toString('base64url'),
        randomBytes(32).toString('base64url'),
        now,
        now + 1e9,
      ),
    );
    await Promise.all(
      batch.map(async ({ family, token }) => {
        await stores.sessions.createFamily(family, token);
        const r = await stores.sessions.rotate(firstRotation(token, now));
        assert.equal(r.outcome, 'rotated');
        rotations++;
      }),
    );
    biggestWal = Math.max(biggestWal, statSync(`${path}-wal`).size);
    restarts = walSequence() - first;
  }
  await stores.close();
  return { restarts, rotations, biggestWal, holds };
}

/** A new session's family and first token, as the store keeps them. */
/** A fresh session's first rotation: a new random child of its generation-0 token. */
function firstRotation(token: RefreshTokenRecord, now: number) {
  return {
    parentHash: token.hash,
    parentGeneration: 0,
    child: { ...token, hash: randomBytes(32).toString('base64url'), generation: 1, parentHash: token.hash },
    graceResponse: randomBytes(700),
    now,
  };
}

function newSession(id: string, hash: string, now: number, until: number) {
  const family: FamilyRecord = {
    id,
    clientId: 'web',
    userId: 'u',
    scope: '',
    status: 'active',
    createdAt: now,
    expiresAt: until,
    generation: 0,
    lastRefreshAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNote: null,
    userAgent: null,
    ip: null,
  };
  const token: RefreshTokenRecord = {
    hash,
    familyId: id,
    generation: 0,
    parentHash: null,
    status: 'active',
    issuedAt: now,
    expiresAt: until,
    rotatedAt: null,
    graceResponse: null,
  };
  return { family, token };
}
