import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifecycleEvent } from '@tessera/protocol';
import type { SessionView } from '../src/web/api.js';
import { lineageSteps } from '../src/web/lineage.js';

const T = Date.UTC(2026, 0, 12, 9, 0);
const session: SessionView = {
  id: 'fam-1',
  userId: 'u1',
  username: 'carol',
  clientId: 'web',
  status: 'revoked',
  device: 'Chrome 120 on macOS',
  ip: '198.51.100.4',
  startedAt: T,
  lastRefreshAt: T + 600_000,
  expiresAt: T + 86_400_000,
  rotations: 1,
  endedAt: T + 1_260_000,
  endReason: 'reuse_detected',
  endedBy: null,
  endNote: null,
};
let id = 0;
const event = (at: number, type: LifecycleEvent['type'], data: Record<string, unknown>, reason?: string) =>
  ({ id: ++id, at: T + at, type, familyId: 'fam-1', reason: reason ?? null, data }) as LifecycleEvent;

describe('a session’s lineage as timeline steps', () => {
  const events = [
    event(0, 'token.issued', { generation: 0 }, 'login'),
    event(600_000, 'token.refreshed', { generation: 1, ip: '198.51.100.4', device: 'Chrome 120 on macOS' }),
    event(630_000, 'token.grace_reuse', { generation: 0, ip: '198.51.100.4', device: 'Chrome 120 on macOS' }),
    event(1_260_000, 'token.reuse.detected', {
      presentedGeneration: 0,
      currentGeneration: 1,
      ip: '203.0.113.9',
      device: 'Firefox 121 on Windows 10',
      instance: 'b',
    }),
    event(1_260_000, 'session.ended', { initiator: 'system', generation: 1 }, 'reuse_detected'),
  ];
  const steps = lineageSteps(session, events);

  it('one step per lifecycle event, in order, with its kind and generation', () => {
    assert.deepEqual(
      steps.map((s) => [s.kind, s.generation]),
      [
        ['issued', 0],
        ['rotated', 1],
        ['grace', 0],
        ['reuse', 0],
        ['ended', 1],
      ],
    );
    assert.match(steps[1]!.detail!, /#0 replaced by #1/);
    assert.match(steps[2]!.detail!, /harmless race/);
    assert.match(steps[3]!.detail!, /#0 used again after it had been replaced \(the current one was #1\)/);
    assert.equal(steps[4]!.detail, 'reuse detected');
  });

  it('the sign-in takes the session’s IP and device; later steps their own', () => {
    assert.equal(steps[0]!.ip, '198.51.100.4');
    assert.equal(steps[0]!.device, 'Chrome 120 on macOS');
    assert.equal(steps[3]!.instance, 'b');
  });

  it('flags a change of IP or device from the step before, and only that', () => {
    assert.deepEqual(
      steps.map((s) => [s.ipChanged, s.deviceChanged]),
      [
        [false, false],
        [false, false],
        [false, false],
        [true, true],
        [false, false],
      ],
    );
  });

  it('takes the device the server parsed, beside the event’s fields or in its data', () => {
    const parsed = lineageSteps(session, [
      event(0, 'token.issued', { generation: 0 }),
      {
        ...event(1000, 'token.refreshed', { generation: 1, userAgent: 'Mozilla/5.0 (Macintosh) Chrome/120' }),
        device: 'Chrome 120 on macOS',
      } as LifecycleEvent,
      event(2000, 'token.refreshed', { generation: 2, device: 'Firefox 121 on Windows 10' }),
    ]);
    assert.deepEqual(
      parsed.map((s) => [s.device, s.deviceChanged]),
      [
        ['Chrome 120 on macOS', false],
        ['Chrome 120 on macOS', false],
        ['Firefox 121 on Windows 10', true],
      ],
    );
  });

  it('compares a raw user agent only with raw ones (an older server sends no parsed device)', () => {
    const raw = lineageSteps(session, [
      event(0, 'token.issued', { generation: 0 }),
      event(1000, 'token.refreshed', { generation: 1, userAgent: 'Mozilla/5.0 (Macintosh) Chrome/120' }),
    ]);
    assert.equal(raw[1]!.deviceChanged, false, 'not compared with the parsed device of the session');
  });
});
