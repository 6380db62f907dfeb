import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, openSqliteStores, saveClient } from '../../src/index.js';
import { cachedDirectory } from '../../src/stores/cached-directory.js';
import { startTestServer } from '../helpers/test-server.js';

describe('cached directory', () => {
  it('serves repeated reads from memory, sees its own writes at once and other processes within the TTL', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const clock = new ManualClock();
    const cached = cachedDirectory(stores.directory, clock, 5000);
    const user = {
      id: 'u1',
      username: 'alice',
      passwordHash: 'x',
      roles: ['a'],
      disabled: false,
      createdAt: 0,
    };
    await stores.directory.createUser(user);
    assert.deepEqual((await cached.findUserById('u1'))?.roles, ['a']);

    // Another process changes the row behind the cache: seen only after the TTL.
    await stores.directory.updateUser({ ...user, roles: ['b'] });
    assert.deepEqual((await cached.findUserById('u1'))?.roles, ['a']);
    clock.advance(5000);
    assert.deepEqual((await cached.findUserById('u1'))?.roles, ['b']);

    // A write through the cache is seen at once.
    await cached.updateUser({ ...user, disabled: true });
    assert.equal((await cached.findUserById('u1'))?.disabled, true);

    // Misses are not cached: a client created elsewhere is found on the next read.
    assert.equal(await cached.findClient('web'), null);
    await stores.directory.saveClient({
      id: 'web',
      name: 'web',
      public: true,
      secretHash: null,
      grantTypes: ['refresh_token'],
      allowedScopes: [],
      defaultScope: '',
      accessTokenTtl: null,
      refreshGracePeriod: null,
      refreshIdleTtl: null,
      refreshAbsoluteTtl: null,
      requireNonce: false,
      introspectAny: false,
      createdAt: 0,
    });
    assert.equal((await cached.findClient('web'))?.id, 'web');
    assert.equal(await cached.deleteClient('web'), true);
    assert.equal(await cached.findClient('web'), null);
    await stores.close();
  });

  it('is what the server reads through: refreshes read the client and user once per TTL, and again after a write', async () => {
    const stores = openSqliteStores({ path: ':memory:' });
    const reads = { client: 0, user: 0 };
    const { findClient, findUserById } = stores.directory;
    Object.assign(stores.directory, {
      findClient: (id: string) => {
        reads.client++;
        return findClient(id);
      },
      findUserById: (id: string) => {
        reads.user++;
        return findUserById(id);
      },
    });
    const s = await startTestServer({ stores });
    try {
      let token = (await s.login()).refresh_token!;
      const before = { ...reads };
      for (let i = 0; i < 5; i++) {
        const r = await s.refresh(token);
        assert.equal(r.status, 200);
        token = r.body.refresh_token;
      }
      assert.ok(reads.client - before.client <= 1, `client read ${reads.client - before.client} times`);
      assert.ok(reads.user - before.user <= 1, `user read ${reads.user - before.user} times`);

      // Past the TTL (5 s), the next refresh reads again; so does the next one after a write.
      s.clock.advance(6000);
      const afterTtl = { ...reads };
      token = (await s.refresh(token)).body.refresh_token;
      assert.equal(reads.client - afterTtl.client, 1);
      assert.equal(reads.user - afterTtl.user, 1);
      await saveClient(s.tessera.ctx, { id: 'web', public: true, defaultScope: 'openid profile' });
      const afterWrite = reads.client;
      assert.equal((await s.refresh(token)).status, 200);
      assert.equal(reads.client - afterWrite, 1);
    } finally {
      await s.close();
    }
  });
});
