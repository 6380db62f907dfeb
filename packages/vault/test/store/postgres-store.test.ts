import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openPostgresVaultStore } from '@tessera/vault';
import { describeVaultStoreConformance } from '@tessera/vault/testing';
import { dropSchema, PG_URL, pgSchema, pgSkip } from '../support/vault-fixtures.js';

const skip = pgSkip();
const schemas: string[] = [];
after(async () => {
  for (const s of schemas) await dropSchema(s);
});

describe('PostgreSQL (TESSERA_TEST_PG_URL)', { skip }, () => {
  describeVaultStoreConformance('PostgreSQL', async () => {
    const schema = pgSchema();
    schemas.push(schema);
    return openPostgresVaultStore(PG_URL!, { schema });
  });
});

describe('PostgreSQL vault store: migrations', { skip }, () => {
  it('six instances opening one new schema at once migrate it once (advisory lock)', async () => {
    const schema = pgSchema();
    schemas.push(schema);
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => openPostgresVaultStore(PG_URL!, { schema })),
    );
    await stores[0]!.put({
      userId: 'u',
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
    for (const s of stores) assert.equal((await s.get('u', 'default'))?.version, 1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(openPostgresVaultStore(PG_URL!, { schema: 'x"; DROP TABLE y; --' }), {
      name: 'VaultConfigError',
    });
  });
});
