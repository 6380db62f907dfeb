import { generateVaultKey, rekeyVault, VAULT_ENV, VaultConfigError } from '@tessera/vault';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';

/** `tessera vault rekey|keygen`: maintenance of a `@tessera/vault` database (no upstream needed). */
export function vaultCommand(program: Command, io: CliIO): void {
  const vault = program.command('vault').description('maintain a @tessera/vault token database');
  vault
    .command('rekey')
    .description(
      `re-encrypt every stored token set and pending sign-in under the current key (keys from ${VAULT_ENV.keys} or ${VAULT_ENV.keysFile})`,
    )
    .requiredOption('--database <file-or-url>', 'the vault database: an SQLite file or a postgres:// URL')
    .option('--schema <name>', 'PostgreSQL schema of the vault tables (default public)')
    .option('--json', 'print JSON')
    .action(async (opts: { database: string; schema?: string; json?: boolean }) => {
      let result: Awaited<ReturnType<typeof rekeyVault>>;
      try {
        result = await rekeyVault({
          database: opts.database,
          env: io.env,
          ...(opts.schema ? { postgres: { schema: opts.schema } } : {}),
        });
      } catch (err) {
        if (err instanceof VaultConfigError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
      print(io, opts.json === true, result, () =>
        [
          `re-encrypted ${result.rekeyed} of ${result.scanned} connection(s) and ${result.signIns.rekeyed} of ${result.signIns.scanned} pending sign-in(s) under key "${result.current}"`,
          ...result.failed.map((f) => `cannot decrypt ${f.userId}/${f.connection}: ${f.reason}`),
          ...(result.signIns.failed > 0
            ? [
                `${result.signIns.failed} pending sign-in(s) no configured key opens: left to expire (they cannot be finished)`,
              ]
            : []),
        ].join('\n'),
      );
      if (result.failed.length > 0) {
        throw new CliError(
          `${result.failed.length} connection(s) could not be decrypted with the configured keys`,
        );
      }
    });
  vault
    .command('keygen')
    .description(`print a new vault key (32 random bytes, base64) to add to ${VAULT_ENV.keys}`)
    .option('--id <id>', 'key id', 'k1')
    .option('--json', 'print JSON')
    .action((opts: { id: string; json?: boolean }) => {
      const key = generateVaultKey();
      print(io, opts.json === true, { id: opts.id, key }, () => key);
    });
}
