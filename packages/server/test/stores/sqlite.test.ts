import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStores } from '../../src/index.js';
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
});
