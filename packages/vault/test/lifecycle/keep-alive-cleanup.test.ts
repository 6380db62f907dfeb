import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTokenVault,
  DEFAULTS,
  type TokenVault,
  type VaultEvents,
  type VaultLogger,
} from '../../src/index.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

describe('keep-alive, cleanup and logs', () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  const clock = new TestClock();
  let vault: TokenVault;
  const logs: string[] = [];
  const logger: VaultLogger = {
    info: (o, m) => logs.push(JSON.stringify([o, m])),
    warn: (o, m) => logs.push(JSON.stringify([o, m])),
    error: (o, m) => logs.push(JSON.stringify([o, m])),
  };
  // The keep-alive timer runs on an injected scheduler: the test fires it.
  const timers: { fn: () => void; ms: number }[] = [];
  const fire = (ms: number) => {
    const i = timers.findIndex((t) => t.ms === ms);
    assert.ok(i >= 0, `a timer of ${ms} ms`);
    timers.splice(i, 1)[0]!.fn();
  };
  const tokens: string[] = [];

  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: 3600 });
    db = tempDb();
    vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys: makeKeys(),
      clock,
      logger,
      keepAlive: { idleMs: 24 * 3600_000, intervalMs: 3600_000 },
      cleanupIntervalMs: 600_000,
      setTimer: (fn, ms) => {
        timers.push({ fn, ms });
        return () => {};
      },
    });
  });
  after(async () => {
    await vault.close();
    await up.close();
    db.cleanup();
  });

  it('refreshes connections idle past keepAlive.idleMs, on its timer, and leaves fresh ones alone', async () => {
    const idle = await up.signIn();
    await vault.save('idle', idle);
    tokens.push(String(idle.access_token), String(idle.refresh_token));
    clock.advance(23 * 3600_000);
    const recent = await up.signIn();
    await vault.save('recent', recent);
    clock.advance(2 * 3600_000);
    const events: VaultEvents['refreshed'][] = [];
    const off = vault.subscribe('refreshed', (e) => events.push(e));
    const before = up.proxy.refreshGrants();
    fire(3600_000);
    // Bounded polling (at most 10 s) for the timer's refresh to finish.
    for (const deadline = Date.now() + 10_000; events.length === 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    off();
    assert.deepEqual(
      events.map((e) => [e.userId, e.keepAlive]),
      [['idle', true]],
    );
    assert.equal(up.proxy.refreshGrants() - before, 1);
    assert.notEqual(await vault.getValidAccessToken('idle'), idle.access_token);
    // A direct call finds nothing idle now.
    assert.deepEqual(await vault.keepAlive(), { refreshed: 0, failed: 0 });
  });

  it('cleanup deletes sets that can no longer be used or renewed, and old tombstones', async () => {
    await vault.save('no-refresh', { access_token: 'short-lived', token_type: 'Bearer', expires_in: 60 });
    await vault.save('revoked', await up.signIn());
    await vault.signOut('revoked');
    clock.advance(61_000);
    const first = await vault.cleanup();
    assert.equal(first.connections, 1);
    assert.deepEqual(await vault.status('no-refresh'), []);
    assert.equal((await vault.status('revoked'))[0]?.state, 'revoked', 'the tombstone stays for status()');
    // The scheduled cleanup (every cleanupIntervalMs) drops the tombstone once its time has come.
    clock.advance(DEFAULTS.tombstoneTtlMs);
    fire(600_000);
    for (
      const deadline = Date.now() + 10_000;
      (await vault.status('revoked')).length > 0 && Date.now() < deadline;
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await vault.status('revoked'), []);
    assert.ok(
      timers.some((t) => t.ms === 600_000),
      'and schedules itself again',
    );
  });

  it('logs never show a token', async () => {
    // Make the vault log: a failed refresh, then a reauthentication.
    const t = await up.signIn();
    tokens.push(String(t.access_token), String(t.refresh_token));
    await vault.save('logged', t);
    clock.advance(3601_000);
    up.proxy.down = true;
    await assert.rejects(vault.getValidAccessToken('logged'));
    up.proxy.down = false;
    up.proxy.cannedResponses.push({ status: 400, body: { error: 'invalid_grant' } });
    clock.advance(DEFAULTS.retryMaxMs);
    await assert.rejects(vault.getValidAccessToken('logged'), { name: 'ReauthenticationRequired' });
    assert.ok(logs.length >= 2);
    const all = logs.join('\n');
    for (const token of tokens) assert.ok(!all.includes(token));
  });
});
