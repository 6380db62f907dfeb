import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentRefreshes } from '../../src/domain/recent-refreshes.js';

const web = { id: 'web', public: true };
const T = 1_000_000;

describe('RecentRefreshes: a failed attempt forgets only itself', () => {
  it('a rotated token keeps its grace exemption when another key then fails with it', () => {
    const recent = new RecentRefreshes();
    recent.mark('h', web, T + 5000, T, 'owner');
    recent.settle('h', web, T + 60_000);
    recent.mark('h', web, T + 5000 + 10, T + 10, 'thief');
    recent.forget('h', 'web', 'thief');
    assert.equal(recent.has('h', 'web', T + 30_000), true);
    assert.equal(recent.has('h', 'web', T + 60_000), false);
  });

  it("a rotation under way stays marked when another key's request for the token fails beside it", () => {
    const recent = new RecentRefreshes();
    recent.mark('h', web, T + 5000, T);
    recent.mark('h', web, T + 5000, T, 'owner');
    recent.mark('h', web, T + 5000, T + 1, 'thief');
    recent.forget('h', 'web', 'thief');
    assert.equal(recent.has('h', 'web', T + 2), true);
    recent.forget('h', 'web', 'owner');
    assert.equal(recent.has('h', 'web', T + 2), false);
  });

  it('a failure with nobody else under way ends the mark, its earlier claim included', () => {
    const recent = new RecentRefreshes();
    recent.mark('h', web, T + 5000, T);
    recent.mark('h', web, T + 5000, T, 'thief');
    recent.forget('h', 'web', 'thief');
    assert.equal(recent.has('h', 'web', T + 1), false);
  });

  it("another client's failure leaves a rotated token's exemption alone", () => {
    const recent = new RecentRefreshes();
    recent.settle('h', web, T + 60_000);
    recent.mark('h', { id: 'other', public: false }, T + 5000, T);
    recent.forget('h', 'other');
    assert.equal(recent.has('h', 'web', T + 1), true);
    assert.equal(recent.has('h', 'other', T + 1), false);
  });
});
