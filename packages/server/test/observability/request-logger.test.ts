import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/observability/logger.js';
import { lazyChildLoggerFactory } from '../../src/observability/request-logger.js';

function setup(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let children = 0;
  const parent = logger as unknown as FastifyBaseLogger;
  const counting = Object.create(parent) as FastifyBaseLogger;
  counting.child = (b, o) => {
    children++;
    return parent.child(b, o);
  };
  return { lines, parent: counting, children: () => children };
}

describe('the per-request logger (made on first use)', () => {
  it('makes no pino child for a request that logs nothing at an enabled level', () => {
    const t = setup('warn');
    const log = lazyChildLoggerFactory(t.parent, { reqId: 'req-1' }, {});
    log.info('incoming request');
    log.debug({ a: 1 }, 'detail');
    log.trace('x');
    assert.equal(t.children(), 0);
    assert.equal(t.lines.length, 0);
    assert.equal(log.level, 'warn');
  });

  it('writes enabled lines through one real child: request id bound, secrets redacted', () => {
    const t = setup('warn');
    const log = lazyChildLoggerFactory(t.parent, { reqId: 'req-2' }, {});
    log.warn({ token: 'tsr_secret-value', refresh_token: 'r-secret' }, 'store unavailable');
    log.error(new Error('boom'), 'request failed');
    log.fatal('down');
    assert.equal(t.children(), 1, 'the child is made once');
    assert.deepEqual(
      t.lines.map((l) => [l.reqId, l.msg]),
      [
        ['req-2', 'store unavailable'],
        ['req-2', 'request failed'],
        ['req-2', 'down'],
      ],
    );
    assert.equal(t.lines[0]!.token, '[redacted]');
    assert.equal(t.lines[0]!.refresh_token, '[redacted]');
    assert.equal(JSON.stringify(t.lines).includes('secret'), false);
  });

  it("follows the parent's level, and a level set on it applies to this request only", () => {
    const t = setup('info');
    const log = lazyChildLoggerFactory(t.parent, { reqId: 'req-3' }, {});
    log.info('seen');
    log.debug('not seen');
    log.level = 'debug';
    log.debug('seen too');
    assert.deepEqual(
      t.lines.map((l) => l.msg),
      ['seen', 'seen too'],
    );
    assert.equal(t.parent.level, 'info');
    const silent = lazyChildLoggerFactory(setup('silent').parent, { reqId: 'req-4' }, {});
    silent.fatal('nothing');
    assert.equal(silent.level, 'silent');
  });

  it('a route-level log level makes the child at once, with that level', () => {
    const t = setup('warn');
    const log = lazyChildLoggerFactory(t.parent, { reqId: 'req-5' }, { level: 'debug' });
    assert.equal(t.children(), 1);
    log.debug('route debug');
    assert.deepEqual(
      t.lines.map((l) => [l.reqId, l.msg]),
      [['req-5', 'route debug']],
    );
    const child = log.child({ extra: 1 });
    child.warn('from a grandchild');
    assert.equal(t.lines.at(-1)!.extra, 1);
  });
});
