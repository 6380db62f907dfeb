import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTesseraClient, type TokenResponse } from '@tessera/client';
import { settle, VirtualTime } from '@tessera/client/testing';
import { createSessionStore, userClaims } from '@tessera/react';

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (n: number) =>
  `${part({ alg: 'none' })}.${part({ sub: 'u1', name: 'Ada', sid: 's1', iat: n, exp: n + 900, jti: `j${n}` })}.sig`;

/** A token endpoint that rotates, or answers what `next` says. */
function server() {
  let n = 0;
  const s = {
    next: [] as ('network' | 'revoked')[],
    issue: (): TokenResponse => ({
      access_token: jwt(++n),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: `rt-${n}`,
      scope: 'api',
      revocation_endpoint: 'https://auth.test/oauth/revoke',
    }),
    fetch: (async () => {
      const scripted = s.next.shift();
      if (scripted === 'network') throw new TypeError('fetch failed');
      if (scripted === 'revoked') {
        return Response.json({ error: 'invalid_grant', error_code: 'token_revoked' }, { status: 400 });
      }
      return Response.json(s.issue());
    }) as typeof fetch,
  };
  return s;
}

async function setup() {
  const time = new VirtualTime();
  const srv = server();
  const client = createTesseraClient({
    tokenEndpoint: 'https://auth.test/oauth/token',
    clientId: 'web',
    clock: time,
    scheduler: time,
    fetch: srv.fetch,
  });
  const store = createSessionStore(client);
  let notified = 0;
  const unsubscribe = store.subscribe(() => notified++);
  await settle();
  return { time, srv, client, store, unsubscribe, notified: () => notified };
}

describe('createSessionStore (what the hooks read)', () => {
  it('loading, then signed out; a sign-in brings the user and the token', async () => {
    const { client, store, srv } = await setup();
    assert.equal(store.session().status, 'signedOut');
    assert.equal(store.accessToken(), null);
    const tokens = srv.issue();
    await client.signInWithTokens(tokens);
    await settle();
    assert.equal(store.session().status, 'signedIn');
    assert.equal(store.accessToken(), tokens.access_token);
    assert.deepEqual(store.session().user, { sub: 'u1', name: 'Ada', sid: 's1' });
  });

  it('a silent refresh changes the token snapshot only: the session view keeps its identity', async () => {
    const { client, store, srv, time, notified } = await setup();
    await client.signInWithTokens(srv.issue());
    await settle();
    const view = store.session();
    const before = store.accessToken();
    const count = notified();
    await time.advance(800_000); // past the refresh time
    await settle();
    assert.notEqual(store.accessToken(), before);
    assert.equal(store.session(), view, 'same object: useSession() consumers do not re-render');
    assert.equal(notified() - count, 1, 'one notification for one refresh');
  });

  it('offline, then back; expired with the reason; signed out', async () => {
    const { client, store, srv, time } = await setup();
    await client.signInWithTokens(srv.issue());
    srv.next.push('network');
    time.jump(901_000);
    await client.getAccessToken();
    await settle();
    assert.equal(store.session().status, 'offline');
    assert.notEqual(store.accessToken(), null, 'the cached token is still handed out');
    await time.advance(2_000);
    assert.equal(store.session().status, 'signedIn');
    srv.next.push('revoked');
    await client.refresh().catch(() => {});
    await settle();
    assert.equal(store.session().status, 'expired');
    assert.equal(store.session().error?.code, 'token_revoked');
    assert.equal(store.accessToken(), null);
    await client.signInWithTokens(srv.issue());
    await client.signOut();
    await settle();
    assert.equal(store.session().status, 'signedOut');
    assert.equal(store.session().error, null);
  });

  it('listens to the client only while subscribed', async () => {
    const { client, store, srv, unsubscribe, notified } = await setup();
    unsubscribe();
    const count = notified();
    await client.signInWithTokens(srv.issue());
    await settle();
    assert.equal(notified(), count);
    assert.equal(store.session().status, 'signedOut', 'not followed while nobody reads it');
  });
});

describe('userClaims', () => {
  it('reads a JWT’s claims without the per-token ones; null for an opaque token or garbage', () => {
    assert.deepEqual(userClaims(jwt(5)), { sub: 'u1', name: 'Ada', sid: 's1' });
    assert.equal(userClaims('tsa_opaque-handle'), null);
    assert.equal(userClaims('a.%%%.c'), null);
    assert.equal(userClaims(`a.${part([1, 2])}.c`), null);
    const unicode = `a.${Buffer.from(JSON.stringify({ name: 'Zoë 🔑' })).toString('base64url')}.c`;
    assert.deepEqual(userClaims(unicode), { name: 'Zoë 🔑' });
  });
});
