import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { memoryStorage } from '../../src/index.js';
import { FakeTokenServer } from '../support/fake-token-server.js';
import { FakeLockManager, fakeBroadcastChannel, installFakeWebLocks } from '../support/fake-web-locks.js';
import { type Harness, harness } from '../support/harness.js';
import { VirtualTime } from '../support/virtual-time.js';

/**
 * The Web Locks coordinator on virtual time: a fake lock manager shared by the "tabs" (one
 * client and one coordinator each, as in separate pages) and a fake BroadcastChannel whose
 * messages arrive late. The browser suite runs the same coordinator in Chromium.
 */
const SECOND = 1000;
const LOCK = 'tessera:tessera:web';
const MARK = `${LOCK}:handover:`;

let time: VirtualTime;
let server: FakeTokenServer;
let locks: FakeLockManager;
/** Delay of every channel message, in virtual ms. */
let delay = 0;
let restore: () => void;

before(() => {
  time = new VirtualTime();
  locks = new FakeLockManager();
  restore = installFakeWebLocks(
    locks,
    fakeBroadcastChannel(time, () => delay),
  );
});
after(() => restore());
let open: Harness[] = [];
afterEach(() => {
  locks.refuse.length = 0;
  for (const tab of open.splice(0)) tab.client.close();
});

/** `n` tabs (the default coordinator, per-tab memory storage), signed in through the first. */
async function tabs(n: number): Promise<Harness[]> {
  server = new FakeTokenServer(time);
  delay = 0;
  const all: Harness[] = [];
  for (let i = 0; i < n; i++) all.push(await harness({ storage: memoryStorage() }, { time, server }));
  open = all;
  await all[0]!.client.signInWithTokens(server.issue());
  await time.advance(SECOND);
  for (const tab of all)
    assert.equal(await tab.client.getAccessToken(), 'at-1', 'the sign-in was handed over');
  return all;
}

describe('webLocksCoordinator on virtual time (fake navigator.locks + BroadcastChannel)', () => {
  it('three tabs waiting for the lock, every message 100 ms late: one refresh, every tab takes the hand-over', async () => {
    const all = await tabs(3);
    delay = 100;
    server.script.push('hold');
    time.jump(901 * SECOND);
    const pending = all.flatMap((tab) => Array.from({ length: 10 }, () => tab.client.getAccessToken()));
    await time.advance(0);
    assert.deepEqual(locks.count(LOCK), { held: 1, pending: 2 });
    assert.equal(server.requests.length, 1);
    server.release();
    await time.advance(2 * SECOND);
    const results = await Promise.all(pending);
    assert.equal(server.requests.length, 1, 'one refresh request for the three tabs');
    assert.equal(server.rotations, 1);
    assert.ok(results.every((t) => t === 'at-2'));
    for (const tab of all) assert.equal(tab.count('sessionExpired'), 0);
  });

  it('a tab that gets the free lock just after another refreshed waits for that hand-over (100 ms late)', async () => {
    const [first, second] = await tabs(2);
    delay = 100;
    time.jump(901 * SECOND);
    assert.equal(await first!.client.getAccessToken(), 'at-2');
    // The first tab has let the lock go; its hand-over is still on its way.
    assert.deepEqual(locks.count(LOCK), { held: 0, pending: 0 });
    const started = time.now();
    const token = second!.client.getAccessToken();
    await time.advance(100);
    assert.equal(await token, 'at-2');
    assert.equal(server.requests.length, 1, 'one refresh for both tabs');
    assert.equal(time.now() - started, 100, 'it waited exactly until the hand-over arrived');
  });

  it('a hand-over announced but never received is waited for 250 ms at most; then the tab refreshes itself', async () => {
    const [first, second] = await tabs(2);
    delay = 60 * SECOND; // lost, as far as the second tab can tell
    time.jump(901 * SECOND);
    assert.equal(await first!.client.getAccessToken(), 'at-2');
    const refreshedAt = time.now();
    const token = second!.client.getAccessToken();
    await time.advance(249);
    assert.equal(server.requests.length, 1, 'still waiting for the hand-over');
    await time.advance(1);
    assert.equal(await token, 'at-2', 'the same child: the grace period answers the parent again');
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[1]!.at - refreshedAt, 250);
    assert.equal(server.requests[1]!.refreshToken, 'rt-1');
    assert.equal(server.rotations, 1);
  });

  it('a mark the lock manager never grants holds the refresh lock 250 ms, not longer', async () => {
    const [first, second] = await tabs(2);
    locks.refuse.push(MARK);
    const grants = () => locks.granted.filter((n) => n === LOCK).length;
    const before = grants();
    server.script.push('hold');
    time.jump(901 * SECOND);
    const a = first!.client.getAccessToken();
    await time.advance(0);
    const b = second!.client.getAccessToken();
    await time.advance(0);
    assert.deepEqual(locks.count(LOCK), { held: 1, pending: 1 });
    server.release();
    await time.advance(249);
    assert.equal(locks.count(LOCK).held, 1, 'the lock is still held, waiting for the mark');
    await time.advance(1);
    assert.equal(grants() - before, 2, 'let go at 250 ms, to the second tab');
    assert.equal(await a, 'at-2');
    assert.equal(await b, 'at-2');
    assert.equal(server.requests.length, 1, 'the channel (on time) handed the session over');
  });
});
