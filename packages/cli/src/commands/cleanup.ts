import { cleanup } from '@tessera/server';
import type { Command } from 'commander';
import { type CliIO, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

/** `tessera cleanup`: delete expired rows now (the server also does it on a schedule). */
export function cleanupCommand(program: Command, io: CliIO): void {
  program
    .command('cleanup')
    .description(
      "delete expired tokens and sessions now, keeping tombstones until each session's absolute expiry, and events past their retention",
    )
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      const result = await withServer(io, opts, (t) => cleanup(t.ctx));
      print(
        io,
        opts.json === true,
        result,
        () =>
          `deleted ${result.tokensDeleted} token row(s) and ${result.familiesDeleted} session(s); ${result.familiesExpired} session(s) expired; ${result.eventsDeleted} event(s) and ${result.countersDeleted} counter row(s) past their retention`,
      );
    });
}
