import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { hasErrorCode, saveClient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Signs alice in through the helper; the login response always carries a refresh token. */
async function signIn(s: TestServer, clientId = 'web') {
  const t = await s.login(clientId);
  assert.ok(t.refresh_token, 'login returns a refresh token');
  return { ...t, refresh_token: t.refresh_token };
}

const MINUTE = 60_000;

async function jwks(s: TestServer): Promise<{ keys: JWK[] }> {
  const res = await s.tessera.app.inject({ method: 'GET', url: ENDPOINTS.jwks });
  assert.equal(res.statusCode, 200);
  return JSON.parse(res.body) as { keys: JWK[] };
}

const kids = (set: { keys: JWK[] }) => set.keys.map((k) => k.kid).sort();
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const stateOf = (s: TestServer, kid: string | undefined) =>
  s.tessera.ctx.keyRing.list().find((k) => k.kid === kid)?.state;

describe('signing-key rotation', () => {
  it('publishes current and next; next only signs after a rotation; retired keys stay until their tokens expire', async () => {
    const s = await startTestServer();
    try {
      const ring = s.tessera.ctx.keyRing;
      const list = ring.list();
      assert.deepEqual(list.map((k) => k.state).sort(), ['current', 'next']);
      const current = list.find((k) => k.state === 'current')!.kid;
      const next = list.find((k) => k.state === 'next')!.kid;
      assert.notEqual(current, next);

      // Both are published, with what a verifier needs, and no private material.
      const before = await jwks(s);
      assert.deepEqual(kids(before), [current, next].sort());
      for (const k of before.keys) {
        assert.equal(k.use, 'sig');
        assert.equal(k.alg, 'ES256');
        assert.equal(k.d, undefined, 'no private key in the JWKS');
      }

      // The current key signs; the next one does not yet.
      const old = await signIn(s);
      assert.equal(kidOf(old.access_token), current);
      assert.equal(decodeProtectedHeader(old.access_token).typ, 'at+jwt');
      const verify = (token: string, set: { keys: JWK[] }) =>
        jwtVerify(token, createLocalJWKSet(set as never), { currentDate: new Date(s.clock.now()) });
      await verify(old.access_token, before);

      // Rotate: the old next becomes current, the old current is retired, a new next is published.
      const { kid, rotated } = await ring.rotate({ force: true });
      assert.equal(rotated, true);
      assert.equal(kid, next);
      assert.equal(ring.current().kid, next);
      assert.equal(stateOf(s, current), 'retired');
      assert.equal(stateOf(s, next), 'current');
      const newNext = ring.list().find((k) => k.state === 'next')!.kid;
      assert.ok(![current, next].includes(newNext));
      const afterRotation = await jwks(s);
      assert.deepEqual(kids(afterRotation), [current, next, newNext].sort());

      // New tokens are signed with the key that was published before it signed.
      const fresh = await signIn(s);
      assert.equal(kidOf(fresh.access_token), next);
      assert.ok(kids(before).includes(next), 'the signing key was in the JWKS before it signed');
      await verify(fresh.access_token, before);
      const refreshed = await s.refresh(old.refresh_token);
      assert.equal(refreshed.status, 200);
      assert.equal(kidOf(refreshed.body.access_token), next);

      // A token signed by the retired key still verifies and introspects active until it expires.
      s.clock.advance(14 * MINUTE);
      await ring.reload();
      assert.ok(kids(await jwks(s)).includes(current));
      await verify(old.access_token, await jwks(s));
      const stillActive = await s.introspect(old.access_token);
      assert.equal(stillActive.active, true);
      assert.equal(stillActive.jti !== undefined, true);

      s.clock.advance(MINUTE + 1000); // 15 min + 1 s: the old access token has expired
      assert.deepEqual(await s.introspect(old.access_token), { active: false });
      await ring.reload();
      assert.ok(kids(await jwks(s)).includes(current), 'still within the retention (access TTL + 5 min)');

      // After the retention, the retired key leaves the JWKS.
      s.clock.advance(5 * MINUTE);
      await ring.reload();
      assert.deepEqual(kids(await jwks(s)), [next, newNext].sort());
      // And the next rotation deletes it from the store.
      await ring.rotate({ force: true });
      assert.equal(stateOf(s, current), undefined);
      assert.equal(stateOf(s, next), 'retired');
      assert.equal(ring.current().kid, newNext);
      assert.equal(kidOf((await signIn(s)).access_token), newNext);
    } finally {
      await s.close();
    }
  });

  it('refuses to promote a next key younger than the JWKS cache plus the key-ring refresh (90 s)', async () => {
    const s = await startTestServer();
    try {
      const ring = s.tessera.ctx.keyRing;
      const before = ring.current().kid;
      await assert.rejects(ring.rotate(), (err: Error) =>
        hasErrorCode(err, 'ERR_TESSERA_KEY_ROTATION_TOO_SOON'),
      );
      assert.equal(ring.current().kid, before, 'nothing changed');
      s.clock.advance(89_000);
      await assert.rejects(ring.rotate(), /Rotate again in 1 s/);
      s.clock.advance(1000);
      const { rotated } = await ring.rotate();
      assert.equal(rotated, true);
      // The new next key was just published: a second rotation right away is refused again.
      await assert.rejects(ring.rotate(), (err: Error) =>
        hasErrorCode(err, 'ERR_TESSERA_KEY_ROTATION_TOO_SOON'),
      );
    } finally {
      await s.close();
    }
  });

  it('a rotation by another process (shared database) is picked up on reload', async () => {
    const a = await startTestServer();
    const b = await startTestServer({ dbPath: a.dbPath, masterSecret: a.masterSecret });
    try {
      const before = a.tessera.ctx.keyRing.current().kid;
      assert.equal(b.tessera.ctx.keyRing.current().kid, before);
      const { kid } = await b.tessera.ctx.keyRing.rotate({ force: true });
      assert.notEqual(kid, before);
      // Until it reloads, A still signs with its key, which B (and the JWKS) still accept.
      const fromA = await signIn(a, 'web');
      assert.equal(kidOf(fromA.access_token), before);
      assert.equal((await b.introspect(fromA.access_token)).active, true);
      await a.tessera.ctx.keyRing.reload();
      assert.equal(kidOf((await signIn(a, 'web')).access_token), kid);
      // A rotation asked of a process with a stale view re-reads the ring first, so it moves one step.
      const stale = await a.tessera.ctx.keyRing.rotate({ force: true });
      assert.equal(stale.rotated, true);
      assert.equal(b.tessera.ctx.keyRing.current().kid, kid, 'B has not reloaded yet');
      await b.tessera.ctx.keyRing.reload();
      assert.equal(b.tessera.ctx.keyRing.current().kid, stale.kid);
    } finally {
      await b.tessera.close();
      await a.close();
    }
  });

  it('retention covers the longest access-token lifetime of any client', async () => {
    const first = await startTestServer();
    await saveClient(first.tessera.ctx, { id: 'long', public: true, accessTokenTtl: 2 * 3600 });
    const { dbPath, masterSecret } = first;
    await first.tessera.close(); // keep the database for the restart
    const s = await startTestServer({ dbPath, masterSecret });
    try {
      const old = await signIn(s, 'long');
      const oldKid = kidOf(old.access_token);
      await s.tessera.ctx.keyRing.rotate({ force: true });
      s.clock.advance(110 * MINUTE);
      await s.tessera.ctx.keyRing.reload();
      assert.ok(kids(await jwks(s)).includes(oldKid!), 'published while its 2-hour tokens live');
      assert.equal((await s.introspect(old.access_token)).active, true);
      s.clock.advance(11 * MINUTE);
      assert.deepEqual(await s.introspect(old.access_token), { active: false });
    } finally {
      await s.close();
      await first.close().catch(() => undefined); // removes its temp folder
    }
  });
});
