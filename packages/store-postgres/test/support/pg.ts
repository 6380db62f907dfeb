import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStores, type PostgresOpenOptions, type PostgresStores } from '../../src/index.js';

/** The test database: `TESSERA_TEST_PG_URL` (`.ci/run` sets it). */
export const PG_URL = process.env.TESSERA_TEST_PG_URL;

/**
 * The rule of every PostgreSQL test: it runs whenever `TESSERA_TEST_PG_URL` is set. Without it,
 * on CI (`CI` set) the file fails with this message, and elsewhere its tests are skipped with it
 * (a laptop without PostgreSQL still runs `npm test`).
 */
export function pgSkip(): false | string {
  if (PG_URL) return false;
  const message = 'TESSERA_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';
  if (process.env.CI) throw new Error(`${message}: the PostgreSQL tests must run on CI`);
  return message;
}

/** A schema name of its own for one test run (dropped after with `dropSchema`). */
export function freshSchema(): string {
  return `tessera_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

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
