import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { startTestServer, type TestServer } from '../../packages/server/test/helpers/test-server.js';
import { post } from './support/driver.js';
import { recordResult } from './support/mode.js';

/**
 * Slow clients and floods: slow-loris headers, slow bodies, thousands of idle connections and a
 * connection cap. The server closes what it must within its timeouts (`headersTimeout`,
 * `requestTimeout`, `keepAliveTimeout`, `maxConnections`, set short here) and keeps answering
 * everyone else meanwhile.
 */

/**
 * 5,000 idle connections in both forms, where this process may open them: the test holds both
 * ends of each (10,000 descriptors). Under a lower open-files limit (`ulimit -n`) the count is
 * what fits, and the test says so.
 */
const IDLE_WANTED = 5_000;
const IDLE = Math.min(IDLE_WANTED, Math.floor((openFilesLimit() - 1_000) / 2));

/** This process's soft limit of open files (Linux: /proc/self/limits), or 1,024 when unknown. */
function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft) || 1_024;
  } catch {
    return 1_024;
  }
}
const LIMITS = { headersTimeout: 1, requestTimeout: 2, keepAliveTimeout: 1 };
/** Node checks the timeouts once a second: a timed-out connection goes within that much more. */
const SLACK_MS = 4_000;

interface Conn {
  socket: Socket;
  closedAt?: number;
  data: string;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const conn: Conn = { socket, data: '' };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      conn.data += d;
    });
    socket.on('close', () => {
      conn.closedAt ??= Date.now();
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

async function openMany(port: number, n: number): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < n; i += 200) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => open(port)))));
  }
  return conns;
}

/** Legitimate traffic beside the attack: a refresh chain and the JWKS, their slowest answer in ms. */
async function legitimate(s: TestServer, until: () => boolean) {
  let token = (await s.login()).refresh_token!;
  let slowest = 0;
  let served = 0;
  let failed = 0;
  while (!until()) {
    const t0 = Date.now();
    const [r, jwks] = await Promise.all([
      post(s.url, ENDPOINTS.token, { grant_type: 'refresh_token', client_id: 'web', refresh_token: token }),
      fetch(`${s.url}${ENDPOINTS.jwks}`).then((x) => x.status),
    ]);
    slowest = Math.max(slowest, Date.now() - t0);
    if (r !== 'lost' && r.status === 200 && jwks === 200) {
      token = r.body.refresh_token;
      served += 2;
    } else failed++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { slowest, served, failed };
}

const waitFor = async (done: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
};

describe('chaos: slow clients and floods', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startTestServer({ listen: true, config: { ...LIMITS, maxConnections: IDLE + 500 } });
    port = Number(new URL(s.url).port);
  });
  after(async () => {
    await s.close();
  });

  it('slow-loris headers are cut off after headersTimeout while others are answered', async () => {
    const conns = await openMany(port, 100);
    const start = Date.now();
    for (const c of conns) c.socket.write(`POST ${ENDPOINTS.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const drip = setInterval(() => {
      for (const c of conns) if (c.closedAt === undefined) c.socket.write('X-Slow: 1\r\n');
    }, 300);
    const allClosed = () => conns.every((c) => c.closedAt !== undefined);
    const traffic = legitimate(
      s,
      () => allClosed() || Date.now() - start > LIMITS.headersTimeout * 1000 + SLACK_MS,
    );
    await waitFor(allClosed, LIMITS.headersTimeout * 1000 + SLACK_MS);
    clearInterval(drip);
    const legit = await traffic;
    const closedAfter = Math.max(...conns.map((c) => (c.closedAt ?? Number.POSITIVE_INFINITY) - start));
    for (const c of conns) c.socket.destroy();
    assert.ok(
      allClosed(),
      `every slow-loris connection was closed (${conns.filter((c) => !c.closedAt).length} open)`,
    );
    assert.equal(legit.failed, 0);
    assert.ok(legit.slowest < 2_000, `others answered within ${legit.slowest} ms`);
    recordResult('slowloris', { connections: conns.length, closedWithinMs: closedAfter, ...legit });
  });

  it('slow bodies are answered 408 after requestTimeout while others are answered', async () => {
    const conns = await openMany(port, 50);
    const start = Date.now();
    for (const c of conns) {
      c.socket.write(
        `POST ${ENDPOINTS.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\ngrant_type=`,
      );
    }
    const drip = setInterval(() => {
      for (const c of conns) if (c.closedAt === undefined) c.socket.write('a');
    }, 300);
    const allClosed = () => conns.every((c) => c.closedAt !== undefined);
    const bound = LIMITS.requestTimeout * 1000 + SLACK_MS;
    const traffic = legitimate(s, () => allClosed() || Date.now() - start > bound);
    await waitFor(allClosed, bound);
    clearInterval(drip);
    const legit = await traffic;
    for (const c of conns) c.socket.destroy();
    assert.ok(allClosed(), 'every slow body was cut off');
    const answers = conns.map((c) => c.data.split('\r\n')[0]);
    assert.ok(
      answers.every((a) => a === 'HTTP/1.1 408 Request Timeout'),
      `408 for each: ${[...new Set(answers)].join(' | ')}`,
    );
    assert.ok(
      conns.every((c) => c.data.includes('"error_code":"request_timeout"')),
      'in the documented shape',
    );
    assert.equal(legit.failed, 0);
    assert.ok(legit.slowest < 2_000, `others answered within ${legit.slowest} ms`);
    recordResult('slow-bodies', { connections: conns.length, answer: '408 request_timeout', ...legit });
  });

  it(`${IDLE} idle connections: others are answered, and the idle ones are closed after headersTimeout`, async (t) => {
    if (IDLE < IDLE_WANTED)
      t.diagnostic(
        `${IDLE} idle connections, not ${IDLE_WANTED}: the open-files limit is ${openFilesLimit()}`,
      );
    const start = Date.now();
    const conns = await openMany(port, IDLE);
    const openedMs = Date.now() - start;
    const allClosed = () => conns.every((c) => c.closedAt !== undefined);
    const bound = LIMITS.headersTimeout * 1000 + SLACK_MS + openedMs;
    const legit = await legitimate(s, () => allClosed() || Date.now() - start > bound);
    await waitFor(allClosed, bound);
    const open = conns.filter((c) => c.closedAt === undefined).length;
    for (const c of conns) c.socket.destroy();
    assert.equal(open, 0, 'every idle connection was closed by the server');
    assert.equal(legit.failed, 0);
    assert.ok(legit.slowest < 3_000, `others answered within ${legit.slowest} ms`);
    recordResult('idle-connections', {
      connections: IDLE,
      openFilesLimit: openFilesLimit(),
      openedMs,
      closedWithinMs: Math.max(...conns.map((c) => (c.closedAt ?? Number.NaN) - start)),
      ...legit,
    });
  });

  it('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
    const c = await open(port);
    c.socket.write(`GET ${ENDPOINTS.jwks} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor(() => c.data.includes('\r\n\r\n'), 5_000);
    const answered = Date.now();
    await waitFor(() => c.closedAt !== undefined, LIMITS.keepAliveTimeout * 1000 + SLACK_MS);
    c.socket.destroy();
    assert.ok(c.data.startsWith('HTTP/1.1 200'), c.data.slice(0, 100));
    assert.ok(c.closedAt !== undefined && c.closedAt - answered < LIMITS.keepAliveTimeout * 1000 + SLACK_MS);
  });
});

describe('chaos: the connection cap', () => {
  it('past maxConnections new connections are closed at once; once the flood times out, service is back', async () => {
    const cap = 100;
    const s = await startTestServer({ listen: true, config: { ...LIMITS, maxConnections: cap } });
    try {
      const port = Number(new URL(s.url).port);
      const flood = await openMany(port, cap);
      const extra = await open(port);
      extra.socket.write(`GET ${ENDPOINTS.jwks} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      await waitFor(() => extra.closedAt !== undefined, 3_000);
      assert.ok(
        extra.closedAt !== undefined && extra.data === '',
        'the connection past the cap was closed unanswered',
      );
      await waitFor(
        () => flood.every((c) => c.closedAt !== undefined),
        LIMITS.headersTimeout * 1000 + SLACK_MS,
      );
      const back = await fetch(`${s.url}${ENDPOINTS.jwks}`);
      assert.equal(back.status, 200, 'served again once the idle flood was closed');
      for (const c of flood) c.socket.destroy();
      recordResult('connection-cap', { cap, pastTheCap: 'closed unanswered', afterTheFlood: back.status });
    } finally {
      await s.close();
    }
  });
});
