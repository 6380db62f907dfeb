import type Database from 'better-sqlite3';
import type { ClientRecord, DirectoryStore, UserRecord } from '../../ports/index.js';
import { DuplicateError } from '../../ports/index.js';
import type { DocumentRow } from './rows.js';

/** Users and clients, each a JSON document beside the columns it is looked up by. */
export function sqliteDirectoryStore(db: Database.Database): DirectoryStore {
  const s = {
    findClient: db.prepare('SELECT data FROM clients WHERE id = ?'),
    saveClient: db.prepare(
      'INSERT INTO clients (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
    ),
    listClients: db.prepare('SELECT data FROM clients ORDER BY id'),
    deleteClient: db.prepare('DELETE FROM clients WHERE id = ?'),
    findUserByName: db.prepare('SELECT data FROM users WHERE username = ?'),
    findUserById: db.prepare('SELECT data FROM users WHERE id = ?'),
    insertUser: db.prepare('INSERT INTO users (id, username, data) VALUES (?, ?, ?)'),
    updateUser: db.prepare('UPDATE users SET username = ?, data = ? WHERE id = ?'),
    listUsers: db.prepare('SELECT data FROM users ORDER BY username'),
  };
  const client = (row: unknown) => (row ? (JSON.parse((row as DocumentRow).data) as ClientRecord) : null);
  const user = (row: unknown) => (row ? (JSON.parse((row as DocumentRow).data) as UserRecord) : null);
  return {
    async findClient(id) {
      return client(s.findClient.get(id));
    },
    async saveClient(c) {
      s.saveClient.run(c.id, JSON.stringify(c));
    },
    async listClients() {
      return (s.listClients.all() as DocumentRow[]).map((r) => JSON.parse(r.data) as ClientRecord);
    },
    async deleteClient(id) {
      return s.deleteClient.run(id).changes === 1;
    },
    async findUserByUsername(username) {
      return user(s.findUserByName.get(username));
    },
    async findUserById(id) {
      return user(s.findUserById.get(id));
    },
    async createUser(u) {
      try {
        s.insertUser.run(u.id, u.username, JSON.stringify(u));
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
          throw new DuplicateError(`user "${u.username}"`);
        }
        throw err;
      }
    },
    async updateUser(u) {
      s.updateUser.run(u.username, JSON.stringify(u), u.id);
    },
    async listUsers() {
      return (s.listUsers.all() as DocumentRow[]).map((r) => JSON.parse(r.data) as UserRecord);
    },
  };
}
