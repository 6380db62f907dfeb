import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createTokenVault, DecryptionFailed, rekeyVault, type TokenVault } from '../../src/index.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { TestClock, tempDb } from '../support/vault-fixtures.js';

describe('key rotation, wrong keys and swapped ciphertexts', () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  const clock = new TestClock();
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const open = (keys: { current: string } & Record<string, string>) =>
    createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys,
      clock,
    });
  const tokens = new Map<string, string>();
  const keyIds = () => {
    const raw = new Database(db.path, { readonly: true });
    try {
      return raw
        .prepare('SELECT user_id, key_id, access_token FROM tessera_vault_connections ORDER BY user_id')
        .all() as { user_id: string; key_id: string; access_token: string }[];
    } finally {
      raw.close();
    }
  };

  before(async () => {
    up = await startTesseraUpstream();
    db = tempDb();
    const v1 = await open({ current: 'k1', k1 });
    for (const user of ['u1', 'u2', 'u3', 'u4']) {
      const t = await up.signIn();
      tokens.set(user, String(t.access_token));
      await v1.save(user, t);
    }
    await v1.close();
  });
  after(async () => {
    await up.close();
    db.cleanup();
  });

  it('a new current key keeps every user readable; reads re-encrypt lazily, rekey does the rest', async () => {
    const v2: TokenVault = await open({ current: 'k2', k1, k2 });
    assert.equal(await v2.getValidAccessToken('u1'), tokens.get('u1'));
    assert.deepEqual(
      keyIds().map((r) => [r.user_id, r.key_id, r.access_token.split('.')[1]]),
      [
        ['u1', 'k2', 'k2'],
        ['u2', 'k1', 'k1'],
        ['u3', 'k1', 'k1'],
        ['u4', 'k1', 'k1'],
      ],
    );
    const result = await v2.rekey();
    assert.deepEqual(
      { scanned: result.scanned, rekeyed: result.rekeyed, failed: result.failed },
      {
        scanned: 4,
        rekeyed: 3,
        failed: [],
      },
    );
    assert.ok(keyIds().every((r) => r.key_id === 'k2'));
    await v2.close();
    // The old key can now be removed: everyone is still readable with k2 alone.
    const v3 = await open({ current: 'k2', k2 });
    for (const [user, token] of tokens) assert.equal(await v3.getValidAccessToken(user), token);
    await v3.close();
  });

  it('a wrong key (same id, other bytes) is a DecryptionFailed, never a token', async () => {
    const wrong = await open({ current: 'k2', k2: randomBytes(32).toString('base64') });
    await assert.rejects(wrong.getValidAccessToken('u2'), (err: unknown) => {
      assert.ok(err instanceof DecryptionFailed);
      assert.equal(err.reason, 'authentication_failed');
      assert.match(err.message, /wrong key, altered ciphertext, or a value copied from another row/);
      return true;
    });
    const unknown = await open({ current: 'k9', k9: randomBytes(32).toString('base64') });
    await assert.rejects(unknown.getValidAccessToken('u2'), {
      name: 'DecryptionFailed',
      reason: 'unknown_key',
    });
    // rekeyVault (what `tessera vault rekey` runs) reports such rows and changes nothing.
    const report = await rekeyVault({
      database: db.path,
      keys: { current: 'k9', k9: randomBytes(32).toString('base64') },
    });
    assert.equal(report.failed.length, 4);
    assert.equal(report.rekeyed, 0);
    await wrong.close();
    await unknown.close();
  });

  it("ciphertexts swapped between two users' rows fail for both", async () => {
    const raw = new Database(db.path);
    const rows = raw
      .prepare(
        "SELECT user_id, access_token, refresh_token FROM tessera_vault_connections WHERE user_id IN ('u3','u4')",
      )
      .all() as { user_id: string; access_token: string; refresh_token: string }[];
    const swap = raw.prepare(
      'UPDATE tessera_vault_connections SET access_token = ?, refresh_token = ? WHERE user_id = ?',
    );
    swap.run(rows[1]!.access_token, rows[1]!.refresh_token, rows[0]!.user_id);
    swap.run(rows[0]!.access_token, rows[0]!.refresh_token, rows[1]!.user_id);
    raw.close();
    const v = await open({ current: 'k2', k2 });
    for (const user of ['u3', 'u4']) {
      await assert.rejects(v.getValidAccessToken(user), (err: unknown) => {
        assert.ok(err instanceof DecryptionFailed, String(err));
        assert.equal(err.where.userId, user);
        return true;
      });
    }
    await v.close();
  });
});
