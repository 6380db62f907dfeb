import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTokenVault, openSqliteVaultStore, type TokenVault, type VaultStore } from '../../src/index.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

class InjectedWriteFailure extends Error {
  override readonly name = 'InjectedWriteFailure';
  readonly code = 'SQLITE_IOERR';
}

/** An SQLite store whose next write of a refreshed set fails (the disk, the network to the database). */
function failingStore(path: string): VaultStore & { failNextSetWrite: number } {
  const inner = openSqliteVaultStore(path);
  const store = Object.create(inner) as VaultStore & { failNextSetWrite: number };
  store.failNextSetWrite = 0;
  store.update = async (userId, connection, version, patch, bump) => {
    if (patch.sealed && patch.state === 'active' && store.failNextSetWrite > 0) {
      store.failNextSetWrite--;
      throw new InjectedWriteFailure('disk I/O error');
    }
    return inner.update(userId, connection, version, patch, bump);
  };
  return store;
}

describe('a store write that fails after the upstream answered', () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  let store: ReturnType<typeof failingStore>;
  let vault: TokenVault;
  const clock = new TestClock();
  const logs: string[] = [];

  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: 600 });
    db = tempDb();
    store = failingStore(db.path);
    vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: store,
      keys: makeKeys(),
      clock,
      logger: {
        info: () => {},
        warn: () => {},
        error: (o, m) => logs.push(JSON.stringify([o, m])),
      },
    });
  });
  after(async () => {
    await vault.close();
    await store.close();
    await up.close();
    db.cleanup();
  });

  it('gives the lease back (fenced), so the next caller refreshes at once instead of waiting for it to expire', async () => {
    const tokens = await up.signIn();
    await vault.save('disk', tokens);
    const saved = await store.get('disk', 'default');
    clock.advance(601_000);
    store.failNextSetWrite = 1;
    const before = await up.refreshes();
    await assert.rejects(vault.getValidAccessToken('disk'), { name: 'InjectedWriteFailure' });
    const row = await store.get('disk', 'default');
    assert.equal(row?.leaseOwner, null, 'no lease left behind');
    assert.equal(row?.leaseUntil, null);
    assert.equal(row?.version, saved!.version + 2, 'the lease bumped the version, and so did its release');
    assert.equal(row?.state, 'active', 'the old set is still there');
    assert.equal((await up.refreshes()).rotated - before.rotated, 1, 'the upstream had rotated');
    assert.ok(logs.some((l) => l.includes('the lease was given back')));
    assert.ok(!logs.some((l) => l.includes(String(tokens.refresh_token))), 'no token in the logs');
    // No clock movement: the next caller takes the lease at once and, within the upstream's
    // grace period, gets the same child with the refresh token the vault still holds.
    const token = await vault.getValidAccessToken('disk');
    assert.notEqual(token, tokens.access_token);
    const afterwards = await up.refreshes();
    assert.equal(afterwards.grace - before.grace, 1, 'the retry was answered from the grace period');
    assert.equal((await store.get('disk', 'default'))?.leaseOwner, null);
    const metric = await vault.metrics.refreshes.get();
    assert.equal(metric.values.find((v) => v.labels.result === 'store_error')?.value, 1);
  });

  it('a release that finds the version moved (the write did land, or someone took over) changes nothing', async () => {
    await vault.save('landed', await up.signIn());
    clock.advance(601_000);
    // The write lands, then reports a failure (a connection lost after the commit).
    const inner = Object.getPrototypeOf(store) as VaultStore;
    let reported = false;
    store.update = async (userId, connection, version, patch, bump) => {
      const done = await inner.update(userId, connection, version, patch, bump);
      if (patch.sealed && patch.state === 'active' && !reported) {
        reported = true;
        throw new InjectedWriteFailure('connection lost after commit');
      }
      return done;
    };
    try {
      await assert.rejects(vault.getValidAccessToken('landed'), { name: 'InjectedWriteFailure' });
      const row = await store.get('landed', 'default');
      assert.equal(row?.leaseOwner, null);
      // The new set is there and is handed out without another refresh.
      const seen = up.proxy.refreshGrants();
      assert.ok(await vault.getValidAccessToken('landed'));
      assert.equal(up.proxy.refreshGrants(), seen);
      assert.ok(logs.some((l) => l.includes('"released":false')));
    } finally {
      store.update = (...args) => inner.update(...args);
    }
  });
});
