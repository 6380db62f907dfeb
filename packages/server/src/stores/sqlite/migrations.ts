/**
 * Schema migrations, applied in order inside one transaction each. Append only: a published
 * migration never changes. Times are integer milliseconds since the epoch.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    last_refresh_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT,
    user_agent TEXT,
    ip TEXT
  );
  CREATE INDEX families_user ON families (user_id, status);
  CREATE INDEX families_client ON families (client_id, status);
  CREATE INDEX families_expiry ON families (expires_at);

  CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    parent_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    grace_response BLOB,
    UNIQUE (family_id, generation)
  ) WITHOUT ROWID;
  CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

  CREATE TABLE revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('family', 'jti')),
    value TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE revoked_jtis (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    public_jwk TEXT NOT NULL,
    private_jwk_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at INTEGER
  ) WITHOUT ROWID;

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    family_id TEXT,
    user_id TEXT,
    client_id TEXT,
    reason TEXT,
    data TEXT
  );
  CREATE INDEX events_family ON events (family_id);
  CREATE INDEX events_user ON events (user_id);

  CREATE TABLE replay (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Key rings by purpose: 'jwt' signs JWT access tokens, 'paseto' signs PASETO v4.public ones.
  ALTER TABLE signing_keys ADD COLUMN ring TEXT NOT NULL DEFAULT 'jwt';
  CREATE INDEX signing_keys_ring ON signing_keys (ring, state);

  -- Opaque (reference) access tokens: only the hash, and the claims they stand for.
  CREATE TABLE access_tokens (
    hash TEXT PRIMARY KEY,
    claims TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);
  `,
  `
  -- The sealed grace answer moves to its family's row: a family keeps only its newest one, so a
  -- rotation overwrites it in the row it updates anyway, and token rows stay small and fixed-size
  -- (no ~700-byte blob written into a rotated token's row, no erasing of the previous one).
  ALTER TABLE families ADD COLUMN grace_parent_hash TEXT;
  ALTER TABLE families ADD COLUMN grace_box BLOB;
  UPDATE families SET (grace_parent_hash, grace_box) = (
    SELECT t.hash, t.grace_response FROM refresh_tokens t
    WHERE t.family_id = families.id AND t.grace_response IS NOT NULL
    ORDER BY t.generation DESC LIMIT 1)
  WHERE EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = families.id AND t.grace_response IS NOT NULL);
  ALTER TABLE refresh_tokens DROP COLUMN grace_response;

  -- Events without AUTOINCREMENT: ids are still ascending (max + 1), and an insert no longer
  -- writes the sqlite_sequence page. Events are append-only; the newest row is never deleted.
  CREATE TABLE events_v3 (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    family_id TEXT,
    user_id TEXT,
    client_id TEXT,
    reason TEXT,
    data TEXT
  );
  INSERT INTO events_v3 SELECT id, at, type, family_id, user_id, client_id, reason, data FROM events;
  DROP TABLE events;
  ALTER TABLE events_v3 RENAME TO events;
  CREATE INDEX events_family ON events (family_id);
  CREATE INDEX events_user ON events (user_id);
  `,
  `
  -- Refresh tokens in family order: keyed by (family, generation), a rotation's parent and child
  -- are neighbours on one B-tree page, and the hash they are found by is a unique index. A
  -- rotation then writes one token page and one index page instead of three scattered pages
  -- (the parent's, the child's, and the (family, generation) index's). Queries are unchanged.
  CREATE TABLE refresh_tokens_v4 (
    family_id TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    parent_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    PRIMARY KEY (family_id, generation)
  ) WITHOUT ROWID;
  INSERT INTO refresh_tokens_v4 (family_id, generation, hash, parent_hash, status, issued_at, expires_at,
    rotated_at)
    SELECT family_id, generation, hash, parent_hash, status, issued_at, expires_at, rotated_at
    FROM refresh_tokens;
  DROP TABLE refresh_tokens;
  ALTER TABLE refresh_tokens_v4 RENAME TO refresh_tokens;
  CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
  `,
  `
  -- No index over every token's hash: a token names its family (under its tag), so it is found
  -- within the family's key range, newest first. Each rotation wrote a random page of that index
  -- (about one WAL page in eight) and each lookup read one.
  CREATE TABLE refresh_tokens_v5 (
    family_id TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    PRIMARY KEY (family_id, generation)
  ) WITHOUT ROWID;
  INSERT INTO refresh_tokens_v5 SELECT family_id, generation, hash, parent_hash, status, issued_at,
    expires_at, rotated_at FROM refresh_tokens;
  DROP TABLE refresh_tokens;
  ALTER TABLE refresh_tokens_v5 RENAME TO refresh_tokens;
  CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
  `,
  `
  -- DPoP (RFC 9449): the thumbprint of the key a session is bound to; every refresh proves it.
  ALTER TABLE families ADD COLUMN dpop_jkt TEXT;
  `,
  `
  -- Why a session ended, as data: the end reasons of @tessera/protocol's SESSION_END_REASONS, and
  -- who ended it and why when a person did. Earlier reasons are renamed; a free-text reason given
  -- to \`tessera sessions revoke --reason\` was an administrator's, and is kept as their note.
  ALTER TABLE families ADD COLUMN ended_by TEXT;
  ALTER TABLE families ADD COLUMN end_note TEXT;
  UPDATE families SET end_note = end_reason, ended_by = 'cli'
    WHERE end_reason IS NOT NULL AND end_reason NOT IN
      ('token_reused', 'idle_timeout', 'absolute_timeout', 'revoked', 'logout', 'user_disabled', 'admin');
  UPDATE families SET ended_by = 'cli' WHERE end_reason = 'admin';
  UPDATE families SET end_reason = CASE end_reason
    WHEN 'token_reused' THEN 'reuse_detected'
    WHEN 'idle_timeout' THEN 'idle_expired'
    WHEN 'absolute_timeout' THEN 'absolute_expired'
    WHEN 'revoked' THEN 'client_revoked'
    WHEN 'logout' THEN 'logout'
    WHEN 'user_disabled' THEN 'user_disabled'
    ELSE 'admin_revoked' END
  WHERE end_reason IS NOT NULL;
  `,
  `
  -- One page per rotation. What a rotation changes lives in its family's row: the current token
  -- (hash, parent, issue and idle expiry), the generation, the grace parent and its sealed answer.
  -- Every token issued is also appended to \`lineage\`, in issue order (an INTEGER PRIMARY KEY, so
  -- consecutive rotations share its last page), each row pointing at the family's previous one
  -- (\`prev_seq\`); the family row points at its newest (\`lineage_head\`). A family's lineage is
  -- that chain, walked from the head by primary key: no per-family index to keep up. A token's
  -- status and rotation time are derived: the head is current, older ones are rotated (at the time
  -- their child records), all are revoked when the family is. Its expiry index is written at its
  -- right edge (expiry is issue time plus the client's idle lifetime).
  ALTER TABLE families ADD COLUMN token_hash TEXT;
  ALTER TABLE families ADD COLUMN token_parent_hash TEXT;
  ALTER TABLE families ADD COLUMN token_issued_at INTEGER;
  ALTER TABLE families ADD COLUMN token_expires_at INTEGER;
  ALTER TABLE families ADD COLUMN lineage_head INTEGER;
  CREATE TABLE lineage (
    seq INTEGER PRIMARY KEY,
    family_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_hash TEXT,
    prev_seq INTEGER,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- When this token's parent was rotated into it (the parent's rotated_at).
    parent_rotated_at INTEGER
  );
  CREATE INDEX lineage_migrate ON lineage (family_id, generation);
  INSERT INTO lineage (family_id, generation, hash, parent_hash, issued_at, expires_at)
    SELECT family_id, generation, hash, parent_hash, issued_at, expires_at FROM refresh_tokens
    ORDER BY issued_at, family_id, generation;
  UPDATE lineage SET
    prev_seq = (SELECT p.seq FROM lineage p WHERE p.family_id = lineage.family_id
      AND p.generation < lineage.generation ORDER BY p.generation DESC LIMIT 1),
    parent_rotated_at = (SELECT t.rotated_at FROM refresh_tokens t WHERE t.family_id = lineage.family_id
      AND t.hash = lineage.parent_hash);
  UPDATE families SET (token_hash, token_parent_hash, token_issued_at, token_expires_at, lineage_head) = (
    SELECT l.hash, l.parent_hash, l.issued_at, l.expires_at, l.seq FROM lineage l
    WHERE l.family_id = families.id AND l.generation = families.generation);
  -- A family's newest pruned token still heads its chain for the older rows that remain.
  UPDATE families SET lineage_head = (SELECT MAX(l.seq) FROM lineage l WHERE l.family_id = families.id)
    WHERE lineage_head IS NULL;
  DROP INDEX lineage_migrate;
  DROP TABLE refresh_tokens;
  CREATE INDEX lineage_expiry ON lineage (expires_at);

  -- The lifecycle record's per-family and per-user indexes are built in batches, off the hot
  -- path: an event is appended to \`events\` (its last page) and indexed later; reads add the
  -- events after \`event_index_mark\`, which are few, by a scan of the table's end.
  DROP INDEX events_family;
  DROP INDEX events_user;
  CREATE TABLE event_index_family (
    family_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (family_id, id)
  ) WITHOUT ROWID;
  CREATE TABLE event_index_user (
    user_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
  ) WITHOUT ROWID;
  CREATE TABLE event_index_mark (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id INTEGER NOT NULL
  );
  INSERT INTO event_index_family SELECT family_id, id FROM events WHERE family_id IS NOT NULL;
  INSERT INTO event_index_user SELECT user_id, id FROM events WHERE user_id IS NOT NULL;
  INSERT INTO event_index_mark VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM events));
  `,
  `
  -- The dashboard's session lists: newest first, filtered by user, client or status, paged by
  -- (created_at, id). Each filter has an index that ends in the order, so a page reads its rows only.
  CREATE INDEX families_created ON families (created_at, id);
  CREATE INDEX families_user_created ON families (user_id, created_at, id);
  CREATE INDEX families_client_created ON families (client_id, created_at, id);
  CREATE INDEX families_status_created ON families (status, created_at, id);
  -- Events by type (the dashboard's filter), in id order.
  CREATE INDEX events_type ON events (type, id);
  `,
  `
  -- Events by client, indexed in batches like those by family and user (sqlite-event-index.ts).
  CREATE TABLE event_index_client (
    client_id TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (client_id, id)
  ) WITHOUT ROWID;
  INSERT INTO event_index_client SELECT client_id, id FROM events
    WHERE client_id IS NOT NULL AND id <= (SELECT id FROM event_index_mark WHERE one = 1);
  -- The overview's count of active sessions, over this index alone (a family's status and
  -- absolute expiry change only when it starts and ends, never on a rotation).
  CREATE INDEX families_status_expiry ON families (status, expires_at);
  -- The dashboard's per-minute counters (counter-store.ts), added to by every instance, kept at
  -- three resolutions (\`step\`: 1, 15 and 60 minutes, \`minute\` the step's start), so a day's
  -- chart reads a hundred steps, not 1,440 minutes.
  CREATE TABLE counters (
    step INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (step, minute, name, label)
  ) WITHOUT ROWID;
  `,
  `
  -- Events by type, indexed in batches like those by family, user and client: an index on
  -- \`events (type, id)\` cost every rotation a page of its own (the end of its type's range).
  CREATE TABLE event_index_type (
    type TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (type, id)
  ) WITHOUT ROWID;
  INSERT INTO event_index_type SELECT type, id FROM events
    WHERE id <= (SELECT id FROM event_index_mark WHERE one = 1) ORDER BY type, id;
  DROP INDEX events_type;
  `,
  `
  -- A rotation's events are chained, not indexed one by one: each names the previous one of its
  -- family (\`family_prev\`, 0 for the first), and the family row points at the newest
  -- (\`chain_head\`, written with the rest of the rotation's row). The batch indexer copies a
  -- family's chain into the per-family and per-user indexes only once \`chain_pending\` events
  -- have gathered (and when the family ends or is deleted), up to \`chain_indexed\`: entries of one
  -- family and one user at a time, a page each, instead of a random page of both indexes per
  -- rotation. Readers walk the chain from the head down to \`chain_indexed\` for the rest.
  -- Events written before this migration are not chained, and are indexed as before.
  ALTER TABLE events ADD COLUMN family_prev INTEGER;
  ALTER TABLE families ADD COLUMN chain_head INTEGER;
  ALTER TABLE families ADD COLUMN chain_indexed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE families ADD COLUMN chain_pending INTEGER NOT NULL DEFAULT 0;
  -- Earlier, retention could delete every event, after which ids started again from 1, below the
  -- index's mark, and those events were never indexed. The mark goes back to just before the first
  -- event missing from the per-type index (every indexed event has an entry there), and the index
  -- runs again from there (reads keep an id they find twice once).
  UPDATE event_index_mark SET id = COALESCE((SELECT MIN(e.id) - 1 FROM events e
    WHERE e.id <= event_index_mark.id AND NOT EXISTS
      (SELECT 1 FROM event_index_type t WHERE t.type = e.type AND t.id = e.id)), id);
  `,
];
