import type { Clock } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import type { ClientRecord, DirectoryStore, UserRecord } from '../ports/index.js';

/**
 * Caches client and user records read on every refresh. Writes through this store invalidate
 * at once; changes made by another process (the CLI, another instance) show within `ttlMs`.
 * Misses are not cached, so a client or user created elsewhere is found on the next request.
 */
export function cachedDirectory(store: DirectoryStore, clock: Clock, ttlMs: number): DirectoryStore {
  const clients = new Map<string, { value: ClientRecord; until: number }>();
  const users = new Map<string, { value: UserRecord; until: number }>();
  async function cached<T>(
    map: Map<string, { value: T; until: number }>,
    key: string,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    const hit = map.get(key);
    const now = clock.now();
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (value === null) {
      map.delete(key);
      return null;
    }
    if (map.size >= LIMITS.directoryCacheEntries) map.clear();
    map.set(key, { value, until: now + ttlMs });
    return value;
  }
  return {
    findClient: (id) => cached(clients, id, () => store.findClient(id)),
    findUserById: (id) => cached(users, id, () => store.findUserById(id)),
    findUserByUsername: (username) => store.findUserByUsername(username),
    listClients: () => store.listClients(),
    listUsers: () => store.listUsers(),
    async saveClient(client) {
      clients.delete(client.id);
      await store.saveClient(client);
      clients.delete(client.id);
    },
    async deleteClient(id) {
      clients.delete(id);
      return store.deleteClient(id);
    },
    createUser: (user) => store.createUser(user),
    async updateUser(user) {
      users.delete(user.id);
      await store.updateUser(user);
      users.delete(user.id);
    },
  };
}
