import { freshSchema, PG_URL, pgSkip } from '@tessera/test-support';
import pg from 'pg';
import { openPostgresStores, type PostgresOpenOptions, type PostgresStores } from '../../src/index.js';

export { freshSchema, PG_URL, pgSkip };

/** Runs one statement on its own connection to the test database. */
export async function admin<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Stores in a fresh schema; closing them drops the schema. */
export async function openTestStores(options: Partial<PostgresOpenOptions> = {}): Promise<PostgresStores> {
  const schema = options.schema ?? freshSchema();
  const stores = await openPostgresStores({ url: PG_URL!, ...options, schema });
  const close = stores.close;
  return {
    ...stores,
    async close() {
      await close();
      await dropSchema(schema);
    },
  };
}
