import assert from 'node:assert/strict';
import { type IncomingMessage, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS, type LifecycleEvent } from '@tessera/protocol';
import { ManualClock, ManualTimers } from '../../src/index.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/test-server.js';

/** An open event stream: its frames as they arrive, and a wait for one that matches. */
interface Sse {
  res: IncomingMessage;
  status: number;
  raw: () => string;
  events: () => LifecycleEvent[];
  waitFor(pred: (e: LifecycleEvent) => boolean, what: string): Promise<LifecycleEvent>;
  waitForText(text: string): Promise<void>;
  close(): void;
}

function openStream(base: string, path: string, headers: Record<string, string>): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const w of [...waiters]) w();
      });
      const events = () =>
        text
          .split('\n\n')
          .filter((f) => f.includes('event: lifecycle'))
          .map(
            (f) =>
              JSON.parse(
                f
                  .split('\n')
                  .find((l) => l.startsWith('data: '))!
                  .slice(6),
              ) as LifecycleEvent,
          );
      // A bounded wait for bytes from the socket (the server's answer), never a sleep.
      const until = (ok: () => boolean, what: string) =>
        new Promise<void>((done, fail) => {
          if (ok()) return done();
          const timer = setTimeout(() => {
            waiters.delete(check);
            fail(new Error(`timed out waiting for ${what}; got:\n${text}`));
          }, 10_000);
          const check = () => {
            if (!ok()) return;
            clearTimeout(timer);
            waiters.delete(check);
            done();
          };
          waiters.add(check);
        });
      resolve({
        res,
        status: res.statusCode ?? 0,
        raw: () => text,
        events,
        async waitFor(pred, what) {
          await until(() => events().some(pred), what);
          return events().find(pred)!;
        },
        waitForText: (t) => until(() => text.includes(t), JSON.stringify(t)),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the live event tail (GET /admin/api/events/stream)', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const timers = new ManualTimers(clock);
  let a: TestServer;
  let b: TestServer;
  let cookie = '';
  const open: Sse[] = [];
  const stream = async (query = '', headers: Record<string, string> = {}) => {
    const s = await openStream(a.url, `/admin/api/events/stream${query}`, { cookie, ...headers });
    open.push(s);
    return s;
  };

  before(async () => {
    a = await startTestServer({ listen: true, clock, setTimer: timers.setTimer });
    // A second instance on the same SQLite file, with no signal between them: only the poll.
    b = await startTestServer({
      listen: true,
      clock,
      setTimer: timers.setTimer,
      dbPath: a.dbPath,
      masterSecret: a.masterSecret,
    });
    const res = await fetch(`${a.url}/admin/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: a.url },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    assert.equal(res.status, 200);
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  });
  after(async () => {
    for (const s of open) s.close();
    await b.close();
    await a.close();
  });

  it('needs the admin session: anonymous 401 in the one error shape', async () => {
    const res = await fetch(`${a.url}/admin/api/events/stream`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error_code: string }).error_code, 'sign_in_required');
  });

  it('a login on this instance shows at once; the filter keeps only what it names', async () => {
    const all = await stream();
    const refreshesOnly = await stream('?type=token.refreshed');
    assert.equal(all.status, 200);
    assert.match(String(all.res.headers['content-type']), /^text\/event-stream/);
    assert.equal(all.res.headers['cache-control'], 'no-store');
    await all.waitForText('retry: ');
    const t = await a.login();
    // Recorded events wake the tails at most every 250 ms (virtual time here).
    await timers.advance(250);
    const issued = await all.waitFor((e) => e.type === 'login.succeeded', 'the login');
    assert.equal(issued.userId, a.aliceId);
    await a.refresh(t.refresh_token!);
    await timers.advance(250);
    const refreshed = await refreshesOnly.waitFor((e) => e.type === 'token.refreshed', 'the refresh');
    assert.ok(
      refreshesOnly.events().every((e) => e.type === 'token.refreshed'),
      refreshesOnly.raw(),
    );
    assert.ok(!JSON.stringify(refreshed).includes(t.refresh_token!), 'no token value in an event');
    assert.ok(!all.raw().includes(t.access_token), 'no token value in the stream');
  });

  it('an event recorded by another instance on the same store shows after one poll (1 s)', async () => {
    const s = await stream('?client=mobile');
    await s.waitForText('retry: ');
    const res = await b.tessera.app.inject({
      method: 'POST',
      url: ENDPOINTS.login,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'mobile' }),
    });
    assert.equal(res.statusCode, 200);
    // Instance A was not told; its tail reads the store on its next poll.
    await timers.advance(1000);
    const e = await s.waitFor((x) => x.type === 'login.succeeded', 'the login on B');
    assert.equal(e.clientId, 'mobile');
  });

  it('resumes after Last-Event-ID from the store, then goes live', async () => {
    const first = await stream();
    await first.waitForText('retry: ');
    const t = await a.login();
    await timers.advance(250);
    const issued = await first.waitFor((e) => e.type === 'token.issued', 'token.issued');
    await a.refresh(t.refresh_token!);
    await timers.advance(250);
    await first.waitFor((e) => e.type === 'token.refreshed' && e.id > issued.id, 'the refresh');
    const missed = first.events().filter((e) => e.id > issued.id);
    const resumed = await stream('', { 'last-event-id': String(issued.id) });
    for (const m of missed) await resumed.waitFor((e) => e.id === m.id, `event ${m.id} again`);
    assert.ok(
      resumed.events().every((e) => e.id > issued.id),
      'nothing up to the resumed id',
    );
    const ids = resumed.events().map((e) => e.id);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((x, y) => x - y),
      'each once, in order',
    );
    await a.login();
    await timers.advance(250);
    await resumed.waitFor((e) => e.type === 'login.succeeded' && e.id > Math.max(...ids), 'a new event');
    const bad = await fetch(`${a.url}/admin/api/events/stream`, {
      headers: { cookie, 'last-event-id': 'x' },
    });
    assert.equal(bad.status, 400);
  });

  it('a request that does not ask for a stream gets a snapshot (no connection held open)', async () => {
    for (const old of open.splice(0)) old.close();
    const res = await fetch(`${a.url}/admin/api/events/stream?after=0&type=login.succeeded`, {
      headers: { cookie },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { lastEventId: number; items: LifecycleEvent[] };
    assert.ok(body.lastEventId > 0);
    assert.ok(body.items.length > 0 && body.items.every((e) => e.type === 'login.succeeded'));
    const head = await fetch(`${a.url}/admin/api/events/stream`, { method: 'HEAD', headers: { cookie } });
    assert.equal(head.status, 200);
  });

  it('sends a heartbeat on an idle stream (virtual time)', async () => {
    for (const old of open.splice(0)) old.close();
    const s = await stream('?type=key.rotated');
    await s.waitForText('retry: ');
    await timers.advance(15_000);
    await s.waitForText(': heartbeat');
  });

  it('a reader that stops reading is cut off with an overflow event, not buffered without end', async () => {
    for (const old of open.splice(0)) old.close();
    const url = new URL(a.url);
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    socket.write(
      `GET /admin/api/events/stream?type=admin.action HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nCookie: ${cookie}\r\n\r\n`,
    );
    // The stream's first bytes, or the test's bound.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stream: ${text}`)), 10_000);
      const check = () => {
        if (!text.includes('retry: ')) return;
        clearTimeout(timer);
        socket.off('data', check);
        resolve();
      };
      socket.on('data', check);
    });
    assert.ok(text.includes('retry: '), text);
    socket.pause();
    // About 12 MB of matching events: more than the socket buffers and the queue's 1,000 frames.
    const pad = 'x'.repeat(4000);
    for (let batch = 0; batch < 3; batch++) {
      await a.tessera.ctx.stores.events.append(
        Array.from({ length: 1000 }, (_, i) => ({
          at: clock.now(),
          type: 'admin.action' as const,
          data: { i, pad },
        })),
      );
      await timers.advance(1000);
    }
    socket.resume();
    const done = await Promise.race([
      ended.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert.equal(done, true, 'the server ended the stream');
    assert.match(text, /event: overflow\ndata: \{"lastId":\d+\}/);
    socket.destroy();
  });

  it('caps the streams of one admin (429 rate_limited with Retry-After)', async () => {
    const mineBefore = open.splice(0);
    for (const s of mineBefore) s.close();
    // The server notices the closed sockets: a stream that is refused while they close is not
    // what this test is about, so it waits for the count to drop (bounded).
    for (let i = 0; i < 200; i++) {
      const probe = await fetch(`${a.url}/admin/api/events/stream?type=none`, {
        headers: { cookie, accept: 'text/event-stream' },
      });
      await probe.body?.cancel();
      if (probe.status === 200) break;
    }
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    const mine: Sse[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await stream();
      await s.waitForText('retry: ');
      mine.push(s);
    }
    const refused = await fetch(`${a.url}/admin/api/events/stream`, {
      headers: { cookie, accept: 'text/event-stream' },
    });
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get('retry-after'));
    assert.equal(((await refused.json()) as { error_code: string }).error_code, 'rate_limited');
  });
});
