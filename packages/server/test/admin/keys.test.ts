import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_CSRF_HEADER } from '@tessera/protocol';
import { estimateVerifiable } from '../../src/admin/admin-keys.js';
import { ADMIN_ORIGIN, signInAdmin } from '../helpers/admin-session.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('keys in the admin API: the tokens each still verifies, and rotate', () => {
  let s: TestServer;
  let cookie = '';
  let csrf = '';
  before(async () => {
    s = await startTestServer();
    ({ cookie, csrf } = await signInAdmin(s));
  });
  after(() => s.close());

  const keys = async () => {
    const res = await s.tessera.app.inject({ method: 'GET', url: '/admin/api/keys', headers: { cookie } });
    assert.equal(res.statusCode, 200);
    return JSON.parse(res.body).items as {
      ring: string;
      kid: string;
      state: string;
      verifiableTokens: number;
      verifiesUntil: number | null;
    }[];
  };
  const rotate = (body: unknown, headers: Record<string, string> = { [ADMIN_CSRF_HEADER]: csrf }) =>
    s.tessera.app.inject({
      method: 'POST',
      url: '/admin/api/keys/rotate',
      headers: { 'content-type': 'application/json', origin: ADMIN_ORIGIN, cookie, ...headers },
      payload: JSON.stringify(body),
    });

  it('lists both rings; the current JWT key verifies the access tokens issued since', async () => {
    const before = await keys();
    assert.deepEqual([...new Set(before.map((k) => k.ring))].sort(), ['jwt', 'paseto']);
    const current = before.find((k) => k.ring === 'jwt' && k.state === 'current')!;
    await s.login();
    await s.login();
    const after = (await keys()).find((k) => k.kid === current.kid)!;
    assert.equal(after.verifiableTokens, current.verifiableTokens + 2);
    assert.equal((await keys()).find((k) => k.ring === 'jwt' && k.state === 'next')!.verifiableTokens, 0);
  });

  it('rotate: a reason and the CSRF token are required; too soon is refused unless forced', async () => {
    assert.equal((await rotate({})).statusCode, 400);
    assert.equal((await rotate({ reason: 'scheduled' }, {})).statusCode, 403);
    const soon = await rotate({ reason: 'scheduled' });
    assert.equal(soon.statusCode, 429, soon.body);
    assert.equal(JSON.parse(soon.body).error_code, 'rate_limited');
    assert.equal((await rotate({ reason: 'x', ring: 'nope' })).statusCode, 400);
  });

  it('rotates, is recorded with the admin and the reason, and the retired key keeps its tokens', async () => {
    const before = (await keys()).filter((k) => k.ring === 'jwt');
    const oldCurrent = before.find((k) => k.state === 'current')!;
    const oldNext = before.find((k) => k.state === 'next')!;
    s.clock.advance(10 * 60_000);
    const res = await rotate({ reason: 'key suspected leaked' });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.previous, oldCurrent.kid);
    assert.equal(body.current, oldNext.kid);
    assert.equal(body.rotated, true);
    const after = (await keys()).filter((k) => k.ring === 'jwt');
    const retired = after.find((k) => k.kid === oldCurrent.kid)!;
    assert.equal(retired.state, 'retired');
    assert.equal(retired.verifiableTokens, oldCurrent.verifiableTokens, 'issued before: still verifiable');
    assert.equal(typeof retired.verifiesUntil, 'number');
    const events = await s.tessera.ctx.stores.events.list({ type: 'key.rotated' });
    const e = events.at(-1)!;
    assert.deepEqual(
      { ...e.data, instance: undefined },
      {
        instance: undefined,
        admin: 'alice',
        reason: 'key suspected leaked',
        target: { ring: 'jwt', from: oldCurrent.kid, to: oldNext.kid },
      },
    );
    // The access tokens it signed expire: after the longest lifetime it verifies none.
    s.clock.advance(20 * 60_000);
    assert.equal((await keys()).find((k) => k.kid === oldCurrent.kid)?.verifiableTokens ?? 0, 0);
  });

  it('estimateVerifiable: the key’s current window within the access-token lifetime', () => {
    const m = 60_000;
    const perMinute = new Map([
      [0, 5],
      [m, 3],
      [2 * m, 2],
      [10 * m, 7],
    ]);
    const key = { state: 'retired' as const, activatedAt: m, retiredAt: 3 * m - 1 };
    assert.equal(estimateVerifiable(key, perMinute, 3 * m, 15 * m), 5, 'minutes 1 and 2');
    assert.equal(estimateVerifiable(key, perMinute, 20 * m, 15 * m), 0, 'all expired');
    assert.equal(
      estimateVerifiable({ state: 'next', activatedAt: null, retiredAt: null }, perMinute, 3 * m, 15 * m),
      0,
    );
    assert.equal(
      estimateVerifiable({ state: 'current', activatedAt: 0, retiredAt: null }, perMinute, 11 * m, 15 * m),
      17,
    );
  });
});
