import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTokenVault, DEFAULTS, type TokenVault } from '../../src/index.js';
import { startChildVault } from '../support/child-vault.js';
import { BACKEND_SECRET, startTesseraUpstream, type TesseraUpstream } from '../support/tessera-upstream.js';
import {
  dropSchema,
  makeKeys,
  PG_URL,
  pgSchema,
  pgSkip,
  TestClock,
  tempDb,
} from '../support/vault-fixtures.js';

const TTL_S = 600;

describe('refresh across processes and instances (Tessera upstream)', () => {
  let up: TesseraUpstream;
  const keys = makeKeys(['k1']);
  const dbs: ReturnType<typeof tempDb>[] = [];
  const schemas: string[] = [];
  before(async () => {
    up = await startTesseraUpstream({ accessTokenTtl: TTL_S });
  });
  after(async () => {
    await up.close();
    for (const d of dbs) d.cleanup();
    for (const s of schemas) await dropSchema(s);
  });

  const vaultOn = (database: string, clock: TestClock, schema?: string) =>
    createTokenVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database,
      ...(schema ? { postgres: { schema } } : {}),
      keys,
      clock,
    });

  async function twoProcesses(database: string, schema?: string) {
    const clock = new TestClock();
    const local = await vaultOn(database, clock, schema);
    const first = await up.signIn();
    await local.save('shared', first);
    const setup = {
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database,
      schema,
      keys,
      nowMs: clock.now(),
    };
    const children = await Promise.all([startChildVault(setup), startChildVault(setup)]);
    try {
      const before = await up.refreshes();
      const seen = up.proxy.refreshGrants();
      const expired = clock.now() + TTL_S * 1000 + 1000;
      await Promise.all(children.map((c) => c.setClock(expired)));
      const results = await Promise.all(children.map((c) => c.get('shared', 50)));
      const after = await up.refreshes();
      for (const r of results) assert.deepEqual(r.errors, []);
      const tokens = new Set(results.flatMap((r) => r.tokens));
      assert.equal(tokens.size, 1, 'both processes hand out the same new token');
      assert.ok(!tokens.has(String(first.access_token)));
      assert.equal(up.proxy.refreshGrants() - seen, 1, 'one refresh request reached the upstream');
      assert.equal(after.rotated - before.rotated, 1, 'one rotation counted by the upstream');
      assert.equal(after.grace - before.grace, 0);
      // The set both processes agree on is what the store holds.
      clock.ms = expired;
      assert.equal(await local.getValidAccessToken('shared'), [...tokens][0]);
    } finally {
      await Promise.all(children.map((c) => c.exit()));
      await local.close();
    }
  }

  it('two processes sharing one SQLite file, 50 callers each, at expiry: one upstream refresh', async () => {
    const db = tempDb();
    dbs.push(db);
    await twoProcesses(db.path);
  });

  it('two processes sharing one PostgreSQL schema, 50 callers each, at expiry: one upstream refresh', {
    skip: pgSkip(),
  }, async () => {
    const schema = pgSchema();
    schemas.push(schema);
    await twoProcesses(PG_URL!, schema);
  });

  async function killedHolder(database: string, schema?: string) {
    const clock = new TestClock();
    const local = await vaultOn(database, clock, schema);
    const first = await up.signIn();
    await local.save('killed', first);
    const holder = await startChildVault({
      issuer: up.issuer,
      clientId: 'backend',
      clientSecret: BACKEND_SECRET,
      database,
      schema,
      keys,
      nowMs: clock.now(),
    });
    try {
      const before = await up.refreshes();
      const expired = clock.now() + TTL_S * 1000 + 1000;
      await holder.setClock(expired);
      clock.ms = expired;
      // The holder's refresh reaches the upstream (which rotates) and its answer is held; then it dies.
      const held = up.proxy.holdNext();
      holder.startGet('killed', 1);
      await held.arrived;
      await holder.kill();
      held.drop();
      const killedAt = performance.now();
      // A caller now waits on the dead holder's lease; once the lease has run out it takes over.
      const waiting = local.getValidAccessToken('killed');
      let settled = false;
      waiting.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      // Bounded polling (at most 10 s) until the caller is seen waiting on the live lease; no sleep decides anything.
      const waitsSeen = async () => (await local.metrics.leaseWaits.get()).values[0]?.value ?? 0;
      for (const deadline = Date.now() + 10_000; (await waitsSeen()) === 0 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(await waitsSeen(), 1, 'the caller waits on the lease');
      assert.equal(settled, false, 'and is not answered while the lease is live');
      clock.advance(DEFAULTS.leaseMs);
      const token = await waiting;
      const tookOverMs = performance.now() - killedAt;
      const after = await up.refreshes();
      assert.notEqual(token, first.access_token);
      assert.equal(after.rotated - before.rotated, 1, "the dead holder's rotation");
      assert.equal(after.grace - before.grace, 1, 'the takeover got the same child within the grace period');
      assert.equal(after.failed - before.failed, 0);
      const takeovers = await local.metrics.leaseTakeovers.get();
      assert.equal(takeovers.values[0]?.value, 1);
      process.stdout.write(
        `# lease takeover (${schema ? 'PostgreSQL' : 'SQLite'}): ${tookOverMs.toFixed(0)} ms of real time after the kill (lease ${DEFAULTS.leaseMs} ms virtual)\n`,
      );
    } finally {
      await holder.exit();
      await local.close();
    }
  }

  it('a holder killed mid-refresh (SQLite): another caller takes over after the lease and recovers in the grace period', async () => {
    const db = tempDb();
    dbs.push(db);
    await killedHolder(db.path);
  });

  it('a holder killed mid-refresh (PostgreSQL): the same', { skip: pgSkip() }, async () => {
    const schema = pgSchema();
    schemas.push(schema);
    await killedHolder(PG_URL!, schema);
  });

  it('a holder paused past its lease cannot overwrite a newer set (fencing)', async () => {
    const db = tempDb();
    dbs.push(db);
    const clock = new TestClock();
    const a: TokenVault = await vaultOn(db.path, clock);
    const b: TokenVault = await vaultOn(db.path, clock);
    try {
      const first = await up.signIn();
      await a.save('paused', first);
      clock.advance(TTL_S * 1000 + 1000);
      // A takes the lease and refreshes; the upstream rotates (child C1); A's answer is held: A is paused.
      const held = up.proxy.holdNext();
      const fromA = a.getValidAccessToken('paused');
      await held.arrived;
      // A's lease runs out. B takes over (grace: the same C1), then refreshes again later (C2).
      clock.advance(DEFAULTS.leaseMs + 1);
      const c1 = await b.getValidAccessToken('paused');
      clock.advance(TTL_S * 1000 + 1000);
      const c2 = await b.getValidAccessToken('paused');
      assert.notEqual(c2, c1);
      // A wakes up with C1. Its write is fenced out; it hands out the newer C2.
      held.release();
      assert.equal(await fromA, c2);
      const fenced = await a.metrics.refreshes.get();
      assert.equal(fenced.values.find((v) => v.labels.result === 'fenced')?.value, 1);
      // The store still holds C2: the next refresh rotates normally, no reuse detected upstream.
      const before = await up.refreshes();
      clock.advance(TTL_S * 1000 + 1000);
      const c3 = await a.getValidAccessToken('paused');
      assert.notEqual(c3, c2);
      const after = await up.refreshes();
      assert.equal(after.rotated - before.rotated, 1);
      assert.equal(after.failed - before.failed, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
