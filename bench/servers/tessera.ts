/**
 * A real Tessera server (createTessera, SQLite WAL file in a temp dir, default `synchronous`) in its
 * own process. Commands over IPC: `mint` pre-mints sessions (real refresh and access tokens) through
 * the domain's `issueSession`; `fill` inserts filler families straight into the SQLite file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, createUser, saveClient } from '@tessera/server';
import Database from 'better-sqlite3';
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
}

const args = childArgs<Args>();
const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const db = join(dir, 'tessera.db');
const issuer = `http://127.0.0.1:${args.port}`;
const tessera = await createTessera({
  config: {
    env: {},
    flags: {
      db,
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

serve(
  { url: issuer, db, apiClientId: 'api', apiSecret },
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
      filler ??= new Database(db);
      return (filler.prepare('SELECT COUNT(*) AS n FROM families').get() as { n: number }).n;
    },
  },
  async () => {
    filler?.close();
    await tessera.close();
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  },
);
