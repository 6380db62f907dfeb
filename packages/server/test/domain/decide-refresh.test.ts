import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decideRefresh, type FamilyRecord, type RefreshTokenRecord } from '../../src/index.js';

const GRACE = 300_000;
const T0 = 1_000_000_000_000;

function state(token: Partial<RefreshTokenRecord>, family: Partial<FamilyRecord> = {}) {
  return {
    token: {
      hash: 'h',
      familyId: 'f',
      generation: 0,
      parentHash: null,
      status: 'active' as const,
      issuedAt: T0,
      expiresAt: T0 + 14 * 86_400_000,
      rotatedAt: null,
      graceResponse: null,
      ...token,
    },
    family: {
      id: 'f',
      clientId: 'web',
      userId: 'u',
      scope: '',
      status: 'active' as const,
      createdAt: T0,
      expiresAt: T0 + 30 * 86_400_000,
      generation: 0,
      lastRefreshAt: null,
      endedAt: null,
      endReason: null,
      endedBy: null,
      endNote: null,
      userAgent: null,
      ip: null,
      ...family,
    },
  };
}

const sealed = new Uint8Array(40);

describe('decideRefresh (the refresh rules as a pure function)', () => {
  it('rotates an active, unexpired token of an active family', () => {
    assert.deepEqual(decideRefresh(state({}), 'web', T0 + 1000, GRACE), { kind: 'rotate' });
  });

  it('grace only for the immediate parent, before the grace period ends', () => {
    const parent = state(
      { status: 'rotated', rotatedAt: T0, graceResponse: sealed, generation: 3 },
      { generation: 4 },
    );
    assert.equal(decideRefresh(parent, 'web', T0 + GRACE - 1, GRACE).kind, 'grace');
    assert.equal(decideRefresh(parent, 'web', T0 + GRACE, GRACE).kind, 'reuse');
    const grandparent = state(
      { status: 'rotated', rotatedAt: T0, graceResponse: sealed, generation: 2 },
      { generation: 4 },
    );
    assert.equal(decideRefresh(grandparent, 'web', T0 + 1, GRACE).kind, 'reuse');
  });

  it('never grace, never rotation, for another client', () => {
    const parent = state({ status: 'rotated', rotatedAt: T0, graceResponse: sealed }, { generation: 1 });
    assert.deepEqual(decideRefresh(parent, 'mobile', T0 + 1, GRACE), {
      kind: 'fail',
      code: 'client_mismatch',
    });
  });

  it('a refusal of an ended session names why it ended', () => {
    const revoked = state({ status: 'revoked' }, { status: 'revoked', endReason: 'reuse_detected' });
    assert.deepEqual(decideRefresh(revoked, 'web', T0 + 1, GRACE), {
      kind: 'fail',
      code: 'token_revoked',
      endReason: 'reuse_detected',
    });
    const lapsed = state({ expiresAt: T0 + 10 });
    assert.deepEqual(decideRefresh(lapsed, 'web', T0 + 10, GRACE), {
      kind: 'fail',
      code: 'token_expired',
      endReason: 'idle_expired',
    });
    const old = state({}, { expiresAt: T0 + 10 });
    assert.deepEqual(decideRefresh(old, 'web', T0 + 10, GRACE), {
      kind: 'fail',
      code: 'token_expired',
      endReason: 'absolute_expired',
    });
  });

  it('property: the only outcomes that hand out tokens are rotate (active token) and grace (immediate parent in grace)', () => {
    fc.assert(
      fc.property(
        fc.record({
          tokenStatus: fc.constantFrom('active', 'rotated', 'revoked'),
          familyStatus: fc.constantFrom('active', 'revoked', 'expired'),
          generation: fc.integer({ min: 0, max: 5 }),
          familyGeneration: fc.integer({ min: 0, max: 6 }),
          rotatedAgo: fc.integer({ min: 0, max: 2 * GRACE }),
          idleLeft: fc.integer({ min: -1000, max: 1000 }),
          absoluteLeft: fc.integer({ min: -1000, max: 1000 }),
          sameClient: fc.boolean(),
          hasBox: fc.boolean(),
        }),
        (p) => {
          const now = T0 + 10 * GRACE;
          const s = state(
            {
              status: p.tokenStatus as RefreshTokenRecord['status'],
              generation: p.generation,
              rotatedAt: p.tokenStatus === 'rotated' ? now - p.rotatedAgo : null,
              graceResponse: p.hasBox ? sealed : null,
              expiresAt: now + p.idleLeft,
            },
            {
              status: p.familyStatus as FamilyRecord['status'],
              generation: p.familyGeneration,
              expiresAt: now + p.absoluteLeft,
            },
          );
          const d = decideRefresh(s, p.sameClient ? 'web' : 'other', now, GRACE);
          const alive = p.familyStatus === 'active' && p.absoluteLeft > 0 && p.sameClient;
          if (d.kind === 'rotate') {
            assert.ok(alive && p.tokenStatus === 'active' && p.idleLeft > 0);
          }
          if (d.kind === 'grace') {
            assert.ok(alive && p.tokenStatus === 'rotated' && p.generation === p.familyGeneration - 1);
            assert.ok(p.rotatedAgo < GRACE && p.hasBox);
          }
          if (d.kind === 'reuse') {
            // Reuse (which revokes) only ever concerns a rotated token of a live family.
            assert.ok(alive && p.tokenStatus === 'rotated');
          }
          if (!p.sameClient) assert.equal(d.kind === 'fail' && d.code, 'client_mismatch');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
