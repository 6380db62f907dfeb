import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStores, StoreUnavailableError } from '../../src/index.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('sqlite (file)', async () =>
  openSqliteStores({ path: join(mkdtempSync(join(tmpdir(), 'tessera-sqlite-')), 't.db') }),
);
describeStoreConformance('sqlite (memory)', async () => openSqliteStores({ path: ':memory:' }));

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
    const family = {
      id: 'f1',
      clientId: 'web',
      userId: 'u',
      scope: '',
      status: 'active' as const,
      createdAt: 0,
      expiresAt: 1,
      generation: 0,
      lastRefreshAt: null,
      endedAt: null,
      endReason: null,
      userAgent: null,
      ip: null,
    };
    const token = {
      hash: 'h1',
      familyId: 'f1',
      generation: 0,
      parentHash: null,
      status: 'active' as const,
      issuedAt: 0,
      expiresAt: 1,
      rotatedAt: null,
      graceResponse: null,
    };
    await stores.tokens.createFamily(family, token);
    const duplicate = await stores.tokens.createFamily(family, token).catch((err: unknown) => err);
    assert.ok(
      duplicate instanceof Error && !(duplicate instanceof StoreUnavailableError),
      'a constraint bug stays a bug',
    );
    stores.db.close();
    await assert.rejects(stores.tokens.findToken('h1'), StoreUnavailableError);
    await assert.rejects(stores.replay.insertIfAbsent('k', 2, 1), StoreUnavailableError);
    await assert.rejects(stores.ping(), StoreUnavailableError);
  });
});
