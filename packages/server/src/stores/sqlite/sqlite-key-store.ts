import type Database from 'better-sqlite3';
import type { KeyRecord, KeyStore } from '../../ports/index.js';
import { type KeyRow, toKey } from './rows.js';

/** Signing keys in named rings (`signing_keys`); rotation is one `BEGIN IMMEDIATE` transaction. */
export function sqliteKeyStore(db: Database.Database): KeyStore {
  const s = {
    list: db.prepare('SELECT * FROM signing_keys WHERE ring = ? ORDER BY created_at'),
    count: db.prepare('SELECT COUNT(*) AS n FROM signing_keys WHERE ring = ?'),
    insert: db.prepare(`INSERT INTO signing_keys (ring, kid, alg, state, public_jwk, private_jwk_sealed,
      created_at, activated_at, retired_at) VALUES (@ring, @kid, @alg, @state, @publicJwk, @privateJwkSealed,
      @createdAt, @activatedAt, @retiredAt)`),
    current: db.prepare("SELECT kid FROM signing_keys WHERE ring = ? AND state = 'current'"),
    retireCurrent: db.prepare(
      "UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE ring = ? AND state = 'current'",
    ),
    promoteNext: db.prepare(
      "UPDATE signing_keys SET state = 'current', activated_at = ? WHERE ring = ? AND state = 'next'",
    ),
    dropRetired: db.prepare(
      "DELETE FROM signing_keys WHERE ring = ? AND state = 'retired' AND retired_at < ?",
    ),
  };
  const insert = (ring: string, k: KeyRecord) => {
    s.insert.run({ ...k, ring, publicJwk: JSON.stringify(k.publicJwk) });
  };
  const init = db.transaction((ring: string, keys: KeyRecord[]): boolean => {
    if ((s.count.get(ring) as { n: number }).n > 0) return false;
    for (const k of keys) insert(ring, k);
    return true;
  });
  const rotate = db.transaction((input: Parameters<KeyStore['rotateKeys']>[0]): boolean => {
    const { ring } = input;
    const current = s.current.get(ring) as { kid: string } | undefined;
    if (current?.kid !== input.expectedCurrentKid) return false;
    s.retireCurrent.run(input.now, ring);
    s.promoteNext.run(input.now, ring);
    s.dropRetired.run(ring, input.dropRetiredBefore);
    insert(ring, input.newNext);
    return true;
  });
  return {
    async listKeys(ring) {
      return (s.list.all(ring) as KeyRow[]).map(toKey);
    },
    async initKeys(ring, keys) {
      return init.immediate(ring, keys);
    },
    async rotateKeys(input) {
      return rotate.immediate(input);
    },
  };
}
