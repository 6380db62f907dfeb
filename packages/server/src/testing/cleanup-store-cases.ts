import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Stores } from '../ports/index.js';
import { newFamily, newToken, T0 } from './fixtures.js';

/** `CleanupStore`: what expired goes, and a family's row stays as its tombstone until its absolute expiry. */
export function cleanupStoreCases(get: () => Stores): void {
  it('cleanup: expires lapsed families, deletes expired rows, keeps the family row as a tombstone', async () => {
    const { sessions, cleanup } = get();
    const idle = newFamily({ createdAt: T0 });
    const idleToken = newToken(idle, { expiresAt: T0 + 1000 });
    await sessions.createFamily(idle, idleToken);
    const short = newFamily({ expiresAt: T0 + 2000 });
    await sessions.createFamily(short, newToken(short, { expiresAt: T0 + 2000 }));
    const result = await cleanup.sweep({ now: T0 + 1500, graceHorizon: T0 });
    assert.ok(result.tokensDeleted >= 1);
    const tomb = await sessions.findFamily(idle.id);
    assert.equal(tomb?.status, 'expired');
    assert.equal(tomb?.endReason, 'idle_expired');
    assert.equal(tomb?.endedAt, T0 + 1500);
    assert.equal(tomb?.endedBy, null);
    assert.equal(await sessions.findToken(idle.id, idleToken.hash), null);
    await cleanup.sweep({ now: T0 + 2500, graceHorizon: T0 });
    assert.equal(await sessions.findFamily(short.id), null, 'deleted at its absolute expiry');
    assert.equal(
      (await sessions.findFamily(idle.id))?.status,
      'expired',
      'tombstone kept until absolute expiry',
    );
  });

  it('cleanup: a family past its absolute lifetime ends as absolute_expired', async () => {
    const { sessions, cleanup } = get();
    const f = newFamily({ expiresAt: T0 + 2000 });
    await sessions.createFamily(f, newToken(f, { expiresAt: T0 + 5000 }));
    // Not yet deleted (its token outlives it here), so the row shows why it ended.
    await cleanup.sweep({ now: T0 + 2000, graceHorizon: T0 });
    const row = await sessions.findFamily(f.id);
    if (row !== null) assert.equal(row.endReason, 'absolute_expired');
  });
}
