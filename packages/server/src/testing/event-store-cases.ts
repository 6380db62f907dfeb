import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Stores } from '../ports/index.js';
import { T0, uniqueId } from './fixtures.js';

/** `EventStore`: the append-only lifecycle record. */
export function eventStoreCases(get: () => Stores): void {
  it('events: appended in order, filtered, never rewritten', async () => {
    const { events } = get();
    const fam = uniqueId('fam');
    await events.append([
      { at: T0, type: 'token.issued', familyId: fam, userId: 'u', clientId: 'web' },
      {
        at: T0 + 1,
        type: 'token.refreshed',
        familyId: fam,
        userId: 'u',
        clientId: 'web',
        data: { generation: 1 },
      },
      { at: T0 + 2, type: 'session.ended', familyId: fam, reason: 'logout' },
    ]);
    const all = await events.list({ familyId: fam });
    assert.deepEqual(
      all.map((e) => e.type),
      ['token.issued', 'token.refreshed', 'session.ended'],
    );
    assert.deepEqual(all[1]?.data, { generation: 1 });
    assert.ok(all[0]!.id < all[1]!.id);
    assert.deepEqual(
      (await events.list({ familyId: fam, afterId: all[1]!.id })).map((e) => e.reason),
      ['logout'],
    );
  });
}
