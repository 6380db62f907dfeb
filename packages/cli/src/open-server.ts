import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ADMIN_DEFAULTS,
  type ConfigInput,
  createTessera,
  loadConfig,
  loadMasterSecret,
  masterSecretFile,
  SCHEMA,
  type Tessera,
} from '@tessera/server';
import { Option } from 'commander';
import { CliError, type CliIO, EXIT } from './io.js';

/** Options every command accepts for finding the database and configuration. */
export interface CommonOptions {
  db?: string;
  databaseUrl?: string;
  databaseSchema?: string;
  config?: string;
  json?: boolean;
  /** Create the database (and its master key) when it does not exist. */
  create?: boolean;
}

/** `--create`: the one way an administrative command may make a new database. */
export const createOption = (): Option =>
  new Option('--create', 'create the database (and its master key) if it does not exist yet');

/**
 * Opens the server's state (database, keys) without listening, for administrative commands. Their
 * own values (`ADMIN_DEFAULTS`: quieter logs) sit below the user's flags, environment and file;
 * logs go to stderr, so stdout holds only the command's answer.
 */
export async function openForAdmin(
  io: CliIO,
  opts: CommonOptions,
  /** Values below the user's own (e.g. the issuer a token names, for `token inspect`). */
  overrides: ConfigInput = {},
): Promise<Tessera> {
  const config = loadConfig({
    flags: { db: opts.db, databaseUrl: opts.databaseUrl, databaseSchema: opts.databaseSchema },
    env: io.env,
    ...(opts.config ? { file: opts.config } : {}),
    overrides: { ...ADMIN_DEFAULTS, ...overrides },
  });
  // A mistyped --db must not quietly make a new, empty database and master key.
  const onSqlite = config.databaseUrl === undefined;
  if (onSqlite && config.db !== ':memory:' && !existsSync(config.db) && opts.create !== true) {
    const from = opts.db !== undefined ? '--db' : io.env[SCHEMA.db.env] ? SCHEMA.db.env : undefined;
    throw new CliError(
      `no database at ${resolve(config.db)}${from ? ` (from ${from})` : ''}`,
      EXIT.failed,
      `start the server once (tessera serve, or tessera demo for .tessera/demo.db), run this from the folder it runs in or pass its --db, or add --create to make a new database`,
      'database_not_found',
    );
  }
  return createTessera({
    config,
    background: false,
    masterSecret: masterSecretOf(io, masterSecretFile(config)),
    logDestination: process.stderr,
  });
}

/**
 * The master secret from the CLI's own environment (`TESSERA_SECRET`) or the key file beside the
 * database (`null`: a shared database, which has none); a bad secret is a configuration error (exit 2).
 */
export function masterSecretOf(io: CliIO, db: string | null): Buffer {
  try {
    return loadMasterSecret(db, io.env);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err;
    throw new CliError((err as Error).message, EXIT.usage);
  }
}

/** Runs `fn` with an opened server and always closes it. */
export async function withServer<T>(
  io: CliIO,
  opts: CommonOptions,
  fn: (tessera: Tessera) => Promise<T>,
  overrides: ConfigInput = {},
): Promise<T> {
  const tessera = await openForAdmin(io, opts, overrides);
  try {
    return await fn(tessera);
  } finally {
    await tessera.close();
  }
}
