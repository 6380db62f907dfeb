import { type ConfigInput, createTessera, loadConfig } from '@tessera/server';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { masterSecretOf } from '../open-server.js';

interface ServeOptions {
  port?: string;
  host?: string;
  db?: string;
  issuer?: string;
  config?: string;
  logLevel?: string;
}

/** `tessera serve`: the authorization server on SQLite; keys are generated on first run. */
export function serveCommand(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('start the authorization server (SQLite by default; keys are generated on first run)')
    .option('--port <port>', 'TCP port (TESSERA_PORT, default 4000)')
    .option('--host <host>', 'interface (TESSERA_HOST, default 127.0.0.1)')
    .option('--db <file>', 'SQLite database file (TESSERA_DB, default ./tessera.db)')
    .option('--issuer <url>', 'issuer URL (TESSERA_ISSUER, default http://host:port)')
    .option('--config <file>', 'JSON configuration file (TESSERA_CONFIG)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (TESSERA_LOG_LEVEL)')
    .action(async (opts: ServeOptions) => {
      const flags: ConfigInput = {
        port: opts.port,
        host: opts.host,
        db: opts.db,
        issuer: opts.issuer,
        logLevel: opts.logLevel,
      };
      const config = loadConfig({ flags, env: io.env, ...(opts.config ? { file: opts.config } : {}) });
      const tessera = await createTessera({
        config,
        masterSecret: masterSecretOf(io, config.db),
        ...(io.env.TESSERA_FAULT_INJECTION ? { fault: faultFromEnv(io.env.TESSERA_FAULT_INJECTION) } : {}),
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
 * Test-only fault injection (SPEC §3.3 rule 8): `TESSERA_FAULT_INJECTION=before-commit` (or
 * `after-commit`) makes the server kill itself with SIGKILL at that point of its first rotation.
 */
export function faultFromEnv(point: string) {
  if (point !== 'before-commit' && point !== 'after-commit') {
    throw new Error('TESSERA_FAULT_INJECTION must be before-commit or after-commit');
  }
  return (at: 'before-commit' | 'after-commit') => {
    if (at === point) process.kill(process.pid, 'SIGKILL');
  };
}
