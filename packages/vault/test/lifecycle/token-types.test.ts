import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTokenVault, type TokenVault, UnsupportedTokenType } from '../../src/index.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

// No upstream is needed to store or refuse a set: the vault starts against an issuer that is
// down (a closed loopback port) and never asks it.
describe('token types the vault stores, and DPoP-bound tokens it refuses', () => {
  let db: ReturnType<typeof tempDb>;
  let vault: TokenVault;
  const requests: string[] = [];
  before(async () => {
    db = tempDb();
    vault = await createTokenVault({
      issuer: 'http://127.0.0.1:9',
      clientId: 'backend',
      clientSecret: 'secret-0123456789',
      database: db.path,
      keys: makeKeys(),
      clock: new TestClock(),
      cleanupIntervalMs: 0,
      setTimer: () => () => {},
      fetch: async (url, init) => {
        requests.push(`${String(url)} ${new Headers(init?.headers).get('authorization')}`);
        return new Response('{}', { status: 200 });
      },
    });
  });
  after(async () => {
    await vault.close();
    db.cleanup();
  });

  for (const tokenType of ['DPoP', 'dpop']) {
    it(`save refuses token_type ${tokenType} with UnsupportedTokenType, and stores nothing`, async () => {
      await assert.rejects(
        vault.save('bound', { access_token: 'at-bound', token_type: tokenType, expires_in: 600 }),
        (err: unknown) => {
          assert.ok(err instanceof UnsupportedTokenType, String(err));
          assert.equal(err.name, 'UnsupportedTokenType');
          assert.equal(err.code, 'UnsupportedTokenType');
          assert.equal(err.tokenType, 'DPoP');
          assert.match(err.message, /Bearer tokens only/);
          assert.ok(!err.message.includes('at-bound'));
          return true;
        },
      );
      assert.deepEqual(await vault.status('bound'), []);
    });
  }

  it('Bearer (any case, or no token_type) is stored and sent as Bearer by vault.fetch', async () => {
    await vault.save('plain', { access_token: 'at-plain', token_type: 'bearer', expires_in: 600 });
    await vault.save('untyped', { access_token: 'at-untyped', expires_in: 600 });
    assert.equal(await vault.getValidAccessToken('plain'), 'at-plain');
    await vault.fetch('plain', 'https://api.example.test/me');
    await vault.fetch('untyped', 'https://api.example.test/me');
    assert.deepEqual(requests, [
      'https://api.example.test/me Bearer at-plain',
      'https://api.example.test/me Bearer at-untyped',
    ]);
  });
});
