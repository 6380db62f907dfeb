import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshSchema, PG_URL, pgSkip } from '@tessera/test-support';

/** A fresh keys object with one key (or the given ids). */
export function makeKeys(
  ids: string[] = ['k1'],
  current = ids[ids.length - 1]!,
): { current: string } & Record<string, string> {
  const keys: { current: string } & Record<string, string> = { current };
  for (const id of ids) keys[id] = randomBytes(32).toString('base64');
  return keys;
}

/** A temp folder with a vault database path; `cleanup()` removes it. */
export function tempDb(): { dir: string; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vault-test-'));
  return { dir, path: join(dir, 'vault.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every byte the SQLite database wrote (main file, WAL, shared memory). */
export function databaseBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

/** A virtual clock shared by a test and its vaults. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 0, 1, 12)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export { PG_URL, pgSkip };

/** A schema name of its own for one test run. */
export const pgSchema = (): string => freshSchema('vault_test');

export async function dropSchema(schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
