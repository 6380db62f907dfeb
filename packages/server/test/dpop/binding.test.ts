import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { decodeJwt } from 'jose';
import { saveClient } from '../../src/index.js';
import { dpopKey, type TestDpopKey } from '../helpers/dpop.js';
import { basic, PASSWORD, SECRET, startTestServer, type TestServer } from '../helpers/test-server.js';

// Sessions bound to a DPoP key (RFC 9449 §5): a stolen refresh token is useless without the key.

describe('DPoP-bound sessions', () => {
  let s: TestServer;
  let key: TestDpopKey;
  let other: TestDpopKey;
  let issuer: string;
  const now = () => Math.floor(s.clock.now() / 1000);
  const tokenUrl = () => `${issuer}${ENDPOINTS.token}`;

  before(async () => {
    s = await startTestServer();
    issuer = s.tessera.ctx.config.issuer;
    for (const [id, format] of [
      ['dpop-spa', null],
      ['dpop-opaque', 'opaque'],
      ['dpop-paseto', 'paseto'],
    ] as const) {
      await saveClient(s.tessera.ctx, {
        id,
        public: true,
        dpop: true,
        grantTypes: ['refresh_token'],
        defaultScope: 'profile',
        accessTokenFormat: format,
      });
    }
    await saveClient(s.tessera.ctx, {
      id: 'dpop-backend',
      public: false,
      secret: SECRET,
      dpop: true,
      grantTypes: ['password', 'refresh_token'],
    });
    key = await dpopKey();
    other = await dpopKey();
  });
  after(() => s.close());

  async function login(clientId: string, k: TestDpopKey | null = key) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (k) headers.dpop = await k.proof('POST', `${issuer}${ENDPOINTS.login}`, { iat: now() });
    const res = await s.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: clientId }),
      headers,
    });
    return { status: res.statusCode, body: res.json() };
  }
  async function refresh(clientId: string, refreshToken: string, k: TestDpopKey | undefined, proof?: string) {
    const headers: Record<string, string> = {};
    const dpop = proof ?? (k ? await k.proof('POST', tokenUrl(), { iat: now() }) : undefined);
    if (dpop) headers.dpop = dpop;
    const res = await s.token(
      { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken },
      headers,
    );
    return { ...res, proof: dpop };
  }
  const familyOf = async (refreshToken: string) => {
    const sid = (await s.introspect(refreshToken)).sid as string;
    return s.tessera.ctx.stores.sessions.findFamily(sid);
  };
  const mismatches = (familyId: string) =>
    s.tessera.ctx.stores.events.list({ familyId, type: 'dpop.key_mismatch' });

  it('login with a proof binds the session: token_type DPoP, cnf.jkt in the JWT', async () => {
    const res = await login('dpop-spa');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(res.body.access_token).cnf, { jkt: key.jkt });
    assert.equal((await familyOf(res.body.refresh_token))?.dpopJkt, key.jkt);
  });

  it('every refresh must prove the same key; the new access token carries cnf.jkt', async () => {
    const first = (await login('dpop-spa')).body;
    const next = await refresh('dpop-spa', first.refresh_token, key);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(next.body.access_token).cnf, { jkt: key.jkt });
  });

  it('a stolen bound refresh token with another key: refused, family intact, event recorded', async () => {
    const first = (await login('dpop-spa')).body;
    const stolen = await refresh('dpop-spa', first.refresh_token, other);
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body.error, 'invalid_dpop_proof');
    const family = await familyOf(first.refresh_token);
    assert.equal(family?.status, 'active');
    const events = await mismatches(family!.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.reason, 'other_key');
    assert.equal(events[0]?.data?.presentedJkt, other.jkt);
    // The owner refreshes as if nothing happened.
    const own = await refresh('dpop-spa', first.refresh_token, key);
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  it('a bound refresh token without any proof is refused without touching the family', async () => {
    const first = (await login('dpop-spa')).body;
    // A client added with --dpop must send a proof at all…
    const none = await refresh('dpop-spa', first.refresh_token, undefined);
    assert.equal(none.body.error, 'invalid_dpop_proof');
    assert.equal((await familyOf(first.refresh_token))?.status, 'active');
  });

  it('capture and replay of a whole refresh request is refused, before the grace path', async () => {
    const first = (await login('dpop-spa')).body;
    const original = await refresh('dpop-spa', first.refresh_token, key);
    assert.equal(original.status, 200);
    // The same bytes again, within the grace period that would otherwise answer them.
    const replay = await refresh('dpop-spa', first.refresh_token, undefined, original.proof);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_dpop_proof');
    assert.match(replay.body.error_description, /already used/);
    // The captured proof with the new refresh token: refused too.
    const withChild = await refresh('dpop-spa', original.body.refresh_token, undefined, original.proof);
    assert.match(withChild.body.error_description, /already used/);
    assert.equal((await familyOf(original.body.refresh_token))?.status, 'active');
  });

  it('a grace retry with the same key gets the same answer; with another key it is refused, family intact', async () => {
    const first = (await login('dpop-spa')).body;
    const rotated = await refresh('dpop-spa', first.refresh_token, key);
    s.clock.advance(5000);
    const retry = await refresh('dpop-spa', first.refresh_token, key);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.refresh_token, rotated.body.refresh_token);
    assert.equal(retry.body.access_token, rotated.body.access_token);
    assert.equal(retry.body.token_type, 'DPoP');
    const thief = await refresh('dpop-spa', first.refresh_token, other);
    assert.equal(thief.body.error, 'invalid_dpop_proof');
    const family = await familyOf(rotated.body.refresh_token);
    assert.equal(family?.status, 'active');
    assert.equal((await mismatches(family!.id)).length, 1);
    assert.equal((await refresh('dpop-spa', rotated.body.refresh_token, key)).status, 200);
  });

  it('a client without --dpop may send a proof: the access token is bound, the bearer session is not', async () => {
    const first = (await login('web', null)).body;
    assert.equal(first.token_type, 'Bearer');
    const next = await refresh('web', first.refresh_token, key);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(next.body.access_token).cnf, { jkt: key.jkt });
    // The family is not bound on refresh: it was issued as bearer, and stays bearer.
    assert.equal((await familyOf(next.body.refresh_token))?.dpopJkt, null);
    const bearer = await refresh('web', next.body.refresh_token, undefined);
    assert.equal(bearer.status, 200, JSON.stringify(bearer.body));
    assert.equal(bearer.body.token_type, 'Bearer');
    assert.equal(decodeJwt(bearer.body.access_token).cnf, undefined);
  });

  it("a thief refreshing a stolen bearer refresh token with its own key cannot take the session over: the owner's reuse revokes it", async () => {
    const first = (await login('web', null)).body;
    const familyId = (await familyOf(first.refresh_token))!.id;
    const thief = await refresh('web', first.refresh_token, other);
    assert.equal(thief.status, 200, JSON.stringify(thief.body));
    s.clock.advance(360_000); // past the grace period
    // The owner presents the rotated token (as a bearer client does): reuse, the family ends.
    const owner = await refresh('web', first.refresh_token, undefined);
    assert.equal(owner.status, 400, JSON.stringify(owner.body));
    assert.equal(owner.body.error, 'invalid_grant');
    assert.equal(owner.body.session_end_reason, 'reuse_detected');
    assert.equal((await s.tessera.ctx.stores.sessions.findFamily(familyId))?.status, 'revoked');
    // The thief's child is dead too, even with the thief's key.
    const after = await refresh('web', thief.body.refresh_token, other);
    assert.equal(after.body.error, 'invalid_grant');
    assert.equal((await mismatches(familyId)).length, 0);
  });

  it('the same theft against a session bound at sign-in: refused as key mismatch, family intact', async () => {
    const first = (await login('dpop-spa')).body;
    const rotated = await refresh('dpop-spa', first.refresh_token, key);
    s.clock.advance(360_000);
    const thief = await refresh('dpop-spa', first.refresh_token, other);
    assert.equal(thief.body.error, 'invalid_dpop_proof');
    const family = await familyOf(rotated.body.refresh_token);
    assert.equal(family?.status, 'active');
    assert.equal((await mismatches(family!.id)).length, 1);
    assert.equal((await refresh('dpop-spa', rotated.body.refresh_token, key)).status, 200);
  });

  it('a confidential client: password grant and refresh with DPoP and Basic authentication', async () => {
    const auth = { authorization: basic('dpop-backend', SECRET) };
    const first = await s.token(
      { grant_type: 'password', username: 'alice', password: PASSWORD },
      { ...auth, dpop: await key.proof('POST', tokenUrl(), { iat: now() }) },
    );
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.token_type, 'DPoP');
    const next = await s.token(
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token },
      { ...auth, dpop: await key.proof('POST', tokenUrl(), { iat: now() }) },
    );
    assert.equal(next.status, 200, JSON.stringify(next.body));
    const stolen = await s.token(
      { grant_type: 'refresh_token', refresh_token: next.body.refresh_token },
      { ...auth, dpop: await other.proof('POST', tokenUrl(), { iat: now() }) },
    );
    assert.equal(stolen.body.error, 'invalid_dpop_proof');
  });

  it('logout by a bound access token needs a proof of its key (with ath); as Bearer it is refused', async () => {
    const first = (await login('dpop-spa')).body;
    const logout = (headers: Record<string, string>) =>
      s.tessera.app.inject({ method: 'POST', url: ENDPOINTS.logout, headers });
    const asBearer = await logout({ authorization: `Bearer ${first.access_token}` });
    assert.equal(asBearer.statusCode, 400);
    assert.equal(asBearer.json().error, 'invalid_dpop_proof');
    const logoutUrl = `${issuer}${ENDPOINTS.logout}`;
    const noAth = await logout({
      authorization: `DPoP ${first.access_token}`,
      dpop: await key.proof('POST', logoutUrl, { iat: now() }),
    });
    assert.equal(noAth.json().error, 'invalid_dpop_proof');
    const wrongAth = await logout({
      authorization: `DPoP ${first.access_token}`,
      dpop: await key.proof('POST', logoutUrl, { iat: now(), accessToken: `${first.access_token}x` }),
    });
    assert.equal(wrongAth.json().error, 'invalid_dpop_proof');
    assert.match(wrongAth.json().error_description, /ath does not match/);
    const otherKey = await logout({
      authorization: `DPoP ${first.access_token}`,
      dpop: await other.proof('POST', logoutUrl, { iat: now(), accessToken: first.access_token }),
    });
    assert.equal(otherKey.json().error, 'invalid_dpop_proof');
    assert.equal((await familyOf(first.refresh_token))?.status, 'active');
    const proven = await logout({
      authorization: `DPoP ${first.access_token}`,
      dpop: await key.proof('POST', logoutUrl, { iat: now(), accessToken: first.access_token }),
    });
    assert.equal(proven.statusCode, 204, proven.body);
    const sid = decodeJwt(first.access_token).sid as string;
    assert.equal((await s.tessera.ctx.stores.sessions.findFamily(sid))?.status, 'revoked');
  });

  for (const clientId of ['dpop-opaque', 'dpop-paseto']) {
    it(`${clientId}: introspection returns cnf.jkt and token_type DPoP`, async () => {
      const first = (await login(clientId)).body;
      assert.equal(first.token_type, 'DPoP');
      const introspected = await s.introspect(first.access_token);
      assert.equal(introspected.active, true);
      assert.equal(introspected.token_type, 'DPoP');
      assert.deepEqual(introspected.cnf, { jkt: key.jkt });
    });
  }
});
