import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTesseraClient, type TesseraClient } from '../../src/index.js';
import { createFetch } from '../../src/integrations/fetch.js';
import { HttpFixture } from '../support/http-fixture.js';
import { settle } from '../support/virtual-time.js';

let fx: HttpFixture;
let client: TesseraClient;
before(async () => {
  fx = await HttpFixture.start();
});
after(() => fx.stop());
beforeEach(async () => {
  fx.rejectAll = false;
  fx.api.length = 0;
  client = createTesseraClient({ tokenEndpoint: `${fx.origin}/oauth/token`, clientId: 'web' });
  await client.signInWithTokens(fx.tokens.issue());
  fx.tokens.requests.length = 0;
});

const get = (api: typeof fetch, id: string) => api(`${fx.origin}/api/data`, { headers: { 'x-req-id': id } });

describe('createFetch', () => {
  it('attaches the access token', async () => {
    const api = createFetch(client);
    const res = await get(api, 'a');
    assert.equal(res.status, 200);
    assert.equal(fx.api[0]?.auth, `Bearer ${fx.tokens.currentAccessToken}`);
  });

  it('100 simultaneous 401s → exactly 1 refresh, each request retried exactly once', async () => {
    const api = createFetch(client);
    const old = fx.tokens.currentAccessToken;
    fx.revokedAccess.add(old);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => get(api, `r${i}`)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(fx.tokens.requests.length, 1);
    for (let i = 0; i < 100; i++) {
      const sent = fx.api.filter((x) => x.id === `r${i}`);
      assert.equal(sent.length, 2, `request r${i} sent ${sent.length} times`);
      assert.equal(sent[0]?.auth, `Bearer ${old}`);
      assert.equal(sent[1]?.auth, `Bearer ${fx.tokens.currentAccessToken}`);
    }
  });

  it('never loops: a retry that gets 401 again goes back to the caller (2 sends, 1 refresh)', async () => {
    const api = createFetch(client);
    fx.rejectAll = true;
    const res = await get(api, 'loop');
    assert.equal(res.status, 401);
    assert.equal(fx.api.length, 2);
    assert.equal(fx.tokens.requests.length, 1);
    assert.equal(client.state, 'active');
  });

  it('queues requests that arrive during the refresh; they go out once, with the new token', async () => {
    const api = createFetch(client);
    fx.revokedAccess.add(fx.tokens.currentAccessToken);
    fx.holdTokens = true;
    const first = get(api, 'first');
    while (fx.tokens.requests.length === 0 && !fx.api.some((x) => x.id === 'first')) await settle();
    // wait until the refresh is under way (held at the token endpoint)
    while (client.state !== 'refreshing') await settle();
    const queued = Array.from({ length: 10 }, (_, i) => get(api, `q${i}`));
    await settle(20);
    assert.equal(fx.api.filter((x) => x.id?.startsWith('q')).length, 0, 'queued requests went out early');
    fx.release();
    const all = await Promise.all([first, ...queued]);
    assert.ok(all.every((r) => r.status === 200));
    for (let i = 0; i < 10; i++) {
      const sent = fx.api.filter((x) => x.id === `q${i}`);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.auth, `Bearer ${fx.tokens.currentAccessToken}`);
    }
    assert.equal(fx.tokens.requests.length, 1);
  });

  it('a 401 for a request sent with an older token is retried with the current one, without another refresh', async () => {
    const api = createFetch(client);
    const old = fx.tokens.currentAccessToken;
    fx.holdApi.add('slow');
    const slow = get(api, 'slow');
    while (!fx.api.some((x) => x.id === 'slow')) await settle();
    await client.refresh(); // some other path refreshed meanwhile
    assert.equal(fx.tokens.requests.length, 1);
    fx.release(); // the slow request now gets 401 for the old token
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(fx.tokens.requests.length, 1);
    const sent = fx.api.filter((x) => x.id === 'slow');
    assert.deepEqual(
      sent.map((x) => x.auth),
      [`Bearer ${old}`, `Bearer ${fx.tokens.currentAccessToken}`],
    );
  });

  it('replays the request body on the retry', async () => {
    const api = createFetch(client);
    fx.revokedAccess.add(fx.tokens.currentAccessToken);
    const res = await api(`${fx.origin}/api/data`, {
      method: 'POST',
      body: '{"n":1}',
      headers: { 'x-req-id': 'p' },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { body: string }).body, '{"n":1}');
  });

  it('does not attach the token to URLs outside attachTo', async () => {
    const api = createFetch(client, { attachTo: (url) => url.pathname.startsWith('/api/') });
    await api(`${fx.origin}/public`, { headers: { 'x-req-id': 'pub' } });
    assert.equal(fx.api[0]?.auth, null);
  });

  it('sends without a token when signed out, and does not try to refresh on 401', async () => {
    await client.signOut();
    const api = createFetch(client);
    const res = await get(api, 'anon');
    assert.equal(res.status, 401);
    assert.equal(fx.api.length, 1);
    assert.equal(fx.tokens.requests.length, 0);
  });

  it('offline: serves the last GET answer read-only, flagged stale; never POSTs or no-store answers', async () => {
    let down = false;
    const net: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const api = createFetch(client, { fetch: net, offlineCache: true });
    const fresh = await get(api, 'c1');
    assert.equal(fresh.headers.get('x-tessera-stale'), null);
    const freshBody = await fresh.text();
    await api(`${fx.origin}/api/private`);
    await settle();
    down = true;
    const stale = await get(api, 'c2');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('x-tessera-stale'), '1');
    assert.equal(await stale.text(), freshBody);
    await assert.rejects(api(`${fx.origin}/api/private`), TypeError);
    await assert.rejects(api(`${fx.origin}/api/data`, { method: 'POST', body: 'x' }), TypeError);
    // Cached answers belong to the session: gone after sign-out.
    await client.signOut();
    await assert.rejects(get(api, 'c3'), TypeError);
  });
});
