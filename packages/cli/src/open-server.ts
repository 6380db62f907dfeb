import {
  ADMIN_DEFAULTS,
  type ConfigInput,
  createTessera,
  loadConfig,
  loadMasterSecret,
  type Tessera,
} from '@tessera/server';
import { CliError, type CliIO, EXIT } from './io.js';

/** Options every command accepts for finding the database and configuration. */
export interface CommonOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/**
 * Opens the server's state (database, keys) without listening, for administrative commands. Their
 * own values (`ADMIN_DEFAULTS`: quieter logs) sit below the user's flags, environment and file;
 * logs go to stderr, so stdout holds only the command's answer.
 */
export async function openForAdmin(
  io: CliIO,
  opts: CommonOptions,
  flags: ConfigInput = {},
): Promise<Tessera> {
  const config = loadConfig({
    flags: { db: opts.db, ...flags },
    env: io.env,
    ...(opts.config ? { file: opts.config } : {}),
    overrides: ADMIN_DEFAULTS,
  });
  return createTessera({
    config,
    background: false,
    masterSecret: masterSecretOf(io, config.db),
    logDestination: process.stderr,
  });
}

/**
 * The master secret from the CLI's own environment (`TESSERA_SECRET`) or the key file beside the
 * database; a bad secret is a configuration error (exit 2).
 */
export function masterSecretOf(io: CliIO, db: string): Buffer {
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
): Promise<T> {
  const tessera = await openForAdmin(io, opts);
  try {
    return await fn(tessera);
  } finally {
    await tessera.close();
  }
}
