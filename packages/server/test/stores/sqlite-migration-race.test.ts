import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/stores/sqlite/migrations.js';

const OPEN = new URL('./fixtures/open-at.ts', import.meta.url).pathname;

/** Starts a process that opens `path` at `at` (epoch ms); resolves with its exit code and output. */
function openAt(path: string, at: number): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tessera/source', OPEN, path, String(at)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('sqlite: several processes opening one new file at once', () => {
  it('all succeed, and the schema is migrated once', async () => {
    for (let round = 0; round < 2; round++) {
      const path = join(mkdtempSync(join(tmpdir(), 'tessera-race-')), 't.db');
      // Far enough ahead that every process has loaded its code and waits for the same instant.
      const at = Date.now() + 4000;
      const results = await Promise.all(Array.from({ length: 6 }, () => openAt(path, at)));
      for (const r of results) assert.equal(r.code, 0, r.out);
      assert.ok(
        results.every((r) => r.out.includes('opened')),
        results.map((r) => r.out).join('\n'),
      );
      const db = new Database(path, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      db.close();
    }
  });
});
