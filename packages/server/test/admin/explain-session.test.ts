import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LifecycleEvent, SESSION_END_REASONS } from '@tessera/protocol';
import { explainSession } from '../../src/admin/explain-session.js';
import type { FamilyRecord } from '../../src/index.js';

const T = Date.UTC(2026, 2, 4, 14, 2);
const family = (over: Partial<FamilyRecord> = {}): FamilyRecord => ({
  id: 'f1',
  clientId: 'web',
  userId: 'u1',
  scope: '',
  status: 'revoked',
  createdAt: T - 3_600_000,
  expiresAt: T + 30 * 86_400_000,
  generation: 7,
  lastRefreshAt: T - 600_000,
  endedAt: T,
  endReason: null,
  endedBy: null,
  endNote: null,
  userAgent: null,
  ip: '198.51.100.4',
  dpopJkt: null,
  ...over,
});
const ev = (
  id: number,
  type: LifecycleEvent['type'],
  at: number,
  data: Record<string, unknown>,
): LifecycleEvent => ({
  id,
  at,
  type,
  familyId: 'f1',
  data,
});

describe('explain-logout: one sentence per end reason', () => {
  const expected: Record<(typeof SESSION_END_REASONS)[number], RegExp> = {
    logout: /^Signed out at 14:02 UTC on 2026-03-04 because the user signed out\.$/,
    admin_revoked: /because the administrator alice ended the session, giving the reason "stolen laptop"\.$/,
    client_revoked: /because the app \(client web\) revoked its refresh token\.$/,
    idle_expired:
      /because the session was not used for longer than its idle lifetime \(last used 10 minutes before\)\.$/,
    absolute_expired:
      /because the session reached its maximum lifetime \(it started 13:02 UTC on 2026-03-04\)/,
    reuse_detected:
      /because refresh token #6 was used again 11 minutes after it had been replaced, from a different IP \(203\.0\.113\.9, previously 198\.51\.100\.4\); Tessera revoked the whole session to protect the account\.$/,
    password_changed: /because the user's password was changed/,
    user_disabled: /because the user's account was disabled or removed\.$/,
    client_deleted: /because the app \(client web\) it belonged to was deleted\.$/,
    key_revoked: /because a signing key its tokens depended on was revoked\.$/,
  };
  for (const reason of SESSION_END_REASONS) {
    it(reason, () => {
      const events =
        reason === 'reuse_detected'
          ? [
              ev(1, 'token.refreshed', T - 11 * 60_000, { generation: 7, ip: '198.51.100.4' }),
              ev(2, 'token.reuse.detected', T, {
                presentedGeneration: 6,
                currentGeneration: 7,
                ip: '203.0.113.9',
              }),
            ]
          : [];
      const f = family({
        endReason: reason,
        ...(reason === 'admin_revoked' ? { endedBy: 'alice', endNote: 'stolen laptop' } : {}),
      });
      assert.match(explainSession({ family: f, events, now: T + 1 }), expected[reason]);
    });
  }

  it('an admin revocation without a note says so', () => {
    const text = explainSession({ family: family({ endReason: 'admin_revoked' }), events: [], now: T });
    assert.match(text, /an administrator ended the session, without giving a reason/);
  });

  it('a reuse from the same IP does not claim another one', () => {
    const events = [
      ev(1, 'token.refreshed', T - 60_000, { generation: 3, ip: '198.51.100.4' }),
      ev(2, 'token.reuse.detected', T, { presentedGeneration: 2, ip: '198.51.100.4' }),
    ];
    const text = explainSession({ family: family({ endReason: 'reuse_detected' }), events, now: T });
    assert.match(
      text,
      /refresh token #2 was used again 60 seconds after it had been replaced, from 198\.51\.100\.4;/,
    );
  });

  it('an active session says what will end it', () => {
    const text = explainSession({
      family: family({ status: 'active', endedAt: null, endReason: null }),
      events: [],
      now: T,
    });
    assert.match(text, /^Active\. It was last refreshed at 13:52 UTC on 2026-03-04 \(7 rotations\)\./);
    assert.match(text, /at the latest at 14:02 UTC on 2026-04-03 \(its maximum lifetime\)/);
  });
});
