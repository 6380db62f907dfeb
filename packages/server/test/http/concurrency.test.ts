import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const agent = new Agent({ keepAlive: true, maxSockets: 128 });

/** POST a form over real HTTP; resolves with status and parsed body. */
function post(
  base: string,
  path: string,
  form: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(payload);
  });
}

async function familyOf(s: TestServer, accessToken: string) {
  const sid = (await s.introspect(accessToken)).sid as string;
  return s.tessera.ctx.stores.sessions.listTokens(sid);
}

describe('concurrent refreshes coalesce', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ listen: true });
    // A second instance on the same database file and master secret: two servers, one store.
    b = await startTestServer({ listen: true, dbPath: a.dbPath, masterSecret: a.masterSecret });
  });
  after(async () => {
    agent.destroy();
    await b.close();
    await a.close();
  });

  it('150 concurrent refreshes of one token over HTTP: one child, 150 identical 200 answers', async () => {
    const login = await a.login();
    const form = { grant_type: 'refresh_token', client_id: 'web', refresh_token: login.refresh_token! };
    const results = await Promise.all(Array.from({ length: 150 }, () => post(a.url, ENDPOINTS.token, form)));
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
    assert.equal(new Set(results.map((r) => r.body.access_token)).size, 1);
    const lineage = await familyOf(a, results[0]!.body.access_token);
    assert.equal(lineage.length, 2, 'exactly one child in the store');
  });

  it('the same across two server instances sharing one store: 2 × 60 concurrent requests, one child', async () => {
    const login = await a.login();
    const form = { grant_type: 'refresh_token', client_id: 'web', refresh_token: login.refresh_token! };
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => post(i % 2 === 0 ? a.url : b.url, ENDPOINTS.token, form)),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
    assert.equal(new Set(results.map((r) => r.body.access_token)).size, 1);
    const lineage = await familyOf(a, results[0]!.body.access_token);
    assert.equal(lineage.length, 2);
    // Each instance coalesced its own requests; requests that missed the winning rotation were answered from the grace box.
    const graceAnswers = await a.tessera.ctx.stores.events.list({
      familyId: lineage[0]!.familyId,
      type: 'token.grace_reuse',
    });
    assert.ok(graceAnswers.length >= 1, 'some answers came from the grace box');
  });

  it('concurrent refreshes of many sessions stay independent', async () => {
    const logins = await Promise.all(Array.from({ length: 20 }, () => a.login()));
    const results = await Promise.all(
      logins.flatMap((l) =>
        Array.from({ length: 5 }, () =>
          post(a.url, ENDPOINTS.token, {
            grant_type: 'refresh_token',
            client_id: 'web',
            refresh_token: l.refresh_token!,
          }),
        ),
      ),
    );
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 20);
  });
});
