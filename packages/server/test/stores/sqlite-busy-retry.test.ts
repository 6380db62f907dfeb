import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { retryWhileBusy } from '../../src/stores/sqlite/fail-closed.js';

/** A new file in rollback mode and a second connection on it that holds an exclusive lock. */
function lockedFile() {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-busy-')), 't.db');
  const holder = new Database(path);
  holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)');
  const db = new Database(path);
  // SQLite itself never waits here: every wait below is the helper's.
  db.pragma('busy_timeout = 0');
  return { holder, db };
}

describe('retryWhileBusy (switching a file to WAL while another connection holds it)', () => {
  it('tries again while the lock is held, and succeeds once it is released', () => {
    const { holder, db } = lockedFile();
    let calls = 0;
    const mode = retryWhileBusy(() => {
      calls++;
      if (calls === 3) holder.exec('COMMIT');
      return db.pragma('journal_mode = WAL', { simple: true });
    });
    assert.equal(mode, 'wal');
    assert.equal(calls, 3, 'two refusals (SQLITE_BUSY), then the switch');
    assert.deepEqual(db.prepare('SELECT x FROM t').all(), [{ x: 1 }], "the holder's write is kept");
    db.close();
    holder.close();
  });

  it('gives up with SQLITE_BUSY when the lock outlasts its time', () => {
    const { holder, db } = lockedFile();
    let calls = 0;
    assert.throws(
      () =>
        retryWhileBusy(() => {
          calls++;
          return db.pragma('journal_mode = WAL');
        }, 30),
      (err: { code?: string }) => err.code === 'SQLITE_BUSY',
    );
    assert.ok(calls >= 2, `tried again before giving up (${calls} calls)`);
    holder.exec('ROLLBACK');
    db.close();
    holder.close();
  });

  it('throws any other error at once', () => {
    let calls = 0;
    const db = new Database(':memory:');
    assert.throws(
      () =>
        retryWhileBusy(() => {
          calls++;
          return db.prepare('SELECT * FROM missing').all();
        }),
      /no such table/,
    );
    assert.equal(calls, 1);
    db.close();
  });
});
