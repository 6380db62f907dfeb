import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('every lifecycle event names the instance that wrote it', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ clock, config: { instanceName: 'auth-a' } });
    // A second instance on the same SQLite file, named differently.
    b = await startTestServer({
      clock,
      config: { instanceName: 'auth-b' },
      dbPath: a.dbPath,
      masterSecret: a.masterSecret,
    });
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  it('a session signed in on one instance and refreshed on the other names each per step', async () => {
    const t = await a.login();
    const r = await b.refresh(t.refresh_token ?? '');
    assert.equal(r.status, 200);
    const sid = JSON.parse(Buffer.from(t.access_token.split('.')[1] ?? '', 'base64url').toString()).sid;
    const events = await a.tessera.ctx.stores.events.list({ familyId: sid });
    const by = (type: string) => events.find((e) => e.type === type)?.data?.instance;
    assert.equal(by('token.issued'), 'auth-a');
    assert.equal(by('token.refreshed'), 'auth-b');
  });

  it('unset, the instance is named by host name and process id', async () => {
    const c = await startTestServer({ clock });
    try {
      await c.login();
      const [e] = await c.tessera.ctx.stores.events.list({ type: 'login.succeeded' });
      assert.match(String(e?.data?.instance), new RegExp(`:${process.pid}$`));
    } finally {
      await c.close();
    }
  });
});
