import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import { startTestServer, type TestServer } from '../../packages/server/test/helpers/test-server.js';
import { recordResult, sized } from './support/mode.js';

/**
 * Timing: does an answer's time tell an attacker something? Two pairs, sampled interleaved in
 * random order (so load on this machine falls on both alike), compared by their medians and a
 * Mann-Whitney U test. Asserted only where it is stable on a loaded machine: that an unknown
 * user costs a password hash like a real one (without the stand-in hash it would be ~100× faster);
 * the rest is reported.
 */

interface Comparison {
  medianA: number;
  medianB: number;
  ratio: number;
  /** Mann-Whitney U as a z score (|z| > 2.6: different at p < 0.01). */
  z: number;
  samples: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  let rankA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k]!.g === 0) rankA += rank;
    i = j;
  }
  const n1 = a.length;
  const n2 = b.length;
  const u = rankA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  return (u - mean) / sd;
}

async function compare(
  samples: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<Comparison> {
  const ta: number[] = [];
  const tb: number[] = [];
  // Warm both paths first.
  for (let i = 0; i < 5; i++) await Promise.all([a(), b()]);
  for (let i = 0; i < samples * 2; i++) {
    const first = Math.random() < 0.5;
    for (const which of first ? [0, 1] : [1, 0]) {
      const t0 = process.hrtime.bigint();
      await (which === 0 ? a() : b());
      (which === 0 ? ta : tb).push(Number(process.hrtime.bigint() - t0) / 1000);
      if ((which === 0 ? ta : tb).length >= samples) break;
    }
    if (ta.length >= samples && tb.length >= samples) break;
  }
  const medianA = median(ta);
  const medianB = median(tb);
  return { medianA, medianB, ratio: medianB / medianA, z: mannWhitneyZ(ta, tb), samples };
}

describe('chaos: timing', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ config: { loginFailuresPerUser: 0 } });
  });
  after(async () => {
    await s.close();
  });
  const results: Record<string, Comparison> = {};
  after(() => recordResult('timing', results));

  it('an unknown refresh token against a known one with one wrong character (reported)', async (t) => {
    const known = (await s.login()).refresh_token!;
    // One character changed in the middle (the secret part): the tag no longer verifies.
    const i = REFRESH_TOKEN_PREFIX.length + 40;
    const oneOff = known.slice(0, i) + (known[i] === 'A' ? 'B' : 'A') + known.slice(i + 1);
    const unknown = () =>
      REFRESH_TOKEN_PREFIX +
      randomBytes(64)
        .toString('base64url')
        .slice(0, known.length - REFRESH_TOKEN_PREFIX.length);
    const answers = new Set<number>();
    const result = await compare(
      sized(300, 2000),
      async () => answers.add((await s.refresh(unknown())).status),
      async () => answers.add((await s.refresh(oneOff)).status),
    );
    results.refreshToken = result;
    t.diagnostic(
      `unknown ${result.medianA.toFixed(0)} µs, one char off ${result.medianB.toFixed(0)} µs, ratio ${result.ratio.toFixed(3)}, z ${result.z.toFixed(2)} (n=${result.samples})`,
    );
    assert.deepEqual([...answers], [400], 'both refused alike');
  });

  it('a wrong password for a real user against an unknown user: both cost a password hash', async (t) => {
    const login = (username: string) =>
      s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.login,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username, password: 'not the password at all', client_id: 'web' }),
      });
    const statuses = new Set<number>();
    const result = await compare(
      sized(40, 200),
      async () => statuses.add((await login('alice')).statusCode),
      async () => statuses.add((await login(`nobody-${randomBytes(6).toString('hex')}`)).statusCode),
    );
    results.password = result;
    t.diagnostic(
      `real user ${result.medianA.toFixed(0)} µs, unknown user ${result.medianB.toFixed(0)} µs, ratio ${result.ratio.toFixed(3)}, z ${result.z.toFixed(2)} (n=${result.samples})`,
    );
    assert.deepEqual([...statuses], [401], 'both refused alike');
    // Stable here: a missing stand-in hash would make the unknown user ~100× faster.
    assert.ok(result.ratio > 0.5 && result.ratio < 2, `unknown/real median ratio ${result.ratio.toFixed(3)}`);
  });
});
