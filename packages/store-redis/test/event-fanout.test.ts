import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { dropPrefix, REDIS_URL, redisSkip, testPrefix } from './redis-fixtures.js';
import { startTwoInstances } from './two-instances.js';

const skip = redisSkip();
const PASSWORD = 'correct horse battery staple';

describe('the dashboard event tail across instances, woken over Redis pub/sub', { skip }, () => {
  const prefix = testPrefix();
  let two: Awaited<ReturnType<typeof startTwoInstances>>;
  before(async () => {
    // No timer ever fires: neither tail polls, so only the Redis signal can wake A's.
    two = await startTwoInstances(REDIS_URL as string, prefix, {}, { setTimer: () => () => {} });
  });
  after(async () => {
    await two?.close();
    await dropPrefix(REDIS_URL as string, prefix);
  });

  it('a login on instance B shows on a stream of instance A without a poll', async () => {
    const { a, b } = two;
    const signIn = await fetch(`${a.url}/admin/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: a.url },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    assert.equal(signIn.status, 200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    let text = '';
    const waiters = new Set<() => void>();
    const req = request(`${a.url}/admin/api/events/stream?type=login.succeeded`, {
      headers: { cookie, accept: 'text/event-stream' },
    });
    const opened = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          for (const w of [...waiters]) w();
        });
        resolve();
      });
    });
    req.end();
    await opened;
    const until = (what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what}: ${text}`)), 10_000);
        const check = () => {
          if (!text.includes(what)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    await until('retry: ');
    const login = await b.login('bob', PASSWORD);
    assert.equal(login.status, 200);
    await until('"type":"login.succeeded"');
    req.destroy();
  });
});
