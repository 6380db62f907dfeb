import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inProcessCoordinator } from '@tessera/client/in-process';
import { memoryStorage } from '../../src/index.js';
import { harness, signedIn } from '../support/harness.js';

const SECOND = 1000;

describe('in-process coordinator (several clients, one session)', () => {
  it('clients sharing a session refresh once; the new tokens are handed over', async () => {
    const storage = memoryStorage();
    const coordinator = inProcessCoordinator();
    const a = await signedIn({ storage, coordinator });
    const others = await Promise.all([1, 2, 3, 4].map(() => harness({ storage, coordinator }, a)));
    a.time.jump(901 * SECOND);
    const all = [a, ...others];
    const tokens = await Promise.all(
      all.flatMap((h) => Array.from({ length: 50 }, () => h.client.getAccessToken())),
    );
    assert.equal(a.server.requests.length, 1);
    assert.ok(tokens.every((t) => t === 'at-2'));
    for (const h of all) assert.equal(h.client.state, 'active');
  });

  it('hands the new session to idle clients over the channel (even with separate storage)', async () => {
    const coordinator = inProcessCoordinator();
    const a = await harness({ coordinator });
    const b = await harness({ coordinator }, a);
    await a.client.signInWithTokens(a.server.issue());
    await a.time.advance(0);
    assert.equal(await b.client.getAccessToken(), 'at-1'); // the sign-in is handed over too
    b.events.length = 0;
    await a.client.refresh();
    await a.time.advance(0);
    assert.equal(b.count('refreshed'), 1);
    assert.equal(await b.client.getAccessToken(), 'at-2');
    assert.equal(a.server.requests.length, 1);
  });

  it('a sign-out in one client signs the others out', async () => {
    const coordinator = inProcessCoordinator();
    const a = await signedIn({ coordinator });
    const b = await harness({ coordinator }, a);
    await a.client.signOut();
    await a.time.advance(0);
    assert.equal(b.client.state, 'signedOut');
    assert.equal(await b.client.getAccessToken(), null);
    assert.equal(b.count('sessionExpired'), 0);
  });
});
