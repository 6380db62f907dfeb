import { createTessera, type FaultPoint, loadConfig } from '@tessera/server';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { masterSecretOf } from '../open-server.js';
import { addSettingOptions, flagValues } from '../setting-options.js';

/** `tessera serve`: the authorization server on SQLite; keys are generated on first run. */
export function serveCommand(program: Command, io: CliIO): void {
  const serve = program
    .command('serve')
    .description('start the authorization server (SQLite by default; keys are generated on first run)');
  addSettingOptions(serve, 'serve').action(async (opts: { config?: string }, command: Command) => {
    const config = loadConfig({
      flags: flagValues(command),
      env: io.env,
      ...(opts.config ? { file: opts.config } : {}),
    });
    const tessera = await createTessera({
      config,
      masterSecret: masterSecretOf(io, config.db),
      ...(config.faultInjection ? { fault: faultAt(config.faultInjection) } : {}),
    });
    await tessera.listen();
    const clients = await tessera.ctx.stores.directory.listClients();
    io.err(
      [
        `Tessera is listening.`,
        `  issuer:     ${config.issuer}`,
        `  discovery:  ${config.issuer}/.well-known/oauth-authorization-server`,
        `  jwks:       ${config.issuer}/.well-known/jwks.json`,
        `  database:   ${config.db === ':memory:' ? 'in memory' : config.db}`,
        ...(clients.length === 0
          ? [
              '',
              'No clients yet. Add one, and a user, from another terminal:',
              `  tessera clients add --id web --public --db ${config.db}`,
              `  tessera users add --username alice --password-stdin --db ${config.db}`,
            ]
          : []),
      ].join('\n'),
    );
    const stop = async (signal: string) => {
      io.err(`${signal} received, shutting down`);
      await tessera.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

/**
 * Test-only fault injection (`TESSERA_FAULT_INJECTION`, crash-safety tests): the process kills
 * itself with SIGKILL at that point of its first rotation.
 */
export function faultAt(point: FaultPoint) {
  return (at: FaultPoint) => {
    if (at === point) process.kill(process.pid, 'SIGKILL');
  };
}
