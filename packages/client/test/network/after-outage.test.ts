import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { io, network, signedInNetClient, track } from '../support/network.js';

/**
 * Node (no `online` events) after a long outage: the backoff has grown to its 60 s ceiling.
 * With nobody asking, the next backoff probe finds the network (≤ 60 s); while callers ask, one
 * probe per offlineAfterMs (3 s) finds it sooner, and never more often than that.
 */
const SECOND = 1000;
const net = network();
// A function, so TypeScript does not narrow the state across the awaits that change it.
const isActive = (c: { client: { state: string } }) => c.client.state === 'active';

/** Refused connections for `ms` of virtual time, with `callEvery` ms between calls (0: none). */
async function outage(c: Awaited<ReturnType<typeof signedInNetClient>>, ms: number, callEvery: number) {
  net.proxy.mode = { kind: 'reset' };
  const step = callEvery || SECOND;
  for (let t = 0; t < ms; t += step) {
    const seen = net.proxy.seen.length;
    await net.time.advance(step);
    if (callEvery) {
      const call = track(c.client.getAccessToken());
      await io(() => call.done, 'a call');
    }
    // Let a probe that started finish its real round trip before time moves on.
    await io(
      () => net.proxy.seen.length === seen || c.count('refreshFailed') >= net.proxy.seen.length,
      'a probe',
    );
  }
}

describe('Node after an outage', () => {
  it('with callers asking, the network is found within offlineAfterMs of coming back, with one probe per 3 s at most', async () => {
    const c = await signedInNetClient(net);
    net.time.jump(901 * SECOND);
    await outage(c, 10 * 60 * SECOND, SECOND);
    assert.equal(c.client.state, 'offline');
    const probes = net.proxy.seen.length;
    assert.ok(probes <= 600 / 3 + 1, `${probes} probes in 10 minutes`);
    assert.ok(probes >= 600 / 3 - 10, `${probes} probes in 10 minutes: demand probes`);
    // Back: the next call after at most 3 s starts a probe that succeeds.
    net.proxy.mode = { kind: 'pass' };
    const back = net.time.now();
    for (let i = 0; i < 10 && !isActive(c); i++) {
      await net.time.advance(SECOND);
      const call = track(c.client.getAccessToken());
      await io(() => call.done, 'a call');
      await io(() => c.client.state === 'active' || net.proxy.answered === 0, 'the probe');
    }
    await io(() => c.client.state === 'active', 'recovery');
    const after = net.time.now() - back;
    assert.ok(after <= 3 * SECOND, `recovered ${after} ms after the network came back`);
    console.log(
      `    after a 10-minute outage, with demand: recovered ${after} ms after the network came back`,
    );
    assert.equal(c.count('sessionExpired'), 0);
  });

  it('with nobody asking, the backoff probe (at most 60 s apart) finds it', async () => {
    const c = await signedInNetClient(net);
    net.proxy.mode = { kind: 'reset' };
    net.time.jump(901 * SECOND);
    const first = track(c.client.getAccessToken());
    await io(() => first.done, 'the first call');
    assert.equal(c.client.state, 'offline');
    await outage(c, 10 * 60 * SECOND, 0);
    const probes = net.proxy.seen.length;
    assert.ok(probes >= 10 && probes <= 20, `${probes} backoff probes in 10 minutes`);
    net.proxy.mode = { kind: 'pass' };
    const back = net.time.now();
    for (let i = 0; i < 70 && !isActive(c); i++) {
      await net.time.advance(SECOND);
      await io(() => net.proxy.answered === 0 || c.client.state === 'active', 'a probe');
    }
    await io(() => c.client.state === 'active', 'recovery');
    const after = net.time.now() - back;
    assert.ok(after <= 60 * SECOND, `recovered ${after} ms after the network came back`);
    console.log(`    after a 10-minute outage, no demand: recovered ${after} ms after the network came back`);
  });
});
