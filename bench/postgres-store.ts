// The PostgreSQL store's rotation, measured at the port (no HTTP): per-rotation statements on the
// pool beside a group commit (one transaction per event-loop turn, a savepoint per rotation), at
// c=10 and c=50, in one run; where a rotation's time goes (a bare round trip, the read, the
// rotation alone); prepared statements against unnamed ones (a request's read and rotation, in
// alternating rounds: rotations/s and the CPU per rotation of the client and of PostgreSQL's
// backends); and p50 growth with the number of families (seeded with generate_series).
//
//   TESSERA_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test \
//     node --import tsx --conditions=@tessera/source bench/postgres-store.ts [families...]
//
// Loopback only, bounded (a fixed number of rotations per run), in a schema of its own dropped after.
import { randomBytes } from 'node:crypto';
import type { RotateInput } from '@tessera/server';
import { openPostgresStores, type PostgresStores } from '@tessera/store-postgres';
import pg from 'pg';
import { processCpu } from './lib/child.js';

const URL = process.env.TESSERA_BENCH_PG_URL ?? process.env.TESSERA_TEST_PG_URL;
if (!URL) throw new Error('set TESSERA_BENCH_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
const SIZES = process.argv.slice(2).map(Number).filter(Boolean);
const GROWTH = SIZES.length ? SIZES : [10_000, 100_000, 1_000_000];
const ROTATIONS = 3000;
const T0 = 1_800_000_000_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Families f1..fN, each with its token h<i> at generation 0, written by PostgreSQL itself. */
async function seed(stores: PostgresStores, n: number): Promise<number> {
  const s = `"${stores.schema}"`;
  const start = performance.now();
  await stores.pool.query(`TRUNCATE ${s}.refresh_tokens, ${s}.families, ${s}.events`);
  await stores.pool.query(
    `INSERT INTO ${s}.families (id, client_id, user_id, scope, status, created_at, expires_at, generation)
     SELECT 'f' || i, 'web', 'u' || (i % 1000), '', 'active', $1, $2, 0 FROM generate_series(1, $3) i`,
    [T0, T0 + 1e12, n],
  );
  await stores.pool.query(
    `INSERT INTO ${s}.refresh_tokens (family_id, generation, hash, status, issued_at, expires_at)
     SELECT 'f' || i, 0, 'h' || i, 'active', $1, $2 FROM generate_series(1, $3) i`,
    [T0, T0 + 1e12, n],
  );
  await stores.pool.query(`VACUUM ANALYZE ${s}.families`);
  await stores.pool.query(`VACUUM ANALYZE ${s}.refresh_tokens`);
  return performance.now() - start;
}

/** The next rotation of family i (its current generation kept here). */
function rotation(i: number, generation: number, grace: Buffer): RotateInput {
  const familyId = `f${i}`;
  return {
    parentHash: generation === 0 ? `h${i}` : `h${i}-${generation}`,
    parentGeneration: generation,
    child: {
      hash: `h${i}-${generation + 1}`,
      familyId,
      generation: generation + 1,
      parentHash: null,
      status: 'active',
      issuedAt: T0,
      expiresAt: T0 + 1e12,
      rotatedAt: null,
      graceResponse: null,
    },
    graceResponse: grace,
    now: T0 + 1,
    events: [{ at: T0 + 1, type: 'token.refreshed', familyId, userId: 'u', clientId: 'web' }],
  };
}

type Rotate = (input: RotateInput) => Promise<unknown>;

/**
 * `total` steps over distinct random families, `c` at a time (no family twice at once): `step`
 * is given family i at its current generation, which moves on when the step is done.
 */
async function overFamilies(
  families: number,
  c: number,
  total: number,
  gens: Map<number, number>,
  step: (i: number, generation: number) => Promise<void>,
): Promise<void> {
  const picked = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      let i: number;
      do i = 1 + Math.floor(Math.random() * families);
      while (picked.has(i));
      picked.add(i);
      const g = gens.get(i) ?? 0;
      await step(i, g);
      gens.set(i, g + 1);
      picked.delete(i);
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
}

/** `total` rotations of distinct random families, `c` at a time: rotations/s, p50, p99, CPU per op. */
async function run(rotate: Rotate, families: number, c: number, total: number, gens: Map<number, number>) {
  const grace = randomBytes(700);
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await overFamilies(families, c, total, gens, async (i, g) => {
    const t = performance.now();
    await rotate(rotation(i, g, grace));
    latencies.push(performance.now() - t);
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: Math.round(total / seconds),
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    clientCpuUs: Math.round((cpu.user + cpu.system) / total),
  };
}

/** A group commit on PostgreSQL: rotations queued in one turn share a transaction, one savepoint each. */
function groupCommit(stores: PostgresStores): Rotate {
  const s = `"${stores.schema}"`;
  let pending: { input: RotateInput; done: (v: unknown) => void; fail: (e: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    const client: pg.PoolClient = await stores.pool.connect();
    try {
      await client.query('BEGIN');
      const results: unknown[] = [];
      for (const { input } of batch) {
        await client.query('SAVEPOINT r');
        const c = input.child;
        const r = await client.query(
          `SELECT ${s}.tessera_rotate($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, NULL) AS rotated`,
          [
            c.familyId,
            input.parentHash,
            input.parentGeneration,
            input.now,
            input.graceResponse,
            c.hash,
            c.generation,
            c.status,
            c.issuedAt,
            c.expiresAt,
            c.rotatedAt,
            JSON.stringify(input.events ?? []),
          ],
        );
        await client.query('RELEASE SAVEPOINT r');
        results.push(r.rows[0]);
      }
      await client.query('COMMIT');
      for (const [i, b] of batch.entries()) b.done(results[i]);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      for (const b of batch) b.fail(err);
    } finally {
      client.release();
    }
  };
  return (input) =>
    new Promise((done, fail) => {
      pending.push({ input, done, fail });
      if (pending.length === 1) setImmediate(flush);
    });
}

/** CPU time (µs, all threads) of the backends serving `application_name` (same machine). */
async function backendCpuUs(admin: pg.Client, application: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
    [application],
  );
  // A backend that ended between the two reads counts nothing.
  return rows.reduce((sum, { pid }) => sum + (processCpu(pid)?.all ?? 0), 0);
}

/**
 * A request's store work (`findToken`, then `rotate`), `total` times over distinct random
 * families, `c` at a time: rotations/s and CPU per rotation of this process and of the backends.
 */
async function requestRun(
  s: PostgresStores,
  admin: pg.Client,
  families: number,
  c: number,
  total: number,
  gens: Map<number, number>,
) {
  const grace = randomBytes(700);
  const application = `tessera ${s.schema}`;
  const db0 = await backendCpuUs(admin, application);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await overFamilies(families, c, total, gens, async (i, g) => {
    const input = rotation(i, g, grace);
    if (!(await s.sessions.findToken(input.child.familyId, input.parentHash)))
      throw new Error(`f${i} not found`);
    const r = await s.sessions.rotate(input);
    if (r.outcome !== 'rotated') throw new Error(`f${i}: ${r.outcome}`);
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const db1 = await backendCpuUs(admin, application);
  return {
    perSecond: total / seconds,
    clientUs: (cpu.user + cpu.system) / total,
    backendUs: (db1 - db0) / total,
  };
}

const median = (xs: number[]) => pct(xs, 50);

/** Prepared statements (the default) against unnamed ones, on one schema, in alternating rounds. */
async function preparedAgainstUnnamed(say: (line: string) => void, families: number) {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  // Two stores on one schema, 20 connections each (within the server's 100 with the rest of this
  // script's); only one works in a round, so the backends counted are its own.
  const on = await openPostgresStores({ url: URL!, schema, poolSize: 20 });
  const off = await openPostgresStores({ url: URL!, schema, poolSize: 20, preparedStatements: false });
  try {
    const gens = new Map<number, number>();
    say(
      '| c | prepared: rot/s, client µs, backend µs | unnamed: rot/s, client µs, backend µs | rot/s ratio | backend CPU ratio (per round) |',
    );
    say('| --- | --- | --- | --- | --- |');
    for (const c of [10, 50]) {
      await requestRun(on, admin, families, c, 500, gens); // each connection prepares, once
      await requestRun(off, admin, families, c, 500, gens);
      const rounds: {
        a: Awaited<ReturnType<typeof requestRun>>;
        b: Awaited<ReturnType<typeof requestRun>>;
      }[] = [];
      for (let r = 0; r < 5; r++) {
        // Order swapped every round.
        const first = await requestRun(r % 2 ? off : on, admin, families, c, ROTATIONS, gens);
        const second = await requestRun(r % 2 ? on : off, admin, families, c, ROTATIONS, gens);
        rounds.push(r % 2 ? { a: second, b: first } : { a: first, b: second });
      }
      const m = (pick: (x: (typeof rounds)[number]) => number) => median(rounds.map(pick));
      const backendRatios = rounds.map((x) => x.a.backendUs / x.b.backendUs);
      say(
        `| ${c} | ${Math.round(m((x) => x.a.perSecond))}, ${Math.round(m((x) => x.a.clientUs))}, ${Math.round(m((x) => x.a.backendUs))} | ${Math.round(m((x) => x.b.perSecond))}, ${Math.round(m((x) => x.b.clientUs))}, ${Math.round(m((x) => x.b.backendUs))} | ${m((x) => x.a.perSecond / x.b.perSecond).toFixed(2)}× | ${median(backendRatios).toFixed(2)} (${backendRatios.map((x) => x.toFixed(2)).join(', ')}) |`,
      );
    }
  } finally {
    await on.close();
    await off.close();
    await admin.end();
  }
}

const schema = `tessera_bench_${process.pid}`;
const stores = await openPostgresStores({ url: URL, schema, poolSize: 50 });
try {
  const lines: string[] = [];
  const say = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  const base = 10_000;
  say(`seeded ${base} families in ${Math.round(await seed(stores, base))} ms`);
  await preparedAgainstUnnamed(say, base);
  await seed(stores, base);
  const gens = new Map<number, number>();
  // Where a rotation's time goes, one at a time (c=1).
  const rtt: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await stores.pool.query('SELECT 1');
    rtt.push(performance.now() - t);
  }
  const reads: number[] = [];
  for (let i = 0; i < 500; i++) {
    const n = 1 + Math.floor(Math.random() * base);
    const t = performance.now();
    await stores.sessions.findToken(`f${n}`, `h${n}`);
    reads.push(performance.now() - t);
  }
  const one = await run((x) => stores.sessions.rotate(x), base, 1, 500, gens);
  say(
    `c=1 p50: round trip (SELECT 1) ${pct(rtt, 50).toFixed(3)} ms, findToken ${pct(reads, 50).toFixed(3)} ms, rotate ${one.p50.toFixed(3)} ms`,
  );
  say(
    '| c | per-rotation statement: rot/s, p50, p99 ms | group commit: rot/s, p50, p99 ms | ratio (rot/s) |',
  );
  say('| --- | --- | --- | --- |');
  for (const c of [10, 50]) {
    const a = await run((x) => stores.sessions.rotate(x), base, c, ROTATIONS, gens);
    const b = await run(groupCommit(stores), base, c, ROTATIONS, gens);
    const a2 = await run((x) => stores.sessions.rotate(x), base, c, ROTATIONS, gens);
    const best = a.perSecond > a2.perSecond ? a : a2;
    say(
      `| ${c} | ${best.perSecond}, ${best.p50.toFixed(2)}, ${best.p99.toFixed(2)} (client CPU ${best.clientCpuUs} us/op) | ${b.perSecond}, ${b.p50.toFixed(2)}, ${b.p99.toFixed(2)} (client CPU ${b.clientCpuUs} us/op) | ${(best.perSecond / b.perSecond).toFixed(2)} |`,
    );
  }
  say('| families | seed ms | rotate p50 ms (c=10) | p99 | rot/s | p50 ÷ first |');
  say('| --- | --- | --- | --- | --- | --- |');
  let first = 0;
  for (const n of GROWTH) {
    const seeded = await seed(stores, n);
    const g = new Map<number, number>();
    await run((x) => stores.sessions.rotate(x), n, 10, 500, g); // warm the cache
    const r = await run((x) => stores.sessions.rotate(x), n, 10, ROTATIONS, g);
    first ||= r.p50;
    say(
      `| ${n} | ${Math.round(seeded)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.perSecond} | ${(r.p50 / first).toFixed(2)} |`,
    );
  }
} finally {
  await stores.pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
  await stores.close();
}
