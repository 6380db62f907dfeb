import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withRotationFault } from '@tessera/server/testing';
import Database from 'better-sqlite3';
import {
  type FamilyRecord,
  openSqliteStores,
  type RefreshTokenRecord,
  type RotateInput,
} from '../../src/index.js';

const T0 = 1_800_000_000_000;

function session(id: string): { family: FamilyRecord; token: RefreshTokenRecord } {
  const family: FamilyRecord = {
    id,
    clientId: 'web',
    userId: 'u',
    scope: '',
    status: 'active',
    createdAt: T0,
    expiresAt: T0 + 1e9,
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
    hash: `${id}-h0`,
    familyId: id,
    generation: 0,
    parentHash: null,
    status: 'active',
    issuedAt: T0,
    expiresAt: T0 + 1e9,
    rotatedAt: null,
    graceResponse: null,
  };
  return { family, token };
}

/** The first rotation of `token`, with the event the refresh grant writes in its transaction. */
function rotation(token: RefreshTokenRecord): RotateInput {
  return {
    parentHash: token.hash,
    parentGeneration: 0,
    child: { ...token, hash: `${token.familyId}-h1`, generation: 1, parentHash: token.hash },
    graceResponse: new Uint8Array(8),
    now: T0 + 1,
    events: [{ at: T0 + 1, type: 'token.refreshed', familyId: token.familyId }],
  };
}

describe('withRotationFault (the crash tests’ hook)', () => {
  it('before-commit: strikes inside the rotation’s transaction, after its writes; thrown, it undoes the rotation', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-fault-')), 't.db');
    const opened = openSqliteStores({ path });
    // Called from inside a statement (the trigger's), where the connection may not be queried.
    const seen: boolean[] = [];
    const stores = withRotationFault(opened, 'before-commit', () => {
      seen.push(opened.db.inTransaction);
      throw new Error('struck');
    });
    try {
      const { family, token } = session('f1');
      await stores.sessions.createFamily(family, token);
      await assert.rejects(stores.sessions.rotate(rotation(token)), /struck/);
      assert.deepEqual(seen, [true], 'once, inside the transaction');
      assert.deepEqual(
        (await stores.sessions.listTokens('f1')).map((t) => [t.generation, t.status]),
        [[0, 'active']],
        'the old state, as if the process had died there',
      );
      assert.deepEqual(await stores.events.list({ familyId: 'f1' }), []);
      // Nothing of the hook is in the file: another connection sees no trigger.
      const other = new Database(path, { readonly: true });
      try {
        assert.deepEqual(other.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all(), []);
      } finally {
        other.close();
      }
    } finally {
      await stores.close();
    }
  });

  it('after-commit: strikes once the rotation is committed, before its caller is answered', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-fault-')), 't.db');
    const opened = openSqliteStores({ path });
    const seen: { inTransaction: boolean; committed: boolean }[] = [];
    const stores = withRotationFault(opened, 'after-commit', () => {
      // A second connection reads only what was committed.
      const other = new Database(path, { readonly: true });
      try {
        const row = other.prepare('SELECT generation FROM families WHERE id = ?').get('f2') as
          | { generation: number }
          | undefined;
        seen.push({ inTransaction: opened.db.inTransaction, committed: row?.generation === 1 });
      } finally {
        other.close();
      }
      throw new Error('struck');
    });
    try {
      const { family, token } = session('f2');
      await stores.sessions.createFamily(family, token);
      await assert.rejects(stores.sessions.rotate(rotation(token)), /struck/);
      assert.deepEqual(seen, [{ inTransaction: false, committed: true }]);
      assert.deepEqual(
        (await stores.sessions.listTokens('f2')).map((t) => [t.generation, t.status]),
        [
          [0, 'rotated'],
          [1, 'active'],
        ],
      );
      // A conflict is not a rotation: the hook stays quiet.
      assert.deepEqual(await opened.sessions.rotate(rotation(token)), { outcome: 'conflict' });
      assert.deepEqual(await stores.sessions.rotate(rotation(token)), { outcome: 'conflict' });
      assert.equal(seen.length, 1);
    } finally {
      await stores.close();
    }
  });
});
