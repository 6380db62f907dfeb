import type { LifecycleEvent } from '@tessera/protocol';
import Database from 'better-sqlite3';
import { DEFAULTS } from '../../config/defaults.js';
import { LIMITS } from '../../config/limits.js';
import type {
  CleanupInput,
  CleanupResult,
  ClientRecord,
  DirectoryStore,
  EventFilter,
  EventInput,
  EventStore,
  FamilyEnd,
  FamilyFilter,
  FamilyRecord,
  KeyRecord,
  KeyStore,
  RefreshTokenRecord,
  ReplayStore,
  RevocationRecord,
  RotateInput,
  RotateResult,
  Stores,
  TokenAndFamily,
  TokenStore,
  UserRecord,
} from '../../ports/index.js';
import { DuplicateError, StoreUnavailableError } from '../../ports/index.js';
import { startCheckpointer, type WriteGate } from './checkpointer.js';
import { MIGRATIONS } from './migrations.js';

export interface SqliteOptions {
  /** File path, or `:memory:`. */
  path: string;
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Checkpoint the WAL on a worker thread every this many ms instead of inside commits
   * (default `LIMITS.checkpointIntervalMs`; 0 leaves SQLite's automatic checkpoints on the serving connection).
   */
  checkpointIntervalMs?: number;
  /** Page cache of this connection in MiB (default `DEFAULTS.sqliteCacheMiB`). */
  cacheMiB?: number;
  /** When the checkpointer restarts the WAL: its size in frames, and the least time between two. */
  walRestartFrames?: number;
  walRestartIntervalMs?: number;
  /** Told when a WAL checkpoint fails on the checkpointer thread (the server logs it). */
  onCheckpointError?: (message: string) => void;
}

/**
 * Opens (and migrates) the embedded SQLite store: every port in one file, WAL mode, and
 * `BEGIN IMMEDIATE` transactions for rotations so two processes on one file serialise.
 */
export function openSqliteStores(options: SqliteOptions): Stores & { db: Database.Database } {
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${LIMITS.sqliteBusyTimeoutMs}`);
  // Rotations touch random pages (token hashes, family ids); SQLite's 2 MiB default cache turns
  // most of those into reads from the OS. Pages are cached as they are read, so a small
  // database (or the CLI) never uses the whole budget.
  db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? DEFAULTS.sqliteCacheMiB)}`);
  // A group commit runs each rotation in its own savepoint; a savepoint keeps the pages it
  // changes in a statement journal, which SQLite moves to a temporary file past 64 KiB (a batch
  // of 16 rotations). That file cost ~10 write syscalls per rotation, as many as the WAL's own.
  // In memory it holds what one batch changed (a few hundred KiB) until its commit.
  db.pragma('temp_store = MEMORY');
  migrate(db);
  const sqlite = new SqliteAdapter(db);
  const checkpointEvery = options.checkpointIntervalMs ?? LIMITS.checkpointIntervalMs;
  const checkpointer =
    options.path !== ':memory:' && checkpointEvery > 0
      ? startCheckpointer(
          options.path,
          {
            intervalMs: checkpointEvery,
            restartFrames: options.walRestartFrames,
            restartIntervalMs: options.walRestartIntervalMs,
            onError: options.onCheckpointError,
          },
          sqlite.writeGate,
        )
      : undefined;
  if (checkpointer) db.pragma('wal_autocheckpoint = 0');
  // After a checkpoint the WAL restarts from its beginning; this caps the file it leaves behind.
  db.pragma(`journal_size_limit = ${LIMITS.sqliteWalSizeLimitBytes}`);
  const adapter = failClosed(sqlite);
  return {
    db,
    tokens: adapter,
    directory: adapter,
    keys: adapter,
    events: adapter,
    replay: adapter,
    ping: async () => {
      try {
        db.prepare('SELECT 1').get();
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    close: async () => {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}

/** SQLite result codes that mean the store cannot serve now (as opposed to a bug, like a constraint). */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOTADB|CORRUPT|NOMEM)/;

function asUnavailable(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const closed = err instanceof TypeError && e.message === 'The database connection is not open';
  if (closed || (typeof e.code === 'string' && UNAVAILABLE.test(e.code))) {
    return new StoreUnavailableError(`SQLite store unavailable: ${e.code ?? 'connection closed'}`, {
      cause: err,
    });
  }
  return err;
}

/**
 * Wraps every port method so that an unreachable, locked or broken database surfaces as
 * `StoreUnavailableError` (answered 503, fail closed), while real bugs keep their own error.
 */
function failClosed<T extends object>(adapter: T): T {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (err) {
          throw asUnavailable(err);
        }
      };
    },
  });
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the database schema (version ${version}) is newer than this Tessera (${MIGRATIONS.length})`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** A family's columns without its sealed grace answer (read only with the token it belongs to). */
const FAMILY_COLUMNS = `id, client_id, user_id, scope, status, created_at, expires_at, generation,
  last_refresh_at, ended_at, end_reason, user_agent, ip`;

interface FamilyRow {
  id: string;
  client_id: string;
  user_id: string;
  scope: string;
  status: FamilyRecord['status'];
  created_at: number;
  expires_at: number;
  generation: number;
  last_refresh_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

interface TokenRow {
  hash: string;
  family_id: string;
  generation: number;
  parent_hash: string | null;
  status: RefreshTokenRecord['status'];
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  /** Selected from the family's row, and only for the token the sealed answer was made for. */
  grace_response: Uint8Array | null;
}

const toFamily = (r: FamilyRow): FamilyRecord => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  scope: r.scope,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  generation: r.generation,
  lastRefreshAt: r.last_refresh_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
  userAgent: r.user_agent,
  ip: r.ip,
});

const toToken = (r: TokenRow): RefreshTokenRecord => ({
  hash: r.hash,
  familyId: r.family_id,
  generation: r.generation,
  parentHash: r.parent_hash,
  status: r.status,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  rotatedAt: r.rotated_at,
  graceResponse: r.grace_response,
});

class SqliteAdapter implements TokenStore, DirectoryStore, KeyStore, EventStore, ReplayStore {
  private readonly s;
  // Transaction wrappers are made once: `db.transaction()` builds five functions per call.
  private readonly writeBatch;
  private readonly rotateOne;

  constructor(private readonly db: Database.Database) {
    this.writeBatch = db.transaction((batch: { write: () => unknown }[]) => this.writeBatchTx(batch));
    this.rotateOne = db.transaction((input: RotateInput) => this.rotateOneTx(input));
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertFamily:
        p(`INSERT INTO families (id, client_id, user_id, scope, status, created_at, expires_at, generation,
        last_refresh_at, ended_at, end_reason, user_agent, ip) VALUES (@id, @clientId, @userId, @scope, @status,
        @createdAt, @expiresAt, @generation, @lastRefreshAt, @endedAt, @endReason, @userAgent, @ip)`),
      insertToken: p(`INSERT INTO refresh_tokens (hash, family_id, generation, parent_hash, status, issued_at,
        expires_at, rotated_at) VALUES (@hash, @familyId, @generation, @parentHash, @status,
        @issuedAt, @expiresAt, @rotatedAt)`),
      findTokenAndFamily: p(`SELECT t.*, f.id AS f_id, f.client_id AS f_client_id, f.user_id AS f_user_id,
        f.scope AS f_scope, f.status AS f_status, f.created_at AS f_created_at, f.expires_at AS f_expires_at,
        f.generation AS f_generation, f.last_refresh_at AS f_last_refresh_at, f.ended_at AS f_ended_at,
        f.end_reason AS f_end_reason, f.user_agent AS f_user_agent, f.ip AS f_ip,
        CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response
        FROM refresh_tokens t JOIN families f ON f.id = t.family_id
        WHERE t.family_id = @familyId AND t.hash = @hash ORDER BY t.generation DESC LIMIT 1`),
      findFamily: p(`SELECT ${FAMILY_COLUMNS} FROM families WHERE id = ?`),
      // By primary key (the parent's family and generation), and only if it is that very token.
      markRotated: p(`UPDATE refresh_tokens SET status = 'rotated', rotated_at = @now
        WHERE family_id = @familyId AND generation = @generation AND hash = @hash AND status = 'active'`),
      // The new sealed answer replaces the family's previous one: only the newest is ever kept.
      advanceFamily: p(`UPDATE families SET generation = @generation, last_refresh_at = @now,
        grace_parent_hash = @parentHash, grace_box = @grace
        WHERE id = @id AND status = 'active' AND generation = @expected`),
      endFamily: p(`UPDATE families SET status = 'revoked', ended_at = @now, end_reason = @reason,
        grace_parent_hash = NULL, grace_box = NULL
        WHERE id = @id AND status = 'active'`),
      revokeFamilyTokens: p(`UPDATE refresh_tokens SET status = 'revoked'
        WHERE family_id = ? AND status != 'revoked'`),
      insertRevocation: p('INSERT INTO revocations (kind, value, expires_at) VALUES (?, ?, ?)'),
      insertJti: p(
        'INSERT INTO revoked_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at',
      ),
      findJti: p('SELECT 1 FROM revoked_jtis WHERE jti = ? AND expires_at > ?'),
      listRevocations: p('SELECT * FROM revocations WHERE seq > ? AND expires_at > ? ORDER BY seq LIMIT ?'),
      listTokens: p(`SELECT t.*,
        CASE WHEN f.grace_parent_hash = t.hash THEN f.grace_box END AS grace_response FROM refresh_tokens t
        JOIN families f ON f.id = t.family_id WHERE t.family_id = ? ORDER BY t.generation`),
      findClient: p('SELECT data FROM clients WHERE id = ?'),
      saveClient: p(
        'INSERT INTO clients (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      ),
      listClients: p('SELECT data FROM clients ORDER BY id'),
      deleteClient: p('DELETE FROM clients WHERE id = ?'),
      findUserByName: p('SELECT data FROM users WHERE username = ?'),
      findUserById: p('SELECT data FROM users WHERE id = ?'),
      insertUser: p('INSERT INTO users (id, username, data) VALUES (?, ?, ?)'),
      updateUser: p('UPDATE users SET username = ?, data = ? WHERE id = ?'),
      listUsers: p('SELECT data FROM users ORDER BY username'),
      listKeys: p('SELECT * FROM signing_keys WHERE ring = ? ORDER BY created_at'),
      countKeys: p('SELECT COUNT(*) AS n FROM signing_keys WHERE ring = ?'),
      insertKey:
        p(`INSERT INTO signing_keys (ring, kid, alg, state, public_jwk, private_jwk_sealed, created_at,
        activated_at, retired_at) VALUES (@ring, @kid, @alg, @state, @publicJwk, @privateJwkSealed, @createdAt,
        @activatedAt, @retiredAt)`),
      saveAccessToken: p('INSERT INTO access_tokens (hash, claims, expires_at) VALUES (?, ?, ?)'),
      findAccessToken: p('SELECT claims FROM access_tokens WHERE hash = ? AND expires_at > ?'),
      insertEvent: p(`INSERT INTO events (at, type, family_id, user_id, client_id, reason, data)
        VALUES (@at, @type, @familyId, @userId, @clientId, @reason, @data)`),
      insertReplay: p(`INSERT INTO replay (key, expires_at) VALUES (@key, @expiresAt)
        ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= @now`),
    };
  }

  // --- TokenStore -----------------------------------------------------------------------------

  async createFamily(
    family: FamilyRecord,
    token: RefreshTokenRecord,
    events: EventInput[] = [],
  ): Promise<void> {
    this.db
      .transaction(() => {
        this.s.insertFamily.run(family);
        this.s.insertToken.run(token);
        for (const e of events) this.insertEvent(e);
      })
      .immediate();
  }

  /**
   * Newest first, within the family's key range: the current token is the first row read and the
   * grace period's parent the second; only an old ancestor (reuse) reads further back.
   */
  async findToken(familyId: string, hash: string): Promise<TokenAndFamily | null> {
    const row = this.s.findTokenAndFamily.get({ familyId, hash }) as
      | (TokenRow & { [K in keyof FamilyRow as `f_${K}`]: FamilyRow[K] })
      | undefined;
    if (!row) return null;
    const family: FamilyRow = {
      id: row.f_id,
      client_id: row.f_client_id,
      user_id: row.f_user_id,
      scope: row.f_scope,
      status: row.f_status,
      created_at: row.f_created_at,
      expires_at: row.f_expires_at,
      generation: row.f_generation,
      last_refresh_at: row.f_last_refresh_at,
      ended_at: row.f_ended_at,
      end_reason: row.f_end_reason,
      user_agent: row.f_user_agent,
      ip: row.f_ip,
    };
    return { token: toToken(row), family: toFamily(family) };
  }

  async findFamily(id: string): Promise<FamilyRecord | null> {
    const f = this.s.findFamily.get(id) as FamilyRow | undefined;
    return f ? toFamily(f) : null;
  }

  /**
   * Group commit: rotations (and opaque access tokens) that arrive in the same turn of the event
   * loop share one `BEGIN IMMEDIATE … COMMIT` (the commit is what costs), each rotation inside its
   * own savepoint so a conflict or an error in one never touches another. No caller is answered
   * before the commit, so an acknowledged rotation survives a crash.
   */
  async rotate(input: RotateInput): Promise<RotateResult> {
    return this.enqueue((): RotateResult => {
      try {
        return this.rotateOne(input);
      } catch (err) {
        // The parent was rotated under us: its savepoint is rolled back; the caller reads again.
        if (err instanceof RotationConflict) return { outcome: 'conflict' };
        throw err;
      }
    });
  }

  private writesPaused = false;

  /** Lets the checkpointer hold writes for a moment (they queue, nobody is answered) to restart the WAL. */
  readonly writeGate: WriteGate = {
    pause: () => {
      this.writesPaused = true;
    },
    resume: () => {
      this.writesPaused = false;
      if (this.pendingWrites.length > 0) setImmediate(() => this.flushWrites());
    },
  };

  private pendingWrites: {
    write: () => unknown;
    resolve: (r: never) => void;
    reject: (e: unknown) => void;
  }[] = [];

  private enqueue<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ write, resolve: resolve as (r: never) => void, reject });
      if (this.pendingWrites.length === 1 && !this.writesPaused) setImmediate(() => this.flushWrites());
    });
  }

  private flushWrites(): void {
    if (this.writesPaused || this.pendingWrites.length === 0) return;
    const batch = this.pendingWrites;
    this.pendingWrites = [];
    let results: ({ ok: unknown } | { err: unknown })[];
    try {
      results = this.writeBatch.immediate(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i]!;
      if ('ok' in r) item.resolve(r.ok as never);
      else item.reject(r.err);
    });
  }

  /** A batch of writes in one transaction; each outcome (or error) in the batch's order. */
  private writeBatchTx(batch: { write: () => unknown }[]) {
    const results: ({ ok: unknown } | { err: unknown })[] = [];
    for (const { write } of batch) {
      try {
        results.push({ ok: write() });
      } catch (err) {
        results.push({ err });
      }
    }
    return results;
  }

  /** One rotation, in its own savepoint (`rotateOne`: a nested better-sqlite3 transaction). */
  private rotateOneTx(input: RotateInput): RotateResult {
    const { child, now } = input;
    const advanced = this.s.advanceFamily.run({
      id: child.familyId,
      generation: child.generation,
      now,
      expected: input.parentGeneration,
      parentHash: input.parentHash,
      grace: input.graceResponse,
    });
    if (advanced.changes !== 1) return { outcome: 'conflict' };
    const marked = this.s.markRotated.run({
      familyId: child.familyId,
      generation: input.parentGeneration,
      hash: input.parentHash,
      now,
    });
    if (marked.changes !== 1) throw new RotationConflict();
    this.s.insertToken.run(child);
    for (const e of input.events ?? []) this.insertEvent(e);
    input.beforeCommit?.();
    return { outcome: 'rotated' };
  }

  async revokeFamily(id: string, end: FamilyEnd): Promise<boolean> {
    return this.db.transaction(() => this.endFamilyTx(id, end)).immediate();
  }

  async revokeFamilies(filter: { userId?: string; clientId?: string }, end: FamilyEnd): Promise<string[]> {
    return this.db
      .transaction(() => {
        const ids = this.selectActiveIds(filter);
        return ids.filter((id) => this.endFamilyTx(id, end));
      })
      .immediate();
  }

  private selectActiveIds(filter: { userId?: string; clientId?: string }): string[] {
    if (filter.userId === undefined && filter.clientId === undefined) {
      throw new Error('revokeFamilies needs a userId or a clientId');
    }
    const { where, args } = familyWhere({ ...filter, status: 'active' });
    return (this.db.prepare(`SELECT id FROM families ${where}`).all(...args) as { id: string }[]).map(
      (r) => r.id,
    );
  }

  private endFamilyTx(id: string, end: FamilyEnd): boolean {
    const changed = this.s.endFamily.run({ id, now: end.now, reason: end.reason }).changes === 1;
    if (!changed) return false;
    this.s.revokeFamilyTokens.run(id);
    this.s.insertRevocation.run('family', id, end.noticeUntil);
    return true;
  }

  async listFamilies(filter: FamilyFilter): Promise<FamilyRecord[]> {
    const { where, args } = familyWhere(filter);
    const limit = Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
    const sql = `SELECT ${FAMILY_COLUMNS} FROM families ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as FamilyRow[]).map(toFamily);
  }

  async listTokens(familyId: string): Promise<RefreshTokenRecord[]> {
    return (this.s.listTokens.all(familyId) as TokenRow[]).map(toToken);
  }

  async revokeJti(jti: string, expiresAt: number): Promise<void> {
    this.db
      .transaction(() => {
        this.s.insertJti.run(jti, expiresAt);
        this.s.insertRevocation.run('jti', jti, expiresAt);
      })
      .immediate();
  }

  /** Joins the group commit: one opaque token no longer costs a commit of its own. */
  async saveAccessToken(hash: string, claims: string, expiresAt: number): Promise<void> {
    await this.enqueue(() => {
      this.s.saveAccessToken.run(hash, claims, expiresAt);
    });
  }

  async findAccessToken(hash: string, now: number): Promise<string | null> {
    const row = this.s.findAccessToken.get(hash, now) as { claims: string } | undefined;
    return row?.claims ?? null;
  }

  async isJtiRevoked(jti: string, now: number): Promise<boolean> {
    return this.s.findJti.get(jti, now) !== undefined;
  }

  async listRevocations(
    afterSeq: number,
    now: number,
    limit: number = LIMITS.revocationPollBatch,
  ): Promise<RevocationRecord[]> {
    const rows = this.s.listRevocations.all(afterSeq, now, limit) as {
      seq: number;
      kind: 'family' | 'jti';
      value: string;
      expires_at: number;
    }[];
    return rows.map((r) => ({ seq: r.seq, kind: r.kind, value: r.value, expiresAt: r.expires_at }));
  }

  async cleanup({ now, graceHorizon }: CleanupInput): Promise<CleanupResult> {
    return this.db
      .transaction((): CleanupResult => {
        // A family whose current token lapsed, or whose absolute lifetime ended, is over; its row
        // stays as the tombstone until the absolute expiry, so replayed pruned tokens are still caught.
        const idle = this.db
          .prepare(
            `UPDATE families SET status = 'expired', ended_at = @now, end_reason = 'idle_timeout'
             WHERE status = 'active' AND expires_at > @now AND EXISTS (SELECT 1 FROM refresh_tokens t
               WHERE t.family_id = families.id AND t.generation = families.generation AND t.expires_at <= @now)`,
          )
          .run({ now }).changes;
        const absolute = this.db
          .prepare(
            `UPDATE families SET status = 'expired', ended_at = @now, end_reason = 'absolute_timeout'
             WHERE status = 'active' AND expires_at <= @now`,
          )
          .run({ now }).changes;
        const tokens = this.db.prepare('DELETE FROM refresh_tokens WHERE expires_at <= ?').run(now).changes;
        // A family's sealed answer is as old as its last rotation.
        this.db
          .prepare(
            `UPDATE families SET grace_parent_hash = NULL, grace_box = NULL
             WHERE grace_box IS NOT NULL AND last_refresh_at < ?`,
          )
          .run(graceHorizon);
        const families = this.db.prepare('DELETE FROM families WHERE expires_at <= ?').run(now).changes;
        this.db.prepare('DELETE FROM revoked_jtis WHERE expires_at <= ?').run(now);
        this.db.prepare('DELETE FROM access_tokens WHERE expires_at <= ?').run(now);
        this.db.prepare('DELETE FROM revocations WHERE expires_at <= ?').run(now);
        this.db.prepare('DELETE FROM replay WHERE expires_at <= ?').run(now);
        return { tokensDeleted: tokens, familiesDeleted: families, familiesExpired: idle + absolute };
      })
      .immediate();
  }

  // --- DirectoryStore -------------------------------------------------------------------------

  async findClient(id: string): Promise<ClientRecord | null> {
    const row = this.s.findClient.get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as ClientRecord) : null;
  }

  async saveClient(client: ClientRecord): Promise<void> {
    this.s.saveClient.run(client.id, JSON.stringify(client));
  }

  async listClients(): Promise<ClientRecord[]> {
    return (this.s.listClients.all() as { data: string }[]).map((r) => JSON.parse(r.data) as ClientRecord);
  }

  async deleteClient(id: string): Promise<boolean> {
    return this.s.deleteClient.run(id).changes === 1;
  }

  async findUserByUsername(username: string): Promise<UserRecord | null> {
    const row = this.s.findUserByName.get(username) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as UserRecord) : null;
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    const row = this.s.findUserById.get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as UserRecord) : null;
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      this.s.insertUser.run(user.id, user.username, JSON.stringify(user));
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
        throw new DuplicateError(`user "${user.username}"`);
      }
      throw err;
    }
  }

  async updateUser(user: UserRecord): Promise<void> {
    this.s.updateUser.run(user.username, JSON.stringify(user), user.id);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.s.listUsers.all() as { data: string }[]).map((r) => JSON.parse(r.data) as UserRecord);
  }

  // --- KeyStore -------------------------------------------------------------------------------

  async listKeys(ring: string): Promise<KeyRecord[]> {
    const rows = this.s.listKeys.all(ring) as {
      kid: string;
      alg: string;
      state: KeyRecord['state'];
      public_jwk: string;
      private_jwk_sealed: Uint8Array;
      created_at: number;
      activated_at: number | null;
      retired_at: number | null;
    }[];
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      state: r.state,
      publicJwk: JSON.parse(r.public_jwk),
      privateJwkSealed: r.private_jwk_sealed,
      createdAt: r.created_at,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
    }));
  }

  private insertKey(ring: string, k: KeyRecord): void {
    this.s.insertKey.run({ ...k, ring, publicJwk: JSON.stringify(k.publicJwk) });
  }

  async initKeys(ring: string, keys: KeyRecord[]): Promise<boolean> {
    return this.db
      .transaction(() => {
        if ((this.s.countKeys.get(ring) as { n: number }).n > 0) return false;
        for (const k of keys) this.insertKey(ring, k);
        return true;
      })
      .immediate();
  }

  async rotateKeys(input: {
    ring: string;
    newNext: KeyRecord;
    now: number;
    expectedCurrentKid: string;
    dropRetiredBefore: number;
  }): Promise<boolean> {
    return this.db
      .transaction(() => {
        const { ring } = input;
        const current = this.db
          .prepare("SELECT kid FROM signing_keys WHERE ring = ? AND state = 'current'")
          .get(ring) as { kid: string } | undefined;
        if (current?.kid !== input.expectedCurrentKid) return false;
        this.db
          .prepare(
            "UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE ring = ? AND state = 'current'",
          )
          .run(input.now, ring);
        this.db
          .prepare(
            "UPDATE signing_keys SET state = 'current', activated_at = ? WHERE ring = ? AND state = 'next'",
          )
          .run(input.now, ring);
        this.db
          .prepare("DELETE FROM signing_keys WHERE ring = ? AND state = 'retired' AND retired_at < ?")
          .run(ring, input.dropRetiredBefore);
        this.insertKey(ring, input.newNext);
        return true;
      })
      .immediate();
  }

  // --- EventStore -----------------------------------------------------------------------------

  async append(events: EventInput[]): Promise<void> {
    if (events.length === 0) return;
    this.db.transaction(() => {
      for (const e of events) this.insertEvent(e);
    })();
  }

  private insertEvent(e: EventInput): void {
    this.s.insertEvent.run({
      at: e.at,
      type: e.type,
      familyId: e.familyId ?? null,
      userId: e.userId ?? null,
      clientId: e.clientId ?? null,
      reason: e.reason ?? null,
      data: e.data ? JSON.stringify(e.data) : null,
    });
  }

  async list(filter: EventFilter): Promise<LifecycleEvent[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, v: string | number | undefined) => {
      if (v === undefined) return;
      where.push(sql);
      args.push(v);
    };
    add('family_id = ?', filter.familyId);
    add('user_id = ?', filter.userId);
    add('client_id = ?', filter.clientId);
    add('type = ?', filter.type);
    add('id > ?', filter.afterId);
    args.push(Math.min(Math.max(filter.limit ?? LIMITS.listDefault, 1), LIMITS.listMax));
    const rows = this.db
      .prepare(
        `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      )
      .all(...args) as {
      id: number;
      at: number;
      type: LifecycleEvent['type'];
      family_id: string | null;
      user_id: string | null;
      client_id: string | null;
      reason: string | null;
      data: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      type: r.type,
      familyId: r.family_id,
      userId: r.user_id,
      clientId: r.client_id,
      reason: r.reason,
      ...(r.data ? { data: JSON.parse(r.data) as Record<string, unknown> } : {}),
    }));
  }

  // --- ReplayStore ----------------------------------------------------------------------------

  async insertIfAbsent(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.s.insertReplay.run({ key, expiresAt, now }).changes === 1;
  }
}

class RotationConflict extends Error {}

/** The WHERE clause (and its arguments) selecting families by user, client and status. */
function familyWhere(filter: Omit<FamilyFilter, 'limit'>): { where: string; args: string[] } {
  const clauses: [string, string | undefined][] = [
    ['user_id = ?', filter.userId],
    ['client_id = ?', filter.clientId],
    ['status = ?', filter.status],
  ];
  const used = clauses.filter((c): c is [string, string] => c[1] !== undefined);
  return {
    where: used.length ? `WHERE ${used.map(([sql]) => sql).join(' AND ')}` : '',
    args: used.map(([, value]) => value),
  };
}
