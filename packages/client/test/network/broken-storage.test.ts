import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TesseraEvents } from '../../src/index.js';
import { encryptedFileStorage } from '../../src/node/index.js';
import { webStorage } from '../../src/storage/web-storage.js';
import { MapStorage } from '../support/map-storage.js';
import { netClient, network } from '../support/network.js';

/**
 * Storage that broke: what cannot be read is moved aside (never deleted), the client starts
 * clean and says so with `storageError`, and the next sign-in is stored again, not only in memory.
 */
const net = network();
const dir = mkdtempSync(join(tmpdir(), 'tessera-broken-'));
after(() => rm(dir, { recursive: true, force: true }));

type StorageError = TesseraEvents['storageError'];
const errors = (c: ReturnType<typeof netClient>) =>
  c.events.filter((e) => e.name === 'storageError').map((e) => e.payload as StorageError);

describe('storage that broke', () => {
  for (const [what, bytes] of [
    ['truncated', '{"v":1,"entries":{"tessera:web":"q83vEjRWeJA'],
    ['not JSON', 'PK\u0003\u0004 not a session file'],
  ] as const) {
    it(`a ${what} encrypted session file: moved aside (0600), storageError, and a new sign-in is stored`, async () => {
      const path = join(dir, `${what.replace(' ', '-')}.session`);
      const key = randomBytes(32);
      await writeFile(path, bytes);
      const c = netClient(net, { storage: encryptedFileStorage({ path, key }) });
      await c.client.ready;
      assert.equal(c.client.state, 'signedOut');
      const [error, ...more] = errors(c);
      assert.equal(error?.operation, 'read');
      assert.match(String((error?.error as Error | undefined)?.message), /moved to .*\.unreadable-/);
      assert.equal(more.length, 0);
      const aside = (await readdir(dir)).filter((f) =>
        f.startsWith(`${what.replace(' ', '-')}.session.unreadable-`),
      );
      assert.equal(aside.length, 1);
      assert.equal(await readFile(join(dir, aside[0]!), 'utf8'), bytes, 'the bytes are kept');
      assert.equal((await stat(join(dir, aside[0]!))).mode & 0o777, 0o600);

      await c.client.signInWithTokens(net.fx.tokens.issue());
      const fresh = await c.client.refresh(); // over HTTP, written to the file
      assert.equal(errors(c).length, 1, 'writes work');
      c.client.close();
      const restarted = netClient(net, { storage: encryptedFileStorage({ path, key }) });
      await restarted.client.ready;
      assert.equal(restarted.client.state, 'active');
      assert.equal(await restarted.client.getAccessToken(), fresh);
      assert.equal(errors(restarted).length, 0);
    });
  }

  it('a Web Storage value that is not a session: kept beside it under <key>:unreadable, the key starts clean', async () => {
    const store = new MapStorage();
    store.setItem('tessera:web', '{"accessToken":"at-1","expiresAt":17');
    const c = netClient(net, { storage: webStorage(store) });
    await c.client.ready;
    assert.equal(c.client.state, 'signedOut');
    assert.deepEqual(
      errors(c).map((e) => e.operation),
      ['read'],
    );
    assert.equal(store.getItem('tessera:web:unreadable'), '{"accessToken":"at-1","expiresAt":17');
    assert.equal(store.getItem('tessera:web'), null);
    // Read once: a second client finds a clean key and no error.
    const second = netClient(net, { storage: webStorage(store) });
    await second.client.ready;
    assert.equal(errors(second).length, 0);
    await c.client.signInWithTokens(net.fx.tokens.issue());
    await c.client.refresh();
    assert.match(store.getItem('tessera:web') ?? '', /"refreshToken":"rt-/);
  });

  it('a full Web Storage: storageError on the write, the session goes on in memory and is stored once there is room', async () => {
    const store = new MapStorage();
    store.full = true;
    const c = netClient(net, { storage: webStorage(store) });
    await c.client.ready;
    await c.client.signInWithTokens(net.fx.tokens.issue());
    assert.equal(c.client.state, 'active');
    const [error] = errors(c);
    assert.equal(error?.operation, 'write');
    assert.equal((error?.error as DOMException | undefined)?.name, 'QuotaExceededError');
    const token = await c.client.refresh(); // still works, from memory
    assert.equal(errors(c).length, 2);
    store.full = false;
    const next = await c.client.refresh();
    assert.notEqual(next, token);
    const restarted = netClient(net, { storage: webStorage(store) });
    await restarted.client.ready;
    assert.equal(await restarted.client.getAccessToken(), next);
  });
});
