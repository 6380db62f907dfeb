import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secureStoreStorage } from '@tessera/client/react-native';
import { describeStorageConformance } from '@tessera/client/testing';
import { resumeOnForeground } from '../../src/react-native/index.js';
import { FakeAppState, FakeSecureStore } from '../support/fake-expo.js';
import { harness } from '../support/harness.js';
import { settle } from '../support/virtual-time.js';

/**
 * No React Native runtime runs here: the adapter and the resume hook are tested against
 * expo-secure-store's and AppState's documented behaviour, with fakes that enforce it.
 */
const SECOND = 1000;
const stores = new WeakMap<object, FakeSecureStore>();

describeStorageConformance(
  'secureStoreStorage',
  () => {
    const fake = new FakeSecureStore();
    const storage = secureStoreStorage(fake);
    stores.set(storage, fake);
    return storage;
  },
  {
    // Android after a restored backup: the item is there, its key is not. A new instance (the
    // next app start) has no copy in memory.
    corrupt: (storage) => {
      const fake = stores.get(storage)!;
      for (const id of fake.items.keys()) fake.invalidate(id.slice('app/'.length));
      (storage as { get: unknown }).get = secureStoreStorage(fake).get;
    },
  },
);

describe('secureStoreStorage (expo-secure-store)', () => {
  it('maps the SDK’s keys to keys SecureStore accepts, one to one', async () => {
    const fake = new FakeSecureStore();
    const s = secureStoreStorage(fake);
    await s.set('tessera:web', 'a');
    await s.set('tessera_3aweb', 'b');
    await s.set('tessera web/ü', 'c');
    assert.deepEqual([...fake.items.keys()].sort(), [
      'app/tessera_20web_2f_fc',
      'app/tessera_3aweb',
      'app/tessera_5f3aweb',
    ]);
    const restarted = secureStoreStorage(fake);
    assert.equal(await restarted.get('tessera:web'), 'a');
    assert.equal(await restarted.get('tessera_3aweb'), 'b');
  });

  it('readable after the first unlock by default (a refresh while the device is locked), or with your options', async () => {
    const fake = new FakeSecureStore();
    await secureStoreStorage(fake).set('k', 'v');
    assert.deepEqual(fake.calls.at(-1)?.options, { keychainAccessible: fake.AFTER_FIRST_UNLOCK });
    await secureStoreStorage(fake, { options: { keychainService: 'my-app', keychainAccessible: 5 } }).set(
      'k',
      'w',
    );
    assert.deepEqual(fake.calls.at(-1)?.options, { keychainService: 'my-app', keychainAccessible: 5 });
    assert.equal(fake.items.get('my-app/k'), 'w');
  });

  it('a session too big for 2048 bytes is kept without its access token; a cold start refreshes once', async () => {
    const fake = new FakeSecureStore();
    const big = `eyJ${'x'.repeat(3000)}`;
    const a = await harness({ storage: secureStoreStorage(fake) });
    await a.client.signInWithTokens({ ...a.server.issue(), access_token: big });
    assert.equal(await a.client.getAccessToken(), big, 'in memory while the app runs');
    const atRest = fake.items.get('app/tessera_3aweb') ?? '';
    assert.ok(atRest.length < 2048 && !atRest.includes(big));
    assert.match(atRest, /"refreshToken":"rt-1"/);
    a.client.close();
    // The next start: one refresh with the stored refresh token, then the new token.
    const b = await harness({ storage: secureStoreStorage(fake) }, a);
    assert.equal(b.client.state, 'active');
    assert.equal(await b.client.getAccessToken(), 'at-2');
    assert.equal(a.server.requests.length, 1);
    assert.equal(a.server.requests[0]?.refreshToken, 'rt-1');
  });

  it('an item SecureStore can no longer read: deleted, storageError once, signed out; the next sign-in is stored', async () => {
    const fake = new FakeSecureStore();
    const first = await harness({ storage: secureStoreStorage(fake) });
    await first.client.signInWithTokens(first.server.issue());
    first.client.close();
    fake.invalidate('tessera_3aweb');
    const next = await harness({ storage: secureStoreStorage(fake) }, first);
    assert.equal(next.client.state, 'signedOut');
    assert.equal(next.count('storageError'), 1);
    assert.equal(fake.items.has('app/tessera_3aweb'), false);
    await next.client.signInWithTokens(first.server.issue());
    const third = await harness({ storage: secureStoreStorage(fake) }, first);
    assert.equal(third.client.state, 'active');
    assert.equal(third.count('storageError'), 0);
  });

  it('says what is missing when crypto.getRandomValues is (React Native without the polyfill)', () => {
    const crypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    try {
      assert.throws(() => secureStoreStorage(new FakeSecureStore()), /react-native-get-random-values/);
    } finally {
      Object.defineProperty(globalThis, 'crypto', crypto);
    }
  });
});

describe('resumeOnForeground (AppState)', () => {
  it('back in the foreground after the timers slept: one refresh at once; nothing while it stays active', async () => {
    const appState = new FakeAppState();
    const h = await harness({ storage: secureStoreStorage(new FakeSecureStore()) });
    await h.client.signInWithTokens(h.server.issue());
    const stop = resumeOnForeground(h.client, appState);
    appState.go('background');
    h.time.jump(20 * 60 * SECOND); // suspended: no timer ran, the token expired
    appState.go('inactive');
    await settle();
    assert.equal(h.server.requests.length, 0, 'not yet in the foreground');
    appState.go('active');
    await settle();
    assert.equal(h.server.requests.length, 1, 'resumed at once, before any timer');
    assert.equal(await h.client.getAccessToken(), 'at-2');
    appState.go('active');
    await h.time.advance(0);
    assert.equal(h.server.requests.length, 1, 'active to active is no resume');
    stop();
    assert.equal(appState.listeners, 0);
  });

  it('back in the foreground while offline: a probe at once instead of after the backoff', async () => {
    const appState = new FakeAppState();
    const h = await harness();
    await h.client.signInWithTokens(h.server.issue());
    resumeOnForeground(h.client, appState);
    h.server.script.push('network', 'network', 'network');
    h.time.jump(901 * SECOND);
    await h.client.getAccessToken();
    await h.time.advance(3 * SECOND);
    assert.equal(h.client.state, 'offline');
    const before = h.server.requests.length;
    appState.go('background');
    appState.go('active');
    await h.time.advance(0);
    assert.equal(h.server.requests.length, before + 1);
    assert.equal(h.client.state, 'active');
  });
});
