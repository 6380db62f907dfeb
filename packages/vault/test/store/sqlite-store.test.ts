import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqliteVaultStore } from '@tessera/vault';
import { describeVaultStoreConformance } from '@tessera/vault/testing';
import { tempDb } from '../support/vault-fixtures.js';

const dirs: ReturnType<typeof tempDb>[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

describeVaultStoreConformance('SQLite', async () => {
  const db = tempDb();
  dirs.push(db);
  return openSqliteVaultStore(db.path);
});

describe('SQLite vault store: several processes', () => {
  it('eight processes opening one new file at once migrate it once, and all can use it', async () => {
    const db = tempDb();
    dirs.push(db);
    const script = fileURLToPath(new URL('../support/open-sqlite-child.ts', import.meta.url));
    const codes = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          new Promise<number>((resolve) => {
            const child = fork(script, [db.path, `user${i}`], {
              execArgv: ['--import', 'tsx', '--conditions=@tessera/source'],
              stdio: 'inherit',
            });
            child.on('exit', (code) => resolve(code ?? 1));
          }),
      ),
    );
    assert.deepEqual(codes, Array(8).fill(0));
    const store = openSqliteVaultStore(db.path);
    const rows = await store.page(undefined, 100);
    assert.equal(rows.length, 8);
    await store.close();
  });
});
