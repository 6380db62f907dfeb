import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesFast } from '../../src/crypto/random.js';

test('randomBytesFast returns buffers of the asked length, each its own copy', () => {
  for (const n of [1, 12, 16, 32, 256]) assert.equal(randomBytesFast(n).length, n);
  const a = randomBytesFast(32);
  const copy = Buffer.from(a);
  a.fill(7);
  const b = randomBytesFast(32);
  assert.notDeepEqual(b, a, 'writing into one draw never shows up in the next');
  assert.equal(a.buffer === b.buffer && a.byteOffset === b.byteOffset, false);
  assert.notDeepEqual(copy, b);
});

test('randomBytesFast never hands out the same bytes twice, across many pool refills', () => {
  const seen = new Set<string>();
  // 40,000 draws of 16 bytes: about 160 refills of the 4 KiB pool, with draws of 12 and 32 between
  // them so the boundaries fall everywhere.
  for (let i = 0; i < 40_000; i++) {
    const draw = randomBytesFast(16).toString('hex');
    assert.equal(seen.has(draw), false, `draw ${i} repeated an earlier one`);
    seen.add(draw);
    randomBytesFast(i % 2 === 0 ? 12 : 32);
  }
  // Not a statistical test suite, but a wiped or stuck pool would show: bytes are spread out.
  const counts = new Array<number>(256).fill(0);
  for (const hex of seen) for (const byte of Buffer.from(hex, 'hex')) counts[byte]!++;
  const expected = (seen.size * 16) / 256;
  for (const c of counts)
    assert.ok(Math.abs(c - expected) < expected * 0.2, `byte frequency ${c} vs ${expected}`);
});

test('randomBytesFast refuses sizes outside 1..256', () => {
  for (const n of [0, -1, 257, 1.5, Number.NaN]) assert.throws(() => randomBytesFast(n), RangeError);
});
