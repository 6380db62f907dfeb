import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer } from '../helpers/test-server.js';

describe('nothing is stored in plaintext (only hashes and sealed answers)', () => {
  it('the database files hold none of the tokens handed out, nor their secret parts', async () => {
    const s = await startTestServer();
    const handed: string[] = [];
    try {
      const login = await s.login();
      handed.push(login.access_token, login.refresh_token!);
      let rt = login.refresh_token!;
      for (let i = 0; i < 5; i++) {
        const r = await s.refresh(rt);
        const retry = await s.refresh(rt); // a grace retry, served from the sealed box
        assert.equal(retry.body.refresh_token, r.body.refresh_token);
        handed.push(r.body.access_token, r.body.refresh_token);
        rt = r.body.refresh_token;
      }
      // Force everything into the files: the main database and its write-ahead log.
      (s.tessera.ctx.stores as any).db.pragma('wal_checkpoint(PASSIVE)');
      const files = readdirSync(s.dir)
        .filter((f) => f.startsWith('tessera.db') && !f.endsWith('.key'))
        .map((f) => readFileSync(join(s.dir, f)));
      assert.ok(files.length >= 1);
      for (const token of handed) {
        // The whole token, and (for refresh tokens) the base64url body without the prefix.
        const needles = [token, token.replace(/^tsr_/, '').slice(22, 60), token.split('.')[2] ?? token];
        for (const file of files) {
          for (const needle of needles) {
            assert.equal(file.includes(needle), false, `found a token fragment in the database`);
          }
        }
      }
    } finally {
      await s.close();
    }
  });
});
