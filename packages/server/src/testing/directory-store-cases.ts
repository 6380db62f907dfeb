import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hasErrorCode } from '../errors.js';
import type { ClientRecord, Stores } from '../ports/index.js';
import { T0, uniqueId } from './fixtures.js';

/** `DirectoryStore`: clients and users. */
export function directoryStoreCases(get: () => Stores): void {
  it('directory: clients and users round-trip; usernames are unique', async () => {
    const { directory } = get();
    const client: ClientRecord = {
      id: uniqueId('client'),
      name: 'Test',
      public: false,
      secretHash: 'hash',
      grantTypes: ['refresh_token', 'client_credentials'],
      allowedScopes: ['a', 'b'],
      defaultScope: 'a',
      accessTokenTtl: 60,
      refreshGracePeriod: null,
      refreshIdleTtl: null,
      refreshAbsoluteTtl: null,
      requireNonce: true,
      introspectAny: false,
      createdAt: T0,
    };
    await directory.saveClient(client);
    assert.deepEqual(await directory.findClient(client.id), client);
    await directory.saveClient({ ...client, name: 'Renamed' });
    assert.equal((await directory.findClient(client.id))?.name, 'Renamed');
    assert.ok((await directory.listClients()).some((c) => c.id === client.id));
    assert.equal(await directory.deleteClient(client.id), true);
    assert.equal(await directory.findClient(client.id), null);

    const username = uniqueId('alice');
    const user = {
      id: uniqueId('uid'),
      username,
      passwordHash: 'scrypt$...',
      roles: ['admin'],
      disabled: false,
      createdAt: T0,
    };
    await directory.createUser(user);
    assert.deepEqual(await directory.findUserByUsername(username), user);
    assert.deepEqual(await directory.findUserById(user.id), user);
    // By code, not class: an adapter in another package throws its own copy's DuplicateError.
    await assert.rejects(directory.createUser({ ...user, id: uniqueId('uid') }), (err) =>
      hasErrorCode(err, 'ERR_TESSERA_DUPLICATE'),
    );
    await directory.updateUser({ ...user, disabled: true });
    assert.equal((await directory.findUserById(user.id))?.disabled, true);
  });
}
