import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RevocationNotice } from '@tessera/protocol';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import type { Logger } from '../../src/core/logger.js';
import type { RevocationFeedState, RevocationFeedStatus } from '../../src/revocations/revocation-feed.js';
import { RevocationSet } from '../../src/revocations/revocation-set.js';
import { AUDIENCE, bearer, FakeIssuer, RS_CLIENT_ID, RS_CLIENT_SECRET } from '../support/fake-issuer.js';

/** Collects events and lets a test await the first one matching a predicate. */
class Recorder<T> {
  readonly seen: T[] = [];
  readonly #waiters: Array<{ match: (v: T) => boolean; resolve: (v: T) => void }> = [];
  push = (value: T): void => {
    this.seen.push(value);
    for (const w of [...this.#waiters]) {
      if (w.match(value)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(value);
      }
    }
  };
  next(match: (v: T) => boolean, label: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });
  }
}

describe('revocation feed', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  const statuses = new Recorder<RevocationFeedStatus>();
  const notices = new Recorder<RevocationNotice>();
  const logs: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
  const logger: Logger = {
    info: (obj, msg) => logs.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => logs.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => logs.push({ level: 'error', msg, obj }),
  };
  const state = (s: RevocationFeedState) => (v: RevocationFeedStatus) => v.state === s;

  before(async () => {
    fake = await FakeIssuer.start();
    fake.publish('family', 'family-revoked-before-start');
    rs = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clientId: RS_CLIENT_ID,
      clientSecret: RS_CLIENT_SECRET,
      reconnectInitialMs: 5,
      reconnectMaxMs: 20,
      onStatus: statuses.push,
      onRevocation: notices.push,
      logger,
    });
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  it('loads the snapshot, then streams: a published notice refuses the next request of that session', async () => {
    const connected = statuses.next(state('connected'), 'connected');
    await rs.ready();
    await connected;
    assert.equal(fake.counts.snapshot, 1);
    assert.deepEqual(fake.lastEventIds, ['1'], 'the stream resumes right after the snapshot');

    const old = await fake.sign({ claims: { sid: 'family-revoked-before-start' } });
    assert.ok(!(await rs.authenticate(bearer(old))).ok, 'revoked before start: refused from the snapshot');

    const token = await fake.sign({ claims: { sid: 'family-live' } });
    const first = await rs.authenticate(bearer(token));
    assert.ok(first.ok, 'accepted (and now cached)');

    const arrived = notices.next((n) => n.value === 'family-live', 'notice');
    fake.publish('family', 'family-live');
    await arrived;
    const refused = await rs.authenticate(bearer(token));
    assert.ok(!refused.ok);
    assert.equal(refused.status, 401);
    assert.equal(refused.error.message, 'The access token has been revoked');
    const other = await rs.authenticate(bearer(await fake.sign({ claims: { sid: 'family-other' } })));
    assert.ok(other.ok, 'other sessions are unaffected');
  });

  it('revokes a single token by jti', async () => {
    const token = await fake.sign({ claims: { jti: 'jti-revoke-me', sid: 'family-jti' } });
    assert.ok((await rs.authenticate(bearer(token))).ok);
    const arrived = notices.next((n) => n.value === 'jti-revoke-me', 'jti notice');
    fake.publish('jti', 'jti-revoke-me');
    await arrived;
    assert.ok(!(await rs.authenticate(bearer(token))).ok);
    assert.ok((await rs.authenticate(bearer(await fake.sign({ claims: { sid: 'family-jti' } })))).ok);
  });

  it('when the stream is down: keeps serving, reports, reconnects with backoff and resumes with Last-Event-ID', async () => {
    const lastSeq = fake.notices.length;
    const reconnecting = statuses.next(state('reconnecting'), 'reconnecting');
    fake.feedDown = true;
    fake.dropStreams();
    const down = await reconnecting;
    assert.equal(down.lastEventId, lastSeq);
    assert.equal(rs.status().revocations.state, 'reconnecting');

    // Still serving with what it knows.
    assert.ok((await rs.authenticate(bearer(await fake.sign({ claims: { sid: 'family-ok' } })))).ok);
    assert.ok(!(await rs.authenticate(bearer(await fake.sign({ claims: { sid: 'family-live' } })))).ok);

    // Several failed attempts while the feed answers 503, each reported.
    await statuses.next((s) => s.state === 'reconnecting' && s.attempts >= 3, 'three attempts');
    assert.ok(logs.some((l) => l.level === 'warn' && /reconnecting/.test(l.msg)));

    // A revocation published while we were away arrives through the resume.
    fake.publish('family', 'family-revoked-while-down');
    const token = await fake.sign({ claims: { sid: 'family-revoked-while-down' } });
    const back = statuses.next(state('connected'), 'reconnected');
    const arrived = notices.next((n) => n.value === 'family-revoked-while-down', 'missed notice');
    fake.feedDown = false;
    const status = await back;
    assert.equal(status.attempts, 0, 'backoff resets on a successful connection');
    assert.equal(fake.lastEventIds.at(-1), String(lastSeq), 'resumed with Last-Event-ID');
    await arrived;
    assert.ok(!(await rs.authenticate(bearer(token))).ok);
    assert.equal(fake.counts.snapshot, 1, 'no second snapshot: the stream resumed');
    for (const l of logs)
      assert.doesNotMatch(JSON.stringify(l), /eyJ|Basic |secret/i, 'no token or secret in logs');
  });

  it('stops cleanly', async () => {
    const stopped = statuses.next(state('stopped'), 'stopped');
    rs.close();
    await stopped;
    assert.equal(rs.status().revocations.state, 'stopped');
  });
});

describe('RevocationSet', () => {
  it('forgets a notice after its exp, and prunes', () => {
    const set = new RevocationSet();
    const now = 1_000_000_000_000;
    set.add({ seq: 1, kind: 'family', value: 'f', exp: now / 1000 + 10 }, now);
    set.add({ seq: 2, kind: 'jti', value: 'j', exp: now / 1000 + 20 }, now);
    assert.ok(set.isRevoked('f', undefined, now));
    assert.ok(set.isRevoked(undefined, 'j', now));
    assert.ok(!set.isRevoked('f', undefined, now + 10_000));
    set.prune(now + 15_000);
    assert.deepEqual(set.size, { families: 0, jtis: 1 });
  });
});
