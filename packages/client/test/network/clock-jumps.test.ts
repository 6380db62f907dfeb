import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStorage } from '../../src/index.js';
import { io, netClient, network, signedInNetClient, track } from '../support/network.js';

/**
 * The device clock moved by hours while signed in. Lifetimes are measured from local receipt
 * time on the monotonic clock (`performance.now()` by default; here the virtual one), so a
 * clock set back changes nothing and a clock set forward costs one early refresh (the same as
 * waking from sleep): no refresh storm, no sign-out.
 */
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const net = network();

/** Advances in steps of `step`, calling getAccessToken() after each (an app in use). */
async function use(
  c: { client: { getAccessToken(): Promise<string | null> } },
  ms: number,
  step = 5 * SECOND,
) {
  for (let t = 0; t < ms; t += step) {
    await net.time.advance(step);
    const call = track(c.client.getAccessToken());
    await io(() => call.done, 'a call');
  }
}

describe('the device clock jumps while signed in', () => {
  it('set back 3 hours: no refresh before its time, and the proactive refresh still comes on time', async () => {
    const c = await signedInNetClient(net);
    await net.time.advance(60 * SECOND);
    net.time.jumpWall(-3 * HOUR);
    // 900 s tokens refresh 180-225 s before expiry (lead 20% + up to 25% jitter): 675-720 s after receipt.
    await use(c, 600 * SECOND);
    assert.equal(net.proxy.seen.length, 0, 'no early refresh');
    await use(c, 80 * SECOND);
    await io(() => net.fx.tokens.rotations - c.rotations === 1, 'the proactive refresh');
    assert.equal(c.client.state, 'active');
    assert.equal(await c.client.getAccessToken(), net.fx.tokens.currentAccessToken);
    // And the next one on time as well: one refresh per ~700 s, not one per call.
    await use(c, 720 * SECOND);
    assert.equal(net.fx.tokens.rotations - c.rotations, 2);
    assert.equal(c.count('sessionExpired'), 0);
  });

  it('set forward 3 hours: one refresh (as after sleep), then none until the new token is due', async () => {
    const c = await signedInNetClient(net);
    await net.time.advance(60 * SECOND);
    net.time.jumpWall(3 * HOUR);
    const first = track(c.client.getAccessToken());
    await io(() => first.done, 'the first call after the jump');
    await io(() => net.fx.tokens.rotations - c.rotations === 1, 'one refresh');
    for (let i = 0; i < 100; i++) await c.client.getAccessToken();
    await use(c, 600 * SECOND);
    assert.equal(net.fx.tokens.rotations - c.rotations, 1, 'no refresh storm');
    assert.equal(c.client.state, 'active');
    assert.equal(c.count('sessionExpired'), 0);
  });

  it('set back 3 hours, then the app reloads: the stored session keeps its true remaining lifetime', async () => {
    const storage = memoryStorage();
    const c = await signedInNetClient(net, { storage });
    await net.time.advance(60 * SECOND);
    net.time.jumpWall(-3 * HOUR);
    await net.time.advance(SECOND);
    await c.client.refresh(); // written after the jump
    const rotations = net.fx.tokens.rotations;
    c.client.close();
    await net.time.advance(100 * SECOND);
    // A new page: its own time line starts at the (wrong) wall clock.
    const reloaded = netClient(net, { storage });
    await reloaded.client.ready;
    assert.equal(reloaded.client.state, 'active');
    await use(reloaded, 560 * SECOND);
    assert.equal(net.fx.tokens.rotations, rotations, 'not refreshed early');
    await use(reloaded, 80 * SECOND);
    assert.equal(net.fx.tokens.rotations, rotations + 1, 'refreshed on time (675-720 s after the refresh)');
  });
});
