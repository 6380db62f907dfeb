import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import axios, { AxiosError } from 'axios';
import { createTesseraClient, type TesseraClient } from '../../src/index.js';
import { attachAxios } from '../../src/integrations/axios.js';
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

function api() {
  const instance = axios.create({ baseURL: fx.origin });
  attachAxios(client, instance);
  return instance;
}
const get = (instance: ReturnType<typeof api>, id: string) =>
  instance.get('/api/data', { headers: { 'x-req-id': id } });

describe('attachAxios', () => {
  it('attaches the access token', async () => {
    const res = await get(api(), 'a');
    assert.equal(res.status, 200);
    assert.equal(fx.api[0]?.auth, `Bearer ${fx.tokens.currentAccessToken}`);
  });

  it('100 simultaneous 401s → exactly 1 refresh, each request retried exactly once', async () => {
    const instance = api();
    const old = fx.tokens.currentAccessToken;
    fx.revokedAccess.add(old);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => get(instance, `r${i}`)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(fx.tokens.requests.length, 1);
    for (let i = 0; i < 100; i++) {
      const sent = fx.api.filter((x) => x.id === `r${i}`);
      assert.deepEqual(
        sent.map((x) => x.auth),
        [`Bearer ${old}`, `Bearer ${fx.tokens.currentAccessToken}`],
      );
    }
  });

  it('never loops: a second 401 rejects with the AxiosError (2 sends, 1 refresh)', async () => {
    fx.rejectAll = true;
    await assert.rejects(
      get(api(), 'loop'),
      (e: unknown) => e instanceof AxiosError && e.response?.status === 401,
    );
    assert.equal(fx.api.length, 2);
    assert.equal(fx.tokens.requests.length, 1);
  });

  it('a 401 for an older token is retried with the current one without another refresh', async () => {
    const instance = api();
    const old = fx.tokens.currentAccessToken;
    fx.holdApi.add('slow');
    const slow = get(instance, 'slow');
    while (!fx.api.some((x) => x.id === 'slow')) await settle();
    await client.refresh();
    fx.release();
    assert.equal((await slow).status, 200);
    assert.equal(fx.tokens.requests.length, 1);
    assert.deepEqual(
      fx.api.filter((x) => x.id === 'slow').map((x) => x.auth),
      [`Bearer ${old}`, `Bearer ${fx.tokens.currentAccessToken}`],
    );
  });

  it('passes other errors through untouched, and detaches', async () => {
    const instance = axios.create({ baseURL: fx.origin });
    const detach = attachAxios(client, instance);
    await assert.rejects(instance.get('http://127.0.0.1:1/'), (e: unknown) => e instanceof AxiosError);
    detach();
    const res = await instance.get('/api/data', { validateStatus: () => true });
    assert.equal(res.status, 401);
    assert.equal(fx.api.at(-1)?.auth, null);
  });
});
