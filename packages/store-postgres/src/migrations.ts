import type { Database } from './database.js';

/**
 * Schema migrations, applied in order at start, each in the one transaction that holds the
 * migration lock. Append only: a published migration never changes. Times are `bigint`
 * milliseconds since the epoch, compared only with the `now` the server passes in (its clock);
 * PostgreSQL's own clock is never read.
 *
 * `s` is the quoted schema name; every table is named with it.
 */
export function migrations(s: string): readonly string[] {
  return [
    `
    -- One row per session. A rotation updates it (generation, its newest sealed grace answer), so
    -- pages keep room for the new row version beside the old one (HOT: no index is touched).
    CREATE TABLE ${s}.families (
      id text PRIMARY KEY,
      n bigint GENERATED ALWAYS AS IDENTITY,
      client_id text NOT NULL,
      user_id text NOT NULL,
      scope text NOT NULL,
      status text NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      generation integer NOT NULL,
      last_refresh_at bigint,
      ended_at bigint,
      end_reason text,
      -- Who ended the session and why, when a person did.
      ended_by text,
      end_note text,
      user_agent text,
      ip text,
      grace_parent_hash text,
      grace_box bytea,
      -- DPoP (RFC 9449): the thumbprint of the key the session is bound to.
      dpop_jkt text
    ) WITH (fillfactor = 70);
    CREATE INDEX families_user ON ${s}.families (user_id, status);
    CREATE INDEX families_client ON ${s}.families (client_id, status);
    CREATE INDEX families_expiry ON ${s}.families (expires_at);
    CREATE INDEX families_created ON ${s}.families (created_at DESC, n DESC);

    -- Keyed by family and generation: a token names its family, so it is found within the
    -- family's key range, and there is no index over every token's hash.
    CREATE TABLE ${s}.refresh_tokens (
      family_id text NOT NULL REFERENCES ${s}.families (id) ON DELETE CASCADE,
      generation integer NOT NULL,
      hash text NOT NULL,
      parent_hash text,
      status text NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
      issued_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      rotated_at bigint,
      PRIMARY KEY (family_id, generation)
    ) WITH (fillfactor = 80);
    CREATE INDEX refresh_tokens_expiry ON ${s}.refresh_tokens (expires_at);

    -- The revocation feed. seq is taken under a lock held until commit (see the feed's writer),
    -- so notices commit in seq order and a reader resuming after a seq misses none.
    CREATE TABLE ${s}.revocations (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('family', 'jti')),
      value text NOT NULL,
      expires_at bigint NOT NULL
    );
    CREATE INDEX revocations_expiry ON ${s}.revocations (expires_at);
    CREATE TABLE ${s}.revoked_jtis (
      jti text PRIMARY KEY,
      expires_at bigint NOT NULL
    );
    CREATE TABLE ${s}.access_tokens (
      hash text PRIMARY KEY,
      claims text NOT NULL,
      expires_at bigint NOT NULL
    );
    CREATE INDEX access_tokens_expiry ON ${s}.access_tokens (expires_at);

    -- Users and clients: JSON documents beside the columns they are found by.
    CREATE TABLE ${s}.clients (
      id text PRIMARY KEY,
      data text NOT NULL
    );
    CREATE TABLE ${s}.users (
      id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      data text NOT NULL
    );

    CREATE TABLE ${s}.signing_keys (
      kid text PRIMARY KEY,
      ring text NOT NULL,
      alg text NOT NULL,
      state text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
      public_jwk text NOT NULL,
      private_jwk_sealed bytea NOT NULL,
      created_at bigint NOT NULL,
      activated_at bigint,
      retired_at bigint
    );
    CREATE INDEX signing_keys_ring ON ${s}.signing_keys (ring, state);

    CREATE TABLE ${s}.events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at bigint NOT NULL,
      type text NOT NULL,
      family_id text,
      user_id text,
      client_id text,
      reason text,
      data text
    );
    CREATE INDEX events_family ON ${s}.events (family_id);
    CREATE INDEX events_user ON ${s}.events (user_id);

    CREATE TABLE ${s}.replay (
      key text PRIMARY KEY,
      expires_at bigint NOT NULL
    );
    CREATE INDEX replay_expiry ON ${s}.replay (expires_at);

    -- A rotation in one statement, so one round trip and one transaction: the family row is
    -- locked and advanced first (the same order as a revocation takes, so the two never
    -- deadlock), then the parent; a loser of a race finds the family moved on and answers false.
    CREATE FUNCTION ${s}.tessera_rotate(
      p_family text, p_parent_hash text, p_parent_generation integer, p_now bigint, p_grace bytea,
      p_child_hash text, p_child_generation integer, p_child_status text, p_child_issued_at bigint,
      p_child_expires_at bigint, p_child_rotated_at bigint, p_events jsonb, p_bind_dpop_jkt text
    ) RETURNS boolean LANGUAGE plpgsql AS $fn$
    BEGIN
      UPDATE ${s}.families SET generation = p_child_generation, last_refresh_at = p_now,
        grace_parent_hash = p_parent_hash, grace_box = p_grace,
        dpop_jkt = COALESCE(dpop_jkt, p_bind_dpop_jkt)
      WHERE id = p_family AND status = 'active' AND generation = p_parent_generation;
      IF NOT FOUND THEN
        RETURN false;
      END IF;
      UPDATE ${s}.refresh_tokens SET status = 'rotated', rotated_at = p_now
      WHERE family_id = p_family AND generation = p_parent_generation AND hash = p_parent_hash
        AND status = 'active';
      IF NOT FOUND THEN
        -- The family moved but not this parent: undo the whole statement, answer a conflict.
        RAISE EXCEPTION 'rotation conflict' USING ERRCODE = 'TS409';
      END IF;
      INSERT INTO ${s}.refresh_tokens (family_id, generation, hash, parent_hash, status, issued_at,
        expires_at, rotated_at)
      VALUES (p_family, p_child_generation, p_child_hash, p_parent_hash, p_child_status,
        p_child_issued_at, p_child_expires_at, p_child_rotated_at);
      IF p_events IS NOT NULL THEN
        INSERT INTO ${s}.events (at, type, family_id, user_id, client_id, reason, data)
        SELECT e.at, e.type, e.family_id, e.user_id, e.client_id, e.reason, e.data
        FROM jsonb_to_recordset(p_events) AS e(at bigint, type text, family_id text, user_id text,
          client_id text, reason text, data text);
      END IF;
      RETURN true;
    END
    $fn$;
    `,
    `
    -- The dashboard's lists: newest first by (created_at, id), per filter, paged by keyset.
    CREATE INDEX families_created_id ON ${s}.families (created_at DESC, id DESC);
    CREATE INDEX families_user_created ON ${s}.families (user_id, created_at DESC, id DESC);
    CREATE INDEX families_client_created ON ${s}.families (client_id, created_at DESC, id DESC);
    CREATE INDEX families_status_created ON ${s}.families (status, created_at DESC, id DESC);
    `,
    `
    -- The dashboard's event filters by type and by client, in id order; retention by time.
    CREATE INDEX events_type ON ${s}.events (type, id);
    CREATE INDEX events_client ON ${s}.events (client_id, id);
    -- The overview's count of active sessions.
    CREATE INDEX families_status_expiry ON ${s}.families (status, expires_at);
    -- Per-minute counters (the overview), added to by every instance.
    -- At three resolutions (step: 1, 15 and 60 minutes; minute: the step's start).
    CREATE TABLE ${s}.counters (
      step integer NOT NULL,
      minute bigint NOT NULL,
      name text NOT NULL,
      label text NOT NULL,
      count bigint NOT NULL,
      PRIMARY KEY (step, minute, name, label)
    );
    `,
  ];
}

/** The SQLSTATE `tessera_rotate` raises when the family moved but the parent did not. */
export const ROTATION_CONFLICT = 'TS409';

/**
 * Applies the migrations this schema has not seen yet. Every instance starting at once takes the
 * same transaction-scoped advisory lock (one per schema) before it reads the version, so one
 * migrates and the others then find the schema current; a schema newer than this code is refused.
 */
export async function migrate(db: Database): Promise<number> {
  const { schemaName } = db;
  const all = migrations(db.schema);
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera migrate ${schemaName}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${db.t('tessera_migrations')} (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${db.t('tessera_migrations')}`,
    );
    const version = rows[0]?.version ?? 0;
    if (version > all.length) {
      throw new Error(
        `the PostgreSQL schema ${schemaName} (version ${version}) is newer than this Tessera (${all.length})`,
      );
    }
    for (const [v, sql] of all.entries()) {
      if (v < version) continue;
      await client.query(sql);
      await client.query(`INSERT INTO ${db.t('tessera_migrations')} (version) VALUES ($1)`, [v + 1]);
    }
    return all.length;
  });
}
