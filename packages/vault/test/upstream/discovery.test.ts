import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTokenVault,
  RefreshDeferred,
  type TokenVault,
  UpstreamUnavailable,
  type VaultLogger,
} from '../../src/index.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

describe('an upstream that is down when the vault starts, then comes up', () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  let vault: TokenVault;
  const clock = new TestClock();
  const logs: string[] = [];
  const logger: VaultLogger = {
    info: (o, m) => logs.push(JSON.stringify([o, m])),
    warn: (o, m) => logs.push(JSON.stringify([o, m])),
    error: (o, m) => logs.push(JSON.stringify([o, m])),
  };
  // Timers run on an injected scheduler: the test fires them.
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const pending = () => timers.filter((t) => !t.cancelled);

  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: 600 });
    db = tempDb();
    up.proxy.down = true;
    vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys: makeKeys(),
      clock,
      random: () => 0.5,
      logger,
      cleanupIntervalMs: 0,
      redirectUri: 'http://127.0.0.1:9/callback',
      setTimer: (fn, ms) => {
        const t = { fn, ms, cancelled: false };
        timers.push(t);
        return () => {
          t.cancelled = true;
        };
      },
    });
  });
  after(async () => {
    await vault.close();
    await up.close();
    db.cleanup();
  });

  it('starts anyway (the host app does not crash), says why, and schedules a retry', async () => {
    assert.equal(vault.issuer, up.issuer);
    assert.throws(
      () => vault.upstream,
      (err: unknown) => {
        assert.ok(err instanceof UpstreamUnavailable, String(err));
        assert.equal(err.name, 'UpstreamUnavailable');
        assert.equal(err.code, 'UpstreamUnavailable');
        assert.equal(err.retryAt, clock.now() + 750, 'the first backoff: 1 s with equal jitter');
        assert.match(err.message, /has not been discovered yet \(network_error/);
        return true;
      },
    );
    assert.deepEqual(
      pending().map((t) => t.ms),
      [750],
    );
    assert.ok(logs.some((l) => l.includes('upstream discovery failed')));
  });

  it('meanwhile hands out stored tokens that are still fresh; a due refresh is RefreshDeferred', async () => {
    const tokens = await up.signIn(); // straight to the server, not through the proxy
    await vault.save('early', tokens);
    assert.equal(await vault.getValidAccessToken('early'), tokens.access_token);
    clock.advance(601_000);
    await assert.rejects(vault.getValidAccessToken('early'), (err: unknown) => {
      assert.ok(err instanceof RefreshDeferred, String(err));
      assert.match(err.reason, /upstream discovery failed/);
      assert.ok(err.cause instanceof UpstreamUnavailable);
      return true;
    });
    const [status] = await vault.status('early');
    assert.equal(status?.state, 'active', 'the connection itself is fine');
    assert.equal(status?.failures, 0);
    // That call was past retryAt, so it tried once itself (and failed): the next retry is 2 s out.
    assert.deepEqual(
      pending().map((t) => t.ms),
      [1500],
    );
    // Inside the discovery backoff, callers fail fast: no attempt before retryAt.
    const calls = await Promise.allSettled(
      Array.from({ length: 50 }, () => vault.getValidAccessToken('early')),
    );
    assert.ok(calls.every((c) => c.status === 'rejected' && c.reason instanceof RefreshDeferred));
    await assert.rejects(vault.startSignIn('someone'), UpstreamUnavailable);
    await assert.rejects(vault.upstreamReady(), UpstreamUnavailable);
    assert.equal(pending().length, 1, 'no attempt, so no new timer');
  });

  it('the scheduled retry that fails again backs off further (4 s ceiling)', async () => {
    clock.advance(1500);
    const retry = pending()[0]!;
    retry.cancelled = true; // it fires
    retry.fn();
    await assert.rejects(vault.upstreamReady(), UpstreamUnavailable); // the attempt in flight
    assert.deepEqual(
      pending().map((t) => t.ms),
      [3000],
    );
  });

  it('once it is up, the scheduled retry discovers it and the kept token refreshes', async () => {
    up.proxy.down = false;
    clock.advance(3000);
    const retry = pending()[0]!;
    retry.cancelled = true;
    retry.fn();
    const upstream = await vault.upstreamReady();
    assert.equal(upstream.metadata.issuer, up.issuer);
    assert.equal(vault.upstream, upstream);
    assert.equal(pending().length, 0, 'no retry left scheduled');
    assert.ok(logs.some((l) => l.includes('upstream discovered')));
    const before = up.proxy.refreshGrants();
    const token = await vault.getValidAccessToken('early');
    assert.ok(token);
    assert.equal(up.proxy.refreshGrants(), before + 1);
    // The metadata is there now (Tessera has no authorization endpoint: sign-in is refused by it).
    await assert.rejects(vault.startSignIn('someone'), /has no authorization endpoint/);
  });
});

describe('discovery on demand: the first call after retryAt tries again without waiting for the timer', () => {
  it('a caller past retryAt discovers the upstream itself', async () => {
    const up = await startTesseraUpstream();
    const db = tempDb();
    const clock = new TestClock();
    up.proxy.down = true;
    const vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys: makeKeys(),
      clock,
      cleanupIntervalMs: 0,
      setTimer: () => () => {}, // the background retry never fires here
    });
    try {
      await assert.rejects(vault.upstreamReady(), UpstreamUnavailable);
      up.proxy.down = false;
      await assert.rejects(vault.upstreamReady(), UpstreamUnavailable, 'not before retryAt');
      clock.advance(1_000);
      assert.equal((await vault.upstreamReady()).issuer, up.issuer);
    } finally {
      await vault.close();
      await up.close();
      db.cleanup();
    }
  });
});
