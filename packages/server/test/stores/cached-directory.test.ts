import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, openSqliteStores } from '../../src/index.js';
import { cachedDirectory } from '../../src/stores/cached-directory.js';

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
});
