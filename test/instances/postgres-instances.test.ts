// Two real `tessera serve` processes on one PostgreSQL schema, behind no load balancer: the test
// spreads requests over both itself. Instance B reaches PostgreSQL through a TCP proxy the test
// controls, to lose an answer on the way back and to make the database unreachable for a while.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CliIO, runCli } from '@tessera/cli';
import { until } from '@tessera/test-support';
import { Instance, PG_URL, pgSkip, prepareDeployment, sql } from './support/instances.js';
import { TcpProxy } from './support/tcp-proxy.js';

const skip = pgSkip();

describe('two instances on one PostgreSQL database', { skip }, () => {
  let deployment: Awaited<ReturnType<typeof prepareDeployment>>;
  let proxy: TcpProxy;
  let a: Instance;
  let b: Instance;

  /** Every refresh token of the deployment, oldest first. */
  const lineage = async (familyId?: string) =>
    sql<{ family_id: string; generation: number; parent_hash: string | null; hash: string; status: string }>(
      `SELECT family_id, generation, parent_hash, hash, status FROM "${deployment.schema}".refresh_tokens
       ${familyId ? 'WHERE family_id = $1' : ''} ORDER BY family_id, generation`,
      familyId ? [familyId] : [],
    );
  const family = async (id: string) =>
    (
      await sql<{ status: string; generation: number }>(
        `SELECT status, generation FROM "${deployment.schema}".families WHERE id = $1`,
        [id],
      )
    )[0];

  before(async () => {
    deployment = await prepareDeployment();
    const target = new URL(PG_URL!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const viaProxy = new URL(PG_URL!);
    viaProxy.port = String(proxy.port);
    const env = {
      TESSERA_SECRET: deployment.secret,
      TESSERA_DATABASE_SCHEMA: deployment.schema,
      // One issuer for both: the load balancer's URL.
      TESSERA_ISSUER: 'http://auth.test.invalid',
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_PASSWORD_HASH_COST: '10',
      TESSERA_RATE_LIMIT_REFRESH: '0',
    };
    a = new Instance({ ...env, TESSERA_DATABASE_URL: PG_URL! }, 'A');
    b = new Instance({ ...env, TESSERA_DATABASE_URL: viaProxy.toString() }, 'B');
    await Promise.all([a.start(), b.start()]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.stop();
    await deployment?.drop();
  });

  it('200 concurrent refreshes of one token over both: one child, 200 identical answers, no 5xx, no idle transaction', async () => {
    const { refresh_token: token } = await a.login();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).refresh(token)),
    );
    const statuses = answers.map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [200], `statuses: ${statuses.join(',')}`);
    const refreshTokens = new Set(answers.map((r) => r.body.refresh_token));
    const accessTokens = new Set(answers.map((r) => r.body.access_token));
    assert.equal(refreshTokens.size, 1, 'one child for every caller');
    assert.equal(accessTokens.size, 1, 'one access token for every caller');
    const [fam] = await sql<{ id: string }>(`SELECT id FROM "${deployment.schema}".families`);
    const tokens = await lineage(fam!.id);
    assert.deepEqual(
      tokens.map((t) => [t.generation, t.status]),
      [
        [0, 'rotated'],
        [1, 'active'],
      ],
      'exactly one child',
    );
    // Every backend of this deployment is idle or running, none holding a transaction open.
    const idleInTransaction = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
      [`tessera ${deployment.schema}`],
    );
    assert.equal(idleInTransaction[0]!.n, 0);

    // A logout at A: the refresh token is refused at B at once.
    const child = [...refreshTokens][0] as string;
    const revoked = await a.post('/oauth/revoke', { token: child, client_id: 'web' });
    assert.equal(revoked.status, 200);
    const atB = await b.refresh(child);
    assert.equal(atB.status, 400, JSON.stringify(atB.body));
    assert.equal(atB.body.error, 'invalid_grant');
    assert.equal((await family(fam!.id))?.status, 'revoked');
  });

  it('a rotation whose answer is lost, a backend terminated mid-rotation, PostgreSQL unreachable: the retry gets the same child or a normal rotation', async () => {
    const before = new Set((await lineage()).map((t) => t.family_id));
    const { refresh_token: t0 } = await a.login();
    const fam = (await sql<{ id: string }>(`SELECT id FROM "${deployment.schema}".families`))
      .map((r) => r.id)
      .find((id) => !before.has(id))!;

    // 1. B's rotation commits, and its answer is lost between PostgreSQL and B.
    const cut = proxy.cutAfter('tessera_rotate');
    const lost = await b.refresh(t0);
    await cut;
    assert.equal(lost.status, 503, JSON.stringify(lost.body));
    assert.equal(lost.body.error, 'temporarily_unavailable');
    assert.equal((await family(fam))?.generation, 1, 'the rotation was committed');
    // The client's retry, at either instance, within grace: the identical child.
    const retryB = await b.refresh(t0);
    const retryA = await a.refresh(t0);
    assert.equal(retryB.status, 200, JSON.stringify(retryB.body));
    assert.equal(retryA.body.refresh_token, retryB.body.refresh_token);
    const c1 = retryB.body.refresh_token as string;
    assert.equal((await lineage(fam)).length, 2, 'no second child');

    // 2. The backend running A's rotation is terminated while the rotation waits for its row.
    const lock = new (await import('pg')).default.Client({ connectionString: PG_URL });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query(`SELECT 1 FROM "${deployment.schema}".families WHERE id = $1 FOR UPDATE`, [fam]);
    const pending = a.refresh(c1);
    let victim = 0;
    await until(async () => {
      const rows = await sql<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'
         AND query LIKE '%tessera_rotate%'`,
        [`tessera ${deployment.schema}`],
      );
      victim = rows[0]?.pid ?? 0;
      return victim !== 0;
    }, 'the rotation to wait on the family row');
    await sql('SELECT pg_terminate_backend($1)', [victim]);
    await lock.query('ROLLBACK');
    await lock.end();
    const terminated = await pending;
    assert.equal(terminated.status, 503, JSON.stringify(terminated.body));
    assert.equal((await family(fam))?.generation, 1, 'nothing of it was committed');
    // The retry is a normal rotation; the pool has replaced the connection.
    const normal = await a.refresh(c1);
    assert.equal(normal.status, 200, JSON.stringify(normal.body));
    const c2 = normal.body.refresh_token as string;

    // 3. PostgreSQL unreachable from B for a while: 503 and not ready, then back by itself.
    proxy.down();
    const down = await b.refresh(c2);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.error, 'temporarily_unavailable');
    assert.equal(await b.ready(), 503);
    assert.equal(await a.ready(), 200, 'A reaches PostgreSQL directly');
    proxy.up();
    await until(async () => (await b.ready()) === 200, 'B to reconnect', 15_000);
    const back = await b.refresh(c2);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.ok(proxy.connections > 0, 'the pool reconnected through the proxy');

    // One child per parent, generation after generation, and the family still active.
    const tokens = await lineage(fam);
    assert.deepEqual(
      tokens.map((t) => t.generation),
      [0, 1, 2, 3],
    );
    for (const [i, t] of tokens.entries()) {
      if (i > 0) assert.equal(t.parent_hash, tokens[i - 1]!.hash, `generation ${i} descends from ${i - 1}`);
    }
    assert.equal((await family(fam))?.status, 'active', 'never a revoked family');
  });

  it('tessera doctor reports the database, and the instance it checks, without changing either', async () => {
    const out: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: () => {}, readStdin: async () => '', env: {} };
    const argv = ['doctor', '--issuer', a.url, '--database-url', PG_URL!, '--database-schema'];
    const code = await runCli([...argv, deployment.schema, '--json'], io);
    // The report, then (when a check failed) the error, each a JSON object of its own.
    const first = (text: string) =>
      JSON.parse(text.includes('\n{') ? text.slice(0, text.lastIndexOf('\n{')) : text);
    const report = first(out.join('\n'));
    // The issuer the instances name is the load balancer's; discovery at A says so.
    assert.match(
      report.checks[0].detail,
      /^postgres at .* \(schema tessera_inst_\w+\): PostgreSQL [\d.]+.*, schema version \d+, current$/,
    );
    assert.equal(report.checks[0].status, 'ok');
    assert.equal(code, 1, 'discovery names the shared issuer, not A');
    out.length = 0;
    const missing = `tessera_absent_${process.pid}`;
    await runCli([...argv, missing, '--json'], io);
    const absent = first(out.join('\n'));
    assert.match(absent.checks[0].detail, /schema version 0 of \d+ \(the next start migrates it\)/);
    assert.deepEqual(
      await sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [missing]),
      [],
      'nothing created',
    );
  });
});
