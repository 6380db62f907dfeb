/**
 * A real Tessera server in its own process: createTessera on a SQLite WAL file in a temp dir
 * (default `synchronous`), or, given `databaseUrl`, on PostgreSQL (a schema of the bench's own)
 * with Redis beside it when `redisUrl` is given, as `TESSERA_DATABASE_URL`/`TESSERA_REDIS_URL` set
 * them. Commands over IPC: `mint` pre-mints sessions (real refresh and access tokens) through the
 * domain's `issueSession`; `fill` inserts filler families straight into the store's tables.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, createUser, saveClient } from '@tessera/server';
import Database from 'better-sqlite3';
import pg from 'pg';
// Not exported by the package; the domain operation the login endpoint runs after the password check.
import { issueSession } from '../../packages/server/src/domain/issue-session.js';
import { childArgs, serve } from '../lib/child.js';
import { mapLimit } from '../lib/stats.js';

interface Args {
  port: number;
  /** Keep the database here (growth runs reuse one file); default: a fresh temp dir, removed on close. */
  dir?: string;
  logLevel?: string;
  /** The server's access-token format (default: Tessera's default, an ES256 JWT). */
  accessTokenFormat?: string;
  /** PostgreSQL instead of SQLite (`TESSERA_DATABASE_URL`), in this schema (`TESSERA_DATABASE_SCHEMA`). */
  databaseUrl?: string;
  databaseSchema?: string;
  /** Redis beside it (`TESSERA_REDIS_URL`, `TESSERA_REDIS_PREFIX`). */
  redisUrl?: string;
  redisPrefix?: string;
  /** The issuer, when several instances share one (default: this server's own URL). */
  issuer?: string;
  /** The master secret every instance on one database shares (`TESSERA_SECRET`). */
  secret?: string;
}

const args = childArgs<Args>();
const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const db = join(dir, 'tessera.db');
// Instances behind one load balancer share its URL as their issuer.
const issuer = args.issuer ?? `http://127.0.0.1:${args.port}`;
const shared = {
  ...(args.databaseUrl ? { databaseUrl: args.databaseUrl, databaseSchema: args.databaseSchema } : {}),
  ...(args.redisUrl ? { redisUrl: args.redisUrl, redisPrefix: args.redisPrefix } : {}),
};
const tessera = await createTessera({
  // What `TESSERA_SECRET` gives every instance on one database, passed as the option it becomes.
  ...(args.secret ? { masterSecret: Buffer.from(args.secret, 'base64url') } : {}),
  config: {
    env: {},
    flags: {
      db,
      ...shared,
      host: '127.0.0.1',
      port: args.port,
      issuer,
      // One IP (the load generator) sends everything: per-IP limits would refuse the benchmark itself.
      rateLimitLogin: 0,
      rateLimitRefresh: 0,
      passwordHashCost: 10,
      // Two log lines per request at `info` would measure pino, not rotation.
      logLevel: args.logLevel ?? 'warn',
      ...(args.accessTokenFormat ? { accessTokenFormat: args.accessTokenFormat } : {}),
    },
  },
});
const ctx = tessera.ctx;
const existing = await ctx.stores.directory.findClient('bench');
const client =
  existing ?? (await saveClient(ctx, { id: 'bench', public: true, grantTypes: ['refresh_token'] })).client;
// The DPoP benchmark's client: every refresh must carry a proof of the session's key.
const dpopClient =
  (await ctx.stores.directory.findClient('bench-dpop')) ??
  (await saveClient(ctx, { id: 'bench-dpop', public: true, dpop: true, grantTypes: ['refresh_token'] }))
    .client;
// Many users, as a real server has: one would keep every per-user index entry on one hot page.
// The first is made with its password hashed; the others share its hash (nobody signs in here).
const USERS = 1000;
const first =
  (await ctx.stores.directory.findUserByUsername('bench-user')) ??
  (await createUser(ctx, { username: 'bench-user', password: 'bench-password-0123' }));
const users = [first];
for (let i = 1; i < USERS; i++) {
  const username = `bench-user-${i}`;
  let user = await ctx.stores.directory.findUserByUsername(username);
  if (!user) {
    user = { ...first, id: randomUUID(), username };
    await ctx.stores.directory.createUser(user);
  }
  users.push(user);
}
// The protected-route benchmark's API: a resource server that reads the revocation feed.
const apiSecret = 'api-secret-0123456789-abcdef';
if (!(await ctx.stores.directory.findClient('api'))) {
  await saveClient(ctx, {
    id: 'api',
    public: false,
    secret: apiSecret,
    grantTypes: ['client_credentials'],
    introspectAny: true,
  });
}
await tessera.listen();

let filler: Database.Database | undefined;
let pgFiller: pg.Pool | undefined;
const pgTables = () => {
  const s = `"${args.databaseSchema ?? 'public'}"`;
  return { families: `${s}.families`, tokens: `${s}.refresh_tokens` };
};

/**
 * Filler sessions in PostgreSQL, written by PostgreSQL itself (`generate_series`, 50,000 rows a
 * statement): a family and its first refresh token each, with random-looking ids and hashes (md5
 * of a salted counter, so the primary keys land all over the index as real ids do), a thousand
 * users.
 */
async function fillPostgres(n: number) {
  pgFiller ??= new pg.Pool({ connectionString: args.databaseUrl, max: 1 });
  const t = pgTables();
  const salt = randomBytes(8).toString('hex');
  const now = Date.now();
  const started = performance.now();
  for (let done = 0; done < n; done += 50_000) {
    const m = Math.min(50_000, n - done);
    const ids = `SELECT i, md5(i::text || $1) AS id FROM generate_series($2::int, $3::int) i`;
    await pgFiller.query(
      `INSERT INTO ${t.families} (id, client_id, user_id, scope, status, created_at, expires_at, generation,
         user_agent, ip, grace_box)
       SELECT id, 'bench', 'filler-' || (i % 1000), '', 'active', $4, $5, 0, 'bench-filler', '127.0.0.1',
         NULL FROM (${ids}) g`,
      [salt, done, done + m - 1, now, now + 30 * 86_400_000],
    );
    await pgFiller.query(
      `INSERT INTO ${t.tokens} (family_id, generation, hash, status, issued_at, expires_at)
       SELECT id, 0, md5(id || 'token') || md5(id), 'active', $4, $5 FROM (${ids}) g`,
      [salt, done, done + m - 1, now, now + 14 * 86_400_000],
    );
  }
  await pgFiller.query(`VACUUM ANALYZE ${t.families}`);
  await pgFiller.query(`VACUUM ANALYZE ${t.tokens}`);
  return { families: await countPostgres(), ms: performance.now() - started };
}

async function countPostgres(): Promise<number> {
  pgFiller ??= new pg.Pool({ connectionString: args.databaseUrl, max: 1 });
  const { rows } = await pgFiller.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${pgTables().families}`,
  );
  return rows[0]?.n ?? 0;
}

serve(
  { url: `http://127.0.0.1:${args.port}`, issuer, db, apiClientId: 'api', apiSecret },
  {
    async mint(a) {
      const n = Number(a.n);
      const withAccess = a.withAccess === true;
      // `jkt`: sessions of the DPoP client, bound to that key thumbprint (as a sign-in with a proof binds them).
      const jkt = typeof a.jkt === 'string' ? a.jkt : undefined;
      const out = await mapLimit(Array.from({ length: n }), 32, () =>
        issueSession(ctx, {
          client: jkt === undefined ? client : dpopClient,
          user: users[Math.floor(Math.random() * users.length)]!,
          scope: '',
          grant: 'login',
          ip: '127.0.0.1',
          dpopJkt: jkt,
        }),
      );
      return {
        refresh: out.map((r) => r.refresh_token),
        ...(withAccess ? { access: out.map((r) => r.access_token) } : {}),
      };
    },
    fill(a) {
      if (args.databaseUrl) return fillPostgres(Number(a.n));
      // Filler sessions with the store's row shape (migrations.ts): one family and its first
      // refresh token, random 256-bit hashes (base64url, like the HMAC the store keeps).
      const n = Number(a.n);
      filler ??= new Database(db);
      filler.pragma('synchronous = OFF');
      const now = Date.now();
      const insT = filler.prepare(`INSERT INTO lineage (family_id, generation, hash, parent_hash, prev_seq,
        issued_at, expires_at, parent_rotated_at) VALUES (?, 0, ?, NULL, NULL, ?, ?, NULL)`);
      const insF = filler.prepare(`INSERT INTO families (id, client_id, user_id, scope, status, created_at,
        expires_at, generation, last_refresh_at, ended_at, end_reason, user_agent, ip, token_hash,
        token_parent_hash, token_issued_at, token_expires_at, lineage_head, grace_parent_hash, grace_box)
        VALUES (?, 'bench', ?, '', 'active', ?, ?, 0, NULL, NULL, NULL, 'bench-filler', '127.0.0.1', ?, NULL, ?, ?,
        ?, NULL, zeroblob(1024))`);
      const batch = 50_000;
      const started = performance.now();
      for (let done = 0; done < n; done += batch) {
        const m = Math.min(batch, n - done);
        const rnd = randomBytes(m * 48);
        filler.transaction(() => {
          for (let i = 0; i < m; i++) {
            const fid = rnd.subarray(i * 48, i * 48 + 16).toString('base64url');
            const hash = rnd.subarray(i * 48 + 16, i * 48 + 48).toString('base64url');
            // A thousand users own the filler sessions, so per-user indexes look realistic.
            const head = insT.run(fid, hash, now, now + 14 * 86_400_000).lastInsertRowid;
            insF.run(
              fid,
              `filler-${i % 1000}`,
              now,
              now + 30 * 86_400_000,
              hash,
              now,
              now + 14 * 86_400_000,
              head,
            );
          }
        })();
      }
      filler.pragma('synchronous = NORMAL');
      filler.pragma('wal_checkpoint(TRUNCATE)');
      const families = (filler.prepare('SELECT COUNT(*) AS n FROM families').get() as { n: number }).n;
      return { families, ms: performance.now() - started };
    },
    count() {
      if (args.databaseUrl) return countPostgres();
      filler ??= new Database(db);
      return (filler.prepare('SELECT COUNT(*) AS n FROM families').get() as { n: number }).n;
    },
  },
  async () => {
    filler?.close();
    await pgFiller?.end();
    await tessera.close();
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  },
);
