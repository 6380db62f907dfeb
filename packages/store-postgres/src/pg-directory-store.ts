import { type ClientRecord, type DirectoryStore, DuplicateError, type UserRecord } from '@tessera/server';
import type { Database } from './database.js';

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

/** Users and clients, each a JSON document beside the columns it is looked up by. */
export function pgDirectoryStore(db: Database): DirectoryStore {
  const clients = db.t('clients');
  const users = db.t('users');
  const one = async <T>(text: string, value: string): Promise<T | null> => {
    const [row] = await db.rows<{ data: string }>(text, [value]);
    return row ? (JSON.parse(row.data) as T) : null;
  };
  const all = async <T>(text: string): Promise<T[]> =>
    (await db.rows<{ data: string }>(text)).map((r) => JSON.parse(r.data) as T);
  return {
    findClient: (id) => one<ClientRecord>(`SELECT data FROM ${clients} WHERE id = $1`, id),
    async saveClient(c) {
      await db.count(
        `INSERT INTO ${clients} (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
        [c.id, JSON.stringify(c)],
      );
    },
    listClients: () => all<ClientRecord>(`SELECT data FROM ${clients} ORDER BY id COLLATE "C"`),
    async deleteClient(id) {
      return (await db.count(`DELETE FROM ${clients} WHERE id = $1`, [id])) === 1;
    },
    findUserByUsername: (username) =>
      one<UserRecord>(`SELECT data FROM ${users} WHERE username = $1`, username),
    findUserById: (id) => one<UserRecord>(`SELECT data FROM ${users} WHERE id = $1`, id),
    async createUser(u) {
      try {
        await db.count(`INSERT INTO ${users} (id, username, data) VALUES ($1, $2, $3)`, [
          u.id,
          u.username,
          JSON.stringify(u),
        ]);
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION)
          throw new DuplicateError(`user "${u.username}"`);
        throw err;
      }
    },
    async updateUser(u) {
      await db.count(`UPDATE ${users} SET username = $1, data = $2 WHERE id = $3`, [
        u.username,
        JSON.stringify(u),
        u.id,
      ]);
    },
    listUsers: () => all<UserRecord>(`SELECT data FROM ${users} ORDER BY username COLLATE "C"`),
  };
}
