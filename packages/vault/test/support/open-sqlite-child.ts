// Opens (and so migrates) a vault SQLite file and writes one row; run by the store tests in parallel processes.
import { openSqliteVaultStore } from '../../src/index.js';

const [path, userId] = process.argv.slice(2) as [string, string];
const store = openSqliteVaultStore(path);
await store.put({
  userId,
  connection: 'default',
  issuer: 'https://idp.test',
  sealed: {
    access_token: 'x',
    token_type: 'x',
    expiry: 'x',
    refresh_token: null,
    id_token: null,
    scope: null,
  },
  keyId: 'k1',
  refreshedAt: 1,
  updatedAt: 1,
  purgeAt: null,
});
await store.close();
