import { DEFAULTS, hasErrorCode, LIMITS, SCHEMA } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

/** `tessera keys rotate|list`. */
export function keysCommand(program: Command, io: CliIO): void {
  const keys = program.command('keys').description('manage signing keys');
  keys
    .command('rotate')
    .description('promote the published next key to current, retire the current one, publish a new next key')
    .option(
      '--force',
      `rotate even if the next key was published less than ${LIMITS.jwksMaxAgeSeconds + DEFAULTS.keyRingRefreshInterval} s ago (JWKS max-age + key-ring refresh)`,
    )
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { force?: boolean }) => {
      const result = await withServer(io, opts, async (t) => {
        const before = t.ctx.keyRing.current().kid;
        const { kid } = await t.ctx.keyRing.rotate({ force: opts.force === true }).catch((err: Error) => {
          if (hasErrorCode(err, 'ERR_TESSERA_KEY_ROTATION_TOO_SOON'))
            throw new CliError(`${err.message} (--force)`);
          throw err;
        });
        await t.ctx.stores.events.append([
          { at: t.ctx.clock.now(), type: 'key.rotated', reason: 'cli', data: { from: before, to: kid } },
        ]);
        return { previous: before, current: kid, keys: t.ctx.keyRing.list() };
      });
      print(io, opts.json === true, result, () =>
        [
          `rotated: ${result.previous} -> ${result.current}`,
          `A running server picks the new key up within its key-ring refresh interval (${SCHEMA.keyRingRefreshInterval.env}).`,
        ].join('\n'),
      );
    });
  keys
    .command('list')
    .description('list signing keys and their state')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      const list = await withServer(io, opts, async (t) => t.ctx.keyRing.list());
      print(io, opts.json === true, list, () =>
        list
          .map((k) => `${k.kid}\t${k.alg}\t${k.state}\tcreated ${new Date(k.createdAt).toISOString()}`)
          .join('\n'),
      );
    });
}
