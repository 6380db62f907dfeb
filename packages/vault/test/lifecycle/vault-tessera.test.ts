import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import {
  createTokenVault,
  DecryptionFailed,
  ReauthenticationRequired,
  RefreshDeferred,
  type TokenVault,
  type VaultEvents,
} from '../../src/index.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import { databaseBytes, makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

describe("the vault against Tessera's own server (rotation with a grace period)", () => {
  let up: TesseraUpstream;
  let db: ReturnType<typeof tempDb>;
  let clock: TestClock;
  let vault: TokenVault;
  const keys = makeKeys(['k1']);
  const handedOut: string[] = [];

  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: 600 });
    db = tempDb();
    clock = new TestClock();
    vault = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys,
      clock,
      random: () => 0.5,
    });
  });
  after(async () => {
    await vault.close();
    await up.close();
    db.cleanup();
  });
  beforeEach(() => {
    up.proxy.down = false;
  });

  async function signIn(userId: string) {
    const tokens = await up.signIn();
    handedOut.push(String(tokens.access_token), String(tokens.refresh_token));
    await vault.save(userId, tokens);
    return tokens;
  }

  it('discovers the RFC 8414 metadata through openid-client', () => {
    assert.equal(vault.issuer, up.issuer);
    assert.equal(vault.upstream.metadata.token_endpoint, `${up.issuer}${ENDPOINTS.token}`);
  });

  it('hands out the saved token while it is fresh, without asking the upstream', async () => {
    const tokens = await signIn('fresh');
    const before = up.proxy.refreshGrants();
    assert.equal(await vault.getValidAccessToken('fresh'), tokens.access_token);
    clock.advance(60_000);
    assert.equal(await vault.getValidAccessToken('fresh'), tokens.access_token);
    assert.equal(up.proxy.refreshGrants(), before);
    const [status] = await vault.status('fresh');
    assert.equal(status?.state, 'active');
    assert.equal(status?.hasRefreshToken, true);
  });

  it('200 concurrent callers at expiry: exactly one upstream refresh, and all get the new token', async () => {
    const tokens = await signIn('many');
    const events: VaultEvents['refreshed'][] = [];
    const off = vault.subscribe('refreshed', (e) => events.push(e));
    const before = await up.refreshes();
    const seenBefore = up.proxy.refreshGrants();
    clock.advance(601_000);
    const results = await Promise.all(Array.from({ length: 200 }, () => vault.getValidAccessToken('many')));
    off();
    const after = await up.refreshes();
    assert.equal(after.rotated - before.rotated, 1, 'one rotation counted at the upstream');
    assert.equal(after.grace - before.grace, 0);
    assert.equal(up.proxy.refreshGrants() - seenBefore, 1, 'one refresh request reached the upstream');
    assert.ok(results.every((t) => t === results[0]));
    assert.notEqual(results[0], tokens.access_token);
    handedOut.push(results[0]!);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.rotated, true);
    const coalesced = await vault.metrics.coalesced.get();
    assert.ok((coalesced.values[0]?.value ?? 0) >= 199);
  });

  it('refreshes ahead of expiry with the lead time (20% of the lifetime, at most 5 minutes, plus jitter)', async () => {
    const tokens = await signIn('lead');
    const before = up.proxy.refreshGrants();
    clock.advance(600_000 - 6 * 60_000); // 6 minutes before expiry: not yet due
    assert.equal(await vault.getValidAccessToken('lead'), tokens.access_token);
    assert.equal(up.proxy.refreshGrants(), before);
    // The lead of a 10-minute token is min(5 min, 2 min) * (1 + 0.25 * jitter) <= 2.5 min: 3 min before is not due.
    clock.advance(3 * 60_000);
    assert.equal(await vault.getValidAccessToken('lead'), tokens.access_token);
    clock.advance(60_000); // 2 minutes before expiry: due
    const next = await vault.getValidAccessToken('lead');
    assert.notEqual(next, tokens.access_token);
    assert.equal(up.proxy.refreshGrants(), before + 1);
    handedOut.push(next);
  });

  it('a response lost after the upstream rotated is recovered with the same refresh token (grace period)', async () => {
    await signIn('lost');
    const before = await up.refreshes();
    up.proxy.loseResponses = 1;
    clock.advance(601_000);
    const token = await vault.getValidAccessToken('lost');
    handedOut.push(token);
    const after = await up.refreshes();
    assert.equal(after.rotated - before.rotated, 1, 'the first request rotated');
    assert.equal(after.grace - before.grace, 1, 'the retry got the same child within the grace period');
    // The recovered set works: the next refresh rotates normally (no reuse detected).
    clock.advance(601_000);
    const again = await vault.getValidAccessToken('lost');
    assert.notEqual(again, token);
    assert.equal((await up.refreshes()).failed - after.failed, 0);
    const retries = await vault.metrics.lostResponseRetries.get();
    assert.ok((retries.values[0]?.value ?? 0) >= 1);
  });

  it('upstream down: backoff with the set kept, then the same session refreshes when it is back', async () => {
    const tokens = await signIn('down');
    const failures: VaultEvents['refreshFailed'][] = [];
    const off = vault.subscribe('refreshFailed', (e) => failures.push(e));
    const changes: string[] = [];
    const offStates = vault.subscribe('stateChanged', (e) => {
      if (e.userId === 'down') changes.push(`${e.from}->${e.to}`);
    });
    clock.advance(601_000);
    up.proxy.down = true;
    await assert.rejects(vault.getValidAccessToken('down'), (err: unknown) => {
      assert.ok(err instanceof RefreshDeferred, String(err));
      assert.equal(err.code, 'RefreshDeferred');
      assert.ok(err.retryAt > clock.now());
      return true;
    });
    const [status] = await vault.status('down');
    assert.equal(status?.state, 'refresh_backoff');
    assert.equal(status?.failures, 1);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.kind, 'network');
    // Inside the backoff nobody asks the upstream again.
    const seen = up.proxy.seen.length;
    await assert.rejects(vault.getValidAccessToken('down'), RefreshDeferred);
    assert.equal(up.proxy.seen.length, seen);
    // A second failure doubles the delay (1 s, then 2 s, with equal jitter).
    clock.advance(status!.retryAt! - clock.now());
    await assert.rejects(vault.getValidAccessToken('down'), RefreshDeferred);
    const [second] = await vault.status('down');
    assert.equal(second?.failures, 2);
    assert.ok(second!.retryAt! - clock.now() >= 1_000);
    // Back up: the kept refresh token still works.
    up.proxy.down = false;
    clock.advance(second!.retryAt! - clock.now());
    const token = await vault.getValidAccessToken('down');
    assert.notEqual(token, tokens.access_token);
    handedOut.push(token);
    const [healed] = await vault.status('down');
    assert.equal(healed?.state, 'active');
    assert.equal(healed?.failures, 0);
    off();
    offStates();
    assert.deepEqual(changes, ['active->refresh_backoff', 'refresh_backoff->active']);
  });

  it('a 503 with Retry-After is honoured', async () => {
    await signIn('busy');
    clock.advance(601_000);
    up.proxy.cannedResponses.push({
      status: 503,
      body: { error: 'temporarily_unavailable' },
      headers: { 'retry-after': '120' },
    });
    await assert.rejects(vault.getValidAccessToken('busy'), RefreshDeferred);
    const [status] = await vault.status('busy');
    assert.ok(status!.retryAt! - clock.now() >= 120_000);
    assert.equal(status?.lastError?.error, 'temporarily_unavailable');
    clock.advance(120_000);
    handedOut.push(await vault.getValidAccessToken('busy'));
  });

  it("a Retry-After given as an HTTP date is measured on the vault's clock, not the wall clock", async () => {
    await signIn('busy-date');
    clock.advance(601_000);
    // Five minutes ahead on the virtual clock (which runs months behind the wall clock here).
    const at = new Date(clock.now() + 300_000).toUTCString();
    assert.ok(Date.parse(at) < Date.now(), 'the date is already past on the wall clock');
    up.proxy.cannedResponses.push({
      status: 503,
      body: { error: 'temporarily_unavailable' },
      headers: { 'retry-after': at },
    });
    await assert.rejects(vault.getValidAccessToken('busy-date'), RefreshDeferred);
    const [status] = await vault.status('busy-date');
    const wait = status!.retryAt! - clock.now();
    assert.ok(wait >= 299_000 && wait <= 301_000, `waits ${wait} ms`);
    const seen = up.proxy.seen.length;
    clock.advance(wait - 1);
    await assert.rejects(vault.getValidAccessToken('busy-date'), RefreshDeferred);
    assert.equal(up.proxy.seen.length, seen, 'nothing asked before the date');
    clock.advance(1);
    handedOut.push(await vault.getValidAccessToken('busy-date'));
  });

  it('invalid_grant: ReauthenticationRequired, the set deleted, and later calls never ask the upstream', async () => {
    const tokens = await signIn('gone');
    // The session ends at the upstream (an admin revoked it).
    const revoke = await up.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.revocation,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: encodeBasicCredentials('backend', BACKEND_SECRET),
      },
      payload: new URLSearchParams({ token: String(tokens.refresh_token) }).toString(),
    });
    assert.equal(revoke.statusCode, 200);
    const events: VaultEvents['reauthenticationRequired'][] = [];
    const off = vault.subscribe('reauthenticationRequired', (e) => events.push(e));
    clock.advance(601_000);
    await assert.rejects(vault.getValidAccessToken('gone'), (err: unknown) => {
      assert.ok(err instanceof ReauthenticationRequired);
      assert.equal(err.name, 'ReauthenticationRequired');
      assert.equal(err.code, 'ReauthenticationRequired');
      assert.equal(err.userId, 'gone');
      assert.equal(err.upstreamError.error, 'invalid_grant');
      assert.ok(!err.message.includes(String(tokens.refresh_token)));
      return true;
    });
    off();
    assert.equal(events.length, 1);
    const [status] = await vault.status('gone');
    assert.equal(status?.state, 'needs_reauthorization');
    assert.equal(status?.expiresAt, undefined, 'no token is kept');
    assert.equal(status?.lastError?.error, 'invalid_grant');
    const seen = up.proxy.seen.length;
    await assert.rejects(vault.getValidAccessToken('gone'), ReauthenticationRequired);
    assert.equal(up.proxy.seen.length, seen, 'the second call did not ask the upstream');
    // Signing in again brings the connection back.
    await signIn('gone');
    assert.ok(await vault.getValidAccessToken('gone'));
  });

  it('a user never saved: ReauthenticationRequired without asking the upstream', async () => {
    const seen = up.proxy.seen.length;
    await assert.rejects(vault.getValidAccessToken('nobody'), (err: unknown) => {
      assert.ok(err instanceof ReauthenticationRequired);
      assert.equal(err.upstreamError.error, 'no_tokens');
      return true;
    });
    assert.equal(up.proxy.seen.length, seen);
  });

  it('signOut revokes at the upstream (RFC 7009) and deletes the set', async () => {
    const tokens = await signIn('leaving');
    const revoked: VaultEvents['revoked'][] = [];
    const off = vault.subscribe('revoked', (e) => revoked.push(e));
    assert.deepEqual(await vault.signOut('leaving'), { revokedUpstream: true });
    off();
    assert.equal(revoked.length, 1);
    // The upstream no longer refreshes that token.
    const refresh = await up.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.token,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: encodeBasicCredentials('backend', BACKEND_SECRET),
      },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: String(tokens.refresh_token),
      }).toString(),
    });
    assert.equal(refresh.statusCode, 400);
    const [status] = await vault.status('leaving');
    assert.equal(status?.state, 'revoked');
    await assert.rejects(vault.getValidAccessToken('leaving'), ReauthenticationRequired);
  });

  it('several connections per user, each with its own state', async () => {
    const a = await up.signIn('alice');
    const b = await up.signIn('bob');
    await vault.save('multi', a, { connection: 'work' });
    await vault.save('multi', b, { connection: 'personal' });
    assert.equal(await vault.getValidAccessToken('multi', { connection: 'work' }), a.access_token);
    assert.equal(await vault.getValidAccessToken('multi', { connection: 'personal' }), b.access_token);
    await vault.signOut('multi', { connection: 'work' });
    const states = (await vault.status('multi')).map((s) => [s.connection, s.state]);
    assert.deepEqual(states, [
      ['personal', 'active'],
      ['work', 'revoked'],
    ]);
  });

  it('a tampered ciphertext fails with DecryptionFailed, never a token or a TypeError', async () => {
    await signIn('tampered');
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(db.path);
    const row = raw
      .prepare("SELECT access_token FROM tessera_vault_connections WHERE user_id = 'tampered'")
      .get() as { access_token: string };
    const parts = row.access_token.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    parts[3] = body.toString('base64url');
    raw
      .prepare("UPDATE tessera_vault_connections SET access_token = ? WHERE user_id = 'tampered'")
      .run(parts.join('.'));
    raw.close();
    await assert.rejects(vault.getValidAccessToken('tampered'), (err: unknown) => {
      assert.ok(err instanceof DecryptionFailed, String(err));
      assert.equal(err.name, 'DecryptionFailed');
      assert.equal(err.code, 'DecryptionFailed');
      assert.equal(err.reason, 'authentication_failed');
      assert.equal(err.where.column, 'access_token');
      return true;
    });
    const [status] = await vault.status('tampered');
    assert.equal(status?.decryption, 'authentication_failed');
  });

  it('the database file holds no token in plaintext', async () => {
    const bytes = databaseBytes(db.dir);
    assert.ok(handedOut.length > 10);
    for (const token of handedOut) {
      assert.equal(bytes.includes(Buffer.from(token)), false, 'a token appears in the database bytes');
      // Nor any long slice of it (e.g. a JWT's payload without its signature).
      assert.equal(bytes.includes(Buffer.from(token.slice(4, 40))), false);
    }
  });

  it('client authentication: client_secret_basic by default, client_secret_post when asked', async () => {
    const post = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      clientAuth: 'client_secret_post',
      database: db.path,
      keys,
      clock,
      connection: 'post',
    });
    try {
      await post.save('poster', await up.signIn());
      await vault.save('basic', await up.signIn());
      clock.advance(601_000);
      const from = up.proxy.posts.length;
      await post.getValidAccessToken('poster');
      await vault.getValidAccessToken('basic');
      const [viaPost, viaBasic] = up.proxy.posts.slice(from).filter((p) => p.path === ENDPOINTS.token);
      assert.ok(viaPost?.params.includes('client_secret'), 'the secret in the form body');
      assert.ok(!viaBasic?.params.includes('client_secret'), 'the secret in the Authorization header');
    } finally {
      await post.close();
    }
  });

  it("registers its metrics on a registry the app passes, e.g. the server's own", async () => {
    const registry = up.tessera.ctx.metrics.registry;
    const a = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys,
      clock,
      registry,
    });
    const b = await createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database: db.path,
      keys,
      clock,
      registry,
      connection: 'second',
    });
    await a.save('on-server-registry', await up.signIn());
    clock.advance(601_000);
    await a.getValidAccessToken('on-server-registry');
    const res = await up.tessera.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /tessera_vault_refresh_total\{result="refreshed"\} [1-9]/);
    assert.match(res.body, /tessera_refresh_total/, "beside the server's own metrics");
    await a.close();
    await b.close();
  });

  it('exposes Prometheus metrics without user labels', async () => {
    const text = await vault.metrics.registry.metrics();
    assert.match(text, /tessera_vault_refresh_total\{result="refreshed"\} \d+/);
    assert.match(text, /tessera_vault_connections\{state="active"\} \d+/);
    assert.match(text, /tessera_vault_reauthentication_required_total \d+/);
    assert.ok(
      !/user/i.test(
        text
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n'),
      ),
    );
  });
});
