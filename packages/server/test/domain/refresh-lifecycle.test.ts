import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { cleanup, revokeToken } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** The session id inside a refresh token (its family id), read through the server's own parser. */
async function sidOf(refreshToken: string): Promise<string> {
  const { parseRefreshToken } = await import('../../src/crypto/refresh-token.js');
  return parseRefreshToken(s.tessera.ctx.keys, refreshToken)!.familyId;
}

let s: TestServer;

/** The refresh rules ("How refresh works" in the README), rule by rule, on virtual time. */
describe('refresh-token lifecycle', () => {
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.close();
  });

  it('rule 1: every successful refresh rotates; the parent becomes rotated and a child is issued', async () => {
    const login = await s.login();
    const r = await s.refresh(login.refresh_token!);
    assert.equal(r.status, 200);
    assert.notEqual(r.body.refresh_token, login.refresh_token);
    assert.match(r.body.refresh_token, /^tsr_[A-Za-z0-9_-]{86}$/);
    const sid = (await s.introspect(r.body.access_token)).sid;
    const lineage = await s.tessera.ctx.stores.sessions.listTokens(sid);
    assert.deepEqual(
      lineage.map((t) => [t.generation, t.status]),
      [
        [0, 'rotated'],
        [1, 'active'],
      ],
    );
    assert.equal(lineage[1]!.parentHash, lineage[0]!.hash);
  });

  it('rule 3: a retry of the immediate parent within grace returns the identical tokens, expires_in shows what is left', async () => {
    const login = await s.login();
    const first = await s.refresh(login.refresh_token!);
    s.clock.advance(2 * MIN);
    const retry = await s.refresh(login.refresh_token!);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.access_token, first.body.access_token);
    assert.equal(retry.body.refresh_token, first.body.refresh_token);
    assert.equal(retry.body.expires_in, first.body.expires_in - 120);
    assert.equal(retry.body.refresh_token_expires_in, first.body.refresh_token_expires_in - 120);
    // The child still works normally afterwards.
    const next = await s.refresh(first.body.refresh_token);
    assert.equal(next.status, 200);
  });

  it('rule 3: the grace retry is for the same client only', async () => {
    const login = await s.login();
    const first = await s.refresh(login.refresh_token!);
    const other = await s.token({
      grant_type: 'refresh_token',
      client_id: 'mobile',
      refresh_token: login.refresh_token!,
    });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');
    assert.equal(other.body.error_code, 'client_mismatch');
    // A mismatch does not revoke: the owner's child still refreshes.
    assert.equal((await s.refresh(first.body.refresh_token)).status, 200);
  });

  it('rule 4: reuse after the grace period revokes the whole family, including the newest token and the access tokens', async () => {
    const login = await s.login();
    const first = await s.refresh(login.refresh_token!);
    assert.equal((await s.introspect(first.body.access_token)).active, true);
    s.clock.advance(5 * MIN + 1);
    const reuse = await s.refresh(login.refresh_token!);
    assert.equal(reuse.status, 400);
    assert.deepEqual(reuse.body, {
      error: 'invalid_grant',
      error_description: 'Token has been rotated and grace period has expired',
      error_code: 'token_reused',
      retryable: false,
      session_end_reason: 'reuse_detected',
    });
    const newest = await s.refresh(first.body.refresh_token);
    assert.equal(newest.body.error_code, 'token_revoked');
    assert.equal(newest.body.session_end_reason, 'reuse_detected', 'the client is told why');
    assert.deepEqual(await s.introspect(first.body.access_token), { active: false });
    assert.deepEqual(await s.introspect(login.access_token), { active: false });
    assert.deepEqual(await s.introspect(first.body.refresh_token), { active: false });
    const events = await s.tessera.ctx.stores.events.list({ type: 'token.reuse.detected' });
    assert.ok(events.some((e) => e.reason === 'token_reused'));
  });

  it('rule 4: an older ancestor is reuse at any time, even inside the grace period', async () => {
    const login = await s.login();
    const g1 = await s.refresh(login.refresh_token!);
    await s.refresh(g1.body.refresh_token);
    // login's token is the grandparent of the current one: no grace.
    const reuse = await s.refresh(login.refresh_token!);
    assert.equal(reuse.body.error_code, 'token_reused');
  });

  it('rule 4: a parent whose child has itself been rotated is reuse, even inside the grace period', async () => {
    const login = await s.login();
    const g1 = await s.refresh(login.refresh_token!);
    const g2 = await s.refresh(g1.body.refresh_token);
    assert.equal(g2.status, 200);
    s.clock.advance(1000);
    const reuse = await s.refresh(g1.body.refresh_token);
    // g1 is the immediate parent of g2 and still in grace: the same answer as before.
    assert.equal(reuse.status, 200);
    assert.equal(reuse.body.refresh_token, g2.body.refresh_token);
    const g3 = await s.refresh(g2.body.refresh_token);
    assert.equal(g3.status, 200);
    // Now g1's child (g2) has been rotated: presenting g1 is reuse.
    const late = await s.refresh(g1.body.refresh_token);
    assert.equal(late.body.error_code, 'token_reused');
    assert.equal((await s.refresh(g3.body.refresh_token)).body.error_code, 'token_revoked');
  });

  it('rule 5: a revoke racing a refresh in flight ends with the family revoked', async () => {
    for (let i = 0; i < 10; i++) {
      const login = await s.login();
      const web = (await s.tessera.ctx.stores.directory.findClient('web'))!;
      const [refreshed] = await Promise.allSettled([
        s.refresh(login.refresh_token!),
        revokeToken(s.tessera.ctx, { token: login.refresh_token!, client: web, initiator: 'client' }),
      ]);
      const sid = (await s.introspect(login.access_token)).sid ?? (await sidOf(login.refresh_token!));
      const family = await s.tessera.ctx.stores.sessions.findFamily(sid);
      assert.equal(family?.status, 'revoked');
      if (refreshed.status === 'fulfilled' && refreshed.value.status === 200) {
        assert.deepEqual(await s.introspect(refreshed.value.body.refresh_token), { active: false });
        assert.deepEqual(await s.introspect(refreshed.value.body.access_token), { active: false });
      }
    }
  });

  it('rule 6: an idle-expired token fails with token_expired and revokes nothing', async () => {
    const login = await s.login();
    s.clock.advance(14 * DAY + 1);
    const r = await s.refresh(login.refresh_token!);
    assert.equal(r.status, 400);
    assert.equal(r.body.error_code, 'token_expired');
    const family = await s.tessera.ctx.stores.sessions.findFamily(await sidOf(login.refresh_token!));
    assert.equal(family?.status, 'active');
  });

  it('rule 6: the absolute lifetime ends the session even when refreshed daily', async () => {
    let rt = (await s.login()).refresh_token!;
    for (let day = 0; day < 29; day++) {
      s.clock.advance(DAY);
      const r = await s.refresh(rt);
      assert.equal(r.status, 200, `day ${day}`);
      rt = r.body.refresh_token;
      assert.ok(r.body.refresh_token_expires_in <= (29 - day) * 86400);
    }
    s.clock.advance(DAY + 1);
    const r = await s.refresh(rt);
    assert.equal(r.body.error_code, 'token_expired');
    assert.match(r.body.error_description, /maximum lifetime/);
  });

  it('rule 7: after cleanup prunes rows, a replayed pruned ancestor is still caught as reuse', async () => {
    const login = await s.login();
    const g1 = await s.refresh(login.refresh_token!);
    // Keep the family alive by refreshing every 10 days; the first token idles out and is pruned.
    s.clock.advance(10 * DAY);
    const g2 = await s.refresh(g1.body.refresh_token);
    s.clock.advance(10 * DAY);
    const g3 = await s.refresh(g2.body.refresh_token);
    assert.equal(g3.status, 200);
    const result = await cleanup(s.tessera.ctx);
    assert.ok(result.tokensDeleted >= 1);
    const sid = (await s.introspect(g3.body.access_token)).sid;
    const lineage = await s.tessera.ctx.stores.sessions.listTokens(sid);
    assert.ok(!lineage.some((t) => t.generation === 0), 'generation 0 was pruned');
    const replay = await s.refresh(login.refresh_token!);
    assert.equal(replay.body.error_code, 'token_reused');
    assert.equal((await s.refresh(g3.body.refresh_token)).body.error_code, 'token_revoked');
  });

  it('a token naming a live family with a tag we never made is invalid_token, and the family lives on', async () => {
    const login = await s.login();
    const g1 = await s.refresh(login.refresh_token!);
    // The family id of a real session, then a made-up secret and tag: right shape, not ours.
    const raw = Buffer.from(g1.body.refresh_token.slice('tsr_'.length), 'base64url');
    const { randomBytes } = await import('node:crypto');
    randomBytes(48).copy(raw, 16);
    const forged = `tsr_${raw.toString('base64url')}`;
    const before = (await s.tessera.ctx.stores.sessions.listTokens(await sidOf(g1.body.refresh_token)))
      .length;
    for (const token of [
      forged,
      `tsr_${Buffer.concat([raw.subarray(0, 48), Buffer.alloc(16)]).toString('base64url')}`,
    ]) {
      const r = await s.refresh(token);
      assert.equal(r.status, 400);
      assert.equal(r.body.error_code, 'invalid_token');
    }
    const sid = await sidOf(g1.body.refresh_token);
    assert.equal((await s.tessera.ctx.stores.sessions.findFamily(sid))?.status, 'active');
    assert.equal((await s.tessera.ctx.stores.sessions.listTokens(sid)).length, before);
    // Its real token still rotates.
    assert.equal((await s.refresh(g1.body.refresh_token)).status, 200);
  });

  it('rule 7: a pruned token of an expired family is token_expired, and after the absolute expiry too', async () => {
    const login = await s.login();
    s.clock.advance(15 * DAY);
    await cleanup(s.tessera.ctx);
    assert.equal((await s.refresh(login.refresh_token!)).body.error_code, 'token_expired');
    s.clock.advance(16 * DAY);
    const result = await cleanup(s.tessera.ctx);
    assert.ok(result.familiesDeleted >= 1);
    assert.equal((await s.refresh(login.refresh_token!)).body.error_code, 'token_expired');
  });

  it('cleanup erases the sealed grace response once the grace period is over', async () => {
    const login = await s.login();
    const first = await s.refresh(login.refresh_token!);
    const sid = (await s.introspect(first.body.access_token)).sid;
    const before = await s.tessera.ctx.stores.sessions.listTokens(sid);
    assert.ok(before[0]!.graceResponse);
    s.clock.advance(6 * MIN);
    await cleanup(s.tessera.ctx);
    const afterCleanup = await s.tessera.ctx.stores.sessions.listTokens(sid);
    assert.equal(afterCleanup[0]!.graceResponse, null);
  });

  it('per-client lifetimes override the server defaults', async () => {
    const { saveClient } = await import('../../src/index.js');
    await saveClient(s.tessera.ctx, {
      id: 'short',
      public: true,
      accessTokenTtl: 30,
      refreshGracePeriod: 10,
    });
    const login = await s.login('short');
    assert.equal(login.expires_in, 30);
    const first = await s.token({
      grant_type: 'refresh_token',
      client_id: 'short',
      refresh_token: login.refresh_token!,
    });
    s.clock.advance(11_000);
    const late = await s.token({
      grant_type: 'refresh_token',
      client_id: 'short',
      refresh_token: login.refresh_token!,
    });
    assert.equal(first.status, 200);
    assert.equal(late.body.error_code, 'token_reused');
  });

  it('a refresh may narrow the scope but never widen it', async () => {
    const login = await s.login();
    assert.equal(login.scope, 'openid profile');
    const narrowed = await s.refresh(login.refresh_token!, { scope: 'openid' });
    assert.equal(narrowed.body.scope, 'openid');
    const widened = await s.refresh(narrowed.body.refresh_token, { scope: 'openid admin' });
    assert.equal(widened.body.error, 'invalid_scope');
  });

  it('nonce: a reused nonce is replay_detected; a client that requires nonces must send one', async () => {
    const { saveClient } = await import('../../src/index.js');
    await saveClient(s.tessera.ctx, { id: 'strict', public: true, requireNonce: true });
    const login = await s.login('strict');
    const form = { grant_type: 'refresh_token', client_id: 'strict' };
    const missing = await s.token({ ...form, refresh_token: login.refresh_token! });
    assert.equal(missing.body.error, 'invalid_request');
    const nonce = 'n-0123456789abcdef';
    const ok = await s.token({ ...form, refresh_token: login.refresh_token!, nonce });
    assert.equal(ok.status, 200);
    const replay = await s.token({ ...form, refresh_token: ok.body.refresh_token, nonce });
    assert.equal(replay.body.error_code, 'replay_detected');
    // The replayed request changed nothing: the token still rotates with a fresh nonce.
    const fresh = await s.token({
      ...form,
      refresh_token: ok.body.refresh_token,
      nonce: 'n-fedcba9876543210',
    });
    assert.equal(fresh.status, 200);
  });

  it('a disabled user can no longer refresh: session_expired, and the session ends', async () => {
    const { createUser } = await import('../../src/index.js');
    const bob = await createUser(s.tessera.ctx, { username: 'bob', password: 'bob-password-1' });
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      payload: { username: 'bob', password: 'bob-password-1', client_id: 'web' },
    });
    const rt = res.json().refresh_token as string;
    await s.tessera.ctx.stores.directory.updateUser({ ...bob, disabled: true });
    const r = await s.refresh(rt);
    assert.equal(r.body.error_code, 'session_expired');
    const families = await s.tessera.ctx.stores.sessions.listFamilies({ userId: bob.id });
    assert.equal(families[0]?.status, 'revoked');
  });
});
