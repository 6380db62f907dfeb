import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, ManualClock, ManualTimers } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const DAY = 86_400_000;

describe('event retention: cleanup deletes events and counters past eventRetention, on its schedule', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 10, 12));
  const timers = new ManualTimers(clock);
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      clock,
      setTimer: timers.setTimer,
      background: true,
      config: { eventRetention: 2 * 86_400, cleanupInterval: 3600 },
    });
  });
  after(() => s.close());

  const seed = async (type: 'login.failed', ages: number[], client: string) => {
    const now = clock.now();
    await s.tessera.ctx.stores.events.append(ages.map((age) => ({ at: now - age, type, clientId: client })));
    await s.tessera.ctx.stores.counters.addCounts(
      ages.map((age) => ({
        minute: now - age - ((now - age) % 60_000),
        name: 'failed_logins',
        label: client,
        count: 1,
      })),
    );
  };
  const left = async (client: string) =>
    (await s.tessera.ctx.stores.events.list({ clientId: client })).length;
  const countersLeft = async (client: string) =>
    (await s.tessera.ctx.stores.counters.readCounts({ from: 0, to: clock.now() + DAY })).filter(
      (r) => r.label === client,
    ).length;

  it('runs every cleanupInterval on the injected timers', async () => {
    await seed('login.failed', [3 * DAY, 3 * DAY - 1, DAY], 'scheduled');
    assert.equal(await left('scheduled'), 3);
    await timers.advance(3600 * 1000);
    assert.equal(await left('scheduled'), 1, 'the two older than two days went');
    assert.equal(await countersLeft('scheduled'), 1);
  });

  it('and when called (tessera cleanup), with what it deleted', async () => {
    await seed('login.failed', [5 * DAY, 4 * DAY, 60_000], 'manual');
    const report = await cleanup(s.tessera.ctx);
    assert.ok(report.eventsDeleted >= 2, JSON.stringify(report));
    assert.ok(report.countersDeleted >= 2);
    assert.equal(await left('manual'), 1);
    assert.equal((await cleanup(s.tessera.ctx)).eventsDeleted, 0, 'nothing more');
  });
});
