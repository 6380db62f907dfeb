import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SseParser } from '../../src/revocations/parse-sse.js';

const STREAM =
  ': hello\n\nid: 1\ndata: {"a":1}\n\nid: 2\r\nevent: revoke\r\ndata: line1\r\ndata: line2\r\n\r\ndata:x\rdata: y\r\r';

describe('SseParser', () => {
  it('parses ids, events, multi-line data, comments and every line ending', () => {
    const events = new SseParser(1024).push(STREAM);
    assert.deepEqual(events, [
      { id: '1', event: 'message', data: '{"a":1}' },
      { id: '2', event: 'revoke', data: 'line1\nline2' },
      { id: '2', event: 'message', data: 'x\ny' },
    ]);
  });

  it('gives the same events however the stream is split', () => {
    const whole = new SseParser(1024).push(STREAM);
    fc.assert(
      fc.property(fc.array(fc.nat(STREAM.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser(1024);
        const events = [];
        let last = 0;
        for (const p of [...points, STREAM.length]) {
          events.push(...parser.push(STREAM.slice(last, p)));
          last = p;
        }
        assert.deepEqual(events, whole);
      }),
    );
  });

  it('refuses a line longer than the limit', () => {
    assert.throws(() => new SseParser(10).push('data: 01234567890123'), /too long/);
  });
});
