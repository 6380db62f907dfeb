import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seal, unseal } from '../../src/crypto/seal.js';
import { sealTokenSet, unsealTokenSet } from '../../src/crypto/seal-token-set.js';
import { DecryptionFailed, loadVaultKeys, VaultConfigError } from '../../src/index.js';

const k = () => randomBytes(32).toString('base64');

describe('vault keys', () => {
  it('come from the option, else TESSERA_VAULT_KEYS, else TESSERA_VAULT_KEYS_FILE', () => {
    const a = k();
    assert.equal(loadVaultKeys({ current: 'a', a }, {}).current, 'a');
    assert.equal(
      loadVaultKeys(undefined, { TESSERA_VAULT_KEYS: JSON.stringify({ current: 'e', e: a }) }).current,
      'e',
    );
    const dir = mkdtempSync(join(tmpdir(), 'vault-keys-'));
    try {
      const file = join(dir, 'keys.json');
      writeFileSync(file, JSON.stringify({ current: 'f', f: a, old: k() }));
      const keys = loadVaultKeys(undefined, { TESSERA_VAULT_KEYS_FILE: file });
      assert.equal(keys.current, 'f');
      assert.deepEqual([...keys.keys.keys()], ['f', 'old']);
      assert.throws(
        () => loadVaultKeys(undefined, { TESSERA_VAULT_KEYS_FILE: join(dir, 'missing.json') }),
        /cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing, short, unknown or malformed key is a clear start-up error that never shows the key', () => {
    const secretish = randomBytes(16).toString('base64');
    const cases: [unknown, RegExp][] = [
      [undefined, /No vault keys/],
      [{ current: 'k1', k1: secretish }, /key "k1" is 16 bytes; AES-256 needs exactly 32/],
      [{ current: 'k9', k1: k() }, /current key "k9" is not defined/],
      [{ k1: k() }, /"current" must name/],
      [{ current: 'k1', k1: 'not base64!' }, /must be a base64 string/],
      [{ current: 'k1', k1: k(), 'bad id': k() }, /key id "bad id"/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => loadVaultKeys(input as never, {}),
        (err: unknown) => {
          assert.ok(err instanceof VaultConfigError);
          assert.match(err.message, message);
          assert.ok(!err.message.includes(secretish));
          return true;
        },
      );
    }
    assert.throws(() => loadVaultKeys(undefined, { TESSERA_VAULT_KEYS: '{nope' }), /expected JSON/);
    assert.throws(
      () => loadVaultKeys(undefined, { TESSERA_VAULT_KEYS: '{}', TESSERA_VAULT_KEYS_FILE: '/x' }),
      /not both/,
    );
  });
});

describe('AES-256-GCM sealing', () => {
  const keys = loadVaultKeys({ current: 'k1', k1: k() }, {});
  const ctx = { userId: 'alice', connection: 'default', column: 'access_token' };

  it('round-trips, with a fresh 96-bit IV each time and the key id beside the value', () => {
    const a = seal(keys, ctx, 'token-value');
    const b = seal(keys, ctx, 'token-value');
    assert.notEqual(a, b);
    const [version, kid, iv] = a.split('.');
    assert.equal(version, 'v1');
    assert.equal(kid, 'k1');
    assert.equal(Buffer.from(iv!, 'base64url').length, 12);
    assert.equal(unseal(keys, ctx, a), 'token-value');
    assert.ok(!a.includes('token-value'));
  });

  it('a value moved to another user, connection or column fails to decrypt', () => {
    const sealed = seal(keys, ctx, 'token-value');
    for (const other of [
      { ...ctx, userId: 'mallory' },
      { ...ctx, connection: 'other' },
      { ...ctx, column: 'refresh_token' },
    ]) {
      assert.throws(
        () => unseal(keys, other, sealed),
        (err: unknown) => {
          assert.ok(err instanceof DecryptionFailed);
          assert.equal(err.reason, 'authentication_failed');
          return true;
        },
      );
    }
  });

  it('tampering, a wrong key and an unknown key fail with DecryptionFailed', () => {
    const sealed = seal(keys, ctx, 'token-value');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    for (let i = 0; i < body.length; i += 5) {
      const copy = Buffer.from(body);
      copy[i]! ^= 0x80;
      assert.throws(() => unseal(keys, ctx, [...parts.slice(0, 3), copy.toString('base64url')].join('.')), {
        name: 'DecryptionFailed',
        reason: 'authentication_failed',
      });
    }
    const wrong = loadVaultKeys({ current: 'k1', k1: k() }, {});
    assert.throws(() => unseal(wrong, ctx, sealed), {
      name: 'DecryptionFailed',
      reason: 'authentication_failed',
    });
    const other = loadVaultKeys({ current: 'k2', k2: k() }, {});
    assert.throws(() => unseal(other, ctx, sealed), { name: 'DecryptionFailed', reason: 'unknown_key' });
    for (const garbage of [
      '',
      'v1',
      'v1.k1.x.y',
      'v2.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA',
      '{"json":1}',
    ]) {
      assert.throws(() => unseal(keys, ctx, garbage), { name: 'DecryptionFailed' });
    }
  });

  it('token sets are sealed column by column and read back', () => {
    const set = {
      accessToken: 'at',
      tokenType: 'Bearer',
      refreshToken: 'rt',
      idToken: 'id',
      scope: 'openid',
      receivedAt: 1,
      expiresAt: 2,
      refreshExpiresAt: 3,
    };
    const sealed = sealTokenSet(keys, 'u', 'c', set);
    assert.deepEqual(unsealTokenSet(keys, 'u', 'c', sealed), set);
    // Swapping two columns of one row fails too.
    assert.throws(() => unsealTokenSet(keys, 'u', 'c', { ...sealed, access_token: sealed.refresh_token! }), {
      name: 'DecryptionFailed',
    });
  });
});
