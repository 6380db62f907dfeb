import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideToken, type TokenDecision, type TokenSituation } from '../../src/core/decide-token.js';

/**
 * A fresh session at t = 1000: refresh due at 2000, usable until 3000 (a 105 s token expiring
 * at 8000, with the 5 s skew).
 */
const base: TokenSituation & { now: number; refreshing: boolean } = {
  now: 1000,
  session: { accessToken: 'at-1', receivedAt: -97_000, expiresAt: 8000 },
  state: 'active',
  rejected: undefined,
  refreshAt: 2000,
  retryAt: 0,
  probeAt: 0,
  lastError: undefined,
  refreshing: false,
};
const busy = new Error('503');

const table: [string, Partial<typeof base>, TokenDecision][] = [
  ['signed out', { session: null }, 'signedOut'],
  ['signed out, whatever else', { session: null, state: 'offline', now: 9000 }, 'signedOut'],
  ['fresh', {}, 'cached'],
  ['fresh, even in a backoff window', { retryAt: 5000, lastError: busy }, 'cached'],
  ['fresh but rejected by the API (401)', { rejected: 'at-1' }, 'wait'],
  ['fresh, an older token was rejected', { rejected: 'at-0' }, 'cached'],
  ['inside the lead window', { now: 2500 }, 'cachedAndRefresh'],
  [
    'inside the lead window, a refresh running',
    { now: 2500, refreshing: true, state: 'refreshing' },
    'cachedAndRefresh',
  ],
  ['inside the lead window, backing off', { now: 2500, retryAt: 2800, lastError: busy }, 'cached'],
  ['inside the lead window, backoff over', { now: 2500, retryAt: 2400, lastError: busy }, 'cachedAndRefresh'],
  ['past the usable time', { now: 3000 }, 'wait'],
  ['expired', { now: 9000 }, 'wait'],
  ['expired, backing off after failures', { now: 9000, retryAt: 9500, lastError: busy }, 'failFast'],
  [
    'expired, backing off, but a refresh is running: join it',
    { now: 9000, retryAt: 9500, lastError: busy, refreshing: true },
    'wait',
  ],
  ['expired, backoff over', { now: 9000, retryAt: 8000, lastError: busy }, 'wait'],
  ['expired, a backoff time without a failure', { now: 9000, retryAt: 9500 }, 'wait'],
  ['offline, fresh', { state: 'offline', probeAt: 500 }, 'cached'],
  [
    'offline, expired, before the next probe',
    { state: 'offline', now: 9000, probeAt: 9500, lastError: busy },
    'cached',
  ],
  [
    'offline, expired, probe time: a probe',
    { state: 'offline', now: 9000, probeAt: 8000, lastError: busy },
    'cachedAndRefresh',
  ],
  [
    'offline, probe time, a probe already running',
    { state: 'offline', now: 9000, probeAt: 8000, refreshing: true },
    'cached',
  ],
  [
    'offline, rejected by the API, before the next probe',
    { state: 'offline', now: 2500, rejected: 'at-1', probeAt: 9000 },
    'cached',
  ],
];

describe('decideToken: what getAccessToken() does', () => {
  for (const [name, change, expected] of table) {
    it(`${name} → ${expected}`, () => {
      const situation = { ...base, ...change };
      assert.equal(decideToken(situation, situation.now, situation.refreshing), expected);
    });
  }
});
