import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCanonicalSegment } from '../../src/jwt/inspect-compact-jws.js';
import { parseStrictJson } from '../../src/jwt/parse-strict-json.js';

describe('parseStrictJson', () => {
  it('parses ordinary objects, strings with braces and escaped quotes', () => {
    assert.deepEqual(parseStrictJson('{"a":"{\\"b\\":1}","c":[{"a":1},{"a":2}],"d":{"a":1}}', 8), {
      a: '{"b":1}',
      c: [{ a: 1 }, { a: 2 }],
      d: { a: 1 },
    });
  });
  it('refuses duplicate keys, also when one is escaped, also nested', () => {
    assert.equal(parseStrictJson('{"a":1,"a":2}', 8), undefined);
    assert.equal(parseStrictJson('{"a":1,"\\u0061":2}', 8), undefined);
    assert.equal(parseStrictJson('{"x":{"a":1,"b":[1,{"c":1,"c":2}]}}', 8), undefined);
  });
  it('refuses nesting beyond the limit, and invalid JSON', () => {
    assert.equal(parseStrictJson(`{"a":${'['.repeat(9)}${']'.repeat(9)}}`, 8), undefined);
    assert.ok(parseStrictJson(`{"a":${'['.repeat(7)}${']'.repeat(7)}}`, 8));
    assert.equal(parseStrictJson('{"a":1,}', 8), undefined);
    assert.equal(parseStrictJson(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 8), undefined);
  });
});

describe('decodeCanonicalSegment', () => {
  it('accepts exactly one spelling per byte string', () => {
    assert.deepEqual([...decodeCanonicalSegment('AQI')], [1, 2]);
    for (const bad of ['AQJ', 'AQI=', 'A+I', 'A/I', 'AQIDB', '', 'A Q']) {
      assert.throws(() => decodeCanonicalSegment(bad), Error, bad);
    }
  });
});
