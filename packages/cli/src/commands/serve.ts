import { ENDPOINTS } from '@tessera/protocol';
import {
  createTessera,
  describeStore,
  loadConfig,
  masterSecretFile,
  type StartupNotice,
  type Tessera,
  type TesseraConfig,
} from '@tessera/server';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { assertPortFree, newFiles } from '../listen-guard.js';
import { masterSecretOf } from '../open-server.js';
import { addSettingOptions, flagValues } from '../setting-options.js';
import { CLI_VERSION } from '../version.js';

/** `tessera serve`: the authorization server on SQLite or PostgreSQL; keys are generated on first run. */
export function serveCommand(program: Command, io: CliIO): void {
  const serve = program
    .command('serve')
    .description(
      'start the authorization server (SQLite by default, PostgreSQL with --database-url; keys are generated on first run)',
    )
    .option('--json', 'print the start-up summary as one JSON line on stdout');
  addSettingOptions(serve, 'serve').action(
    async (opts: { config?: string; json?: boolean }, command: Command) => {
      const config = loadConfig({
        flags: flagValues(command),
        env: io.env,
        ...(opts.config ? { file: opts.config } : {}),
      });
      await assertPortFree(config.host, config.port);
      const notices: StartupNotice[] = [];
      const store = describeStore(config);
      const created = newFiles(store.kind === 'sqlite' ? config.db : undefined);
      let tessera: Tessera | undefined;
      try {
        tessera = await createTessera({
          config,
          masterSecret: masterSecretOf(io, masterSecretFile(config)),
          onNotice: (n) => notices.push(n),
          versions: { cli: CLI_VERSION },
        });
        await tessera.listen();
      } catch (err) {
        await tessera?.close().catch(() => undefined);
        created.undo();
        throw err;
      }
      const clients = await tessera.ctx.stores.directory.listClients();
      const summary = {
        issuer: config.issuer,
        discovery: `${config.issuer}${ENDPOINTS.metadata}`,
        jwks: `${config.issuer}${ENDPOINTS.jwks}`,
        metrics:
          config.metricsPort === undefined
            ? `${config.issuer}/metrics`
            : `http://${config.metricsHost}:${config.metricsPort}/metrics`,
        database: store.location,
        store: store.kind,
        clients: clients.length,
        notices,
      };
      if (opts.json) {
        io.out(JSON.stringify({ listening: true, ...summary }));
      } else {
        io.err(
          [
            `Tessera is listening.`,
            `  issuer:     ${summary.issuer}`,
            `  discovery:  ${summary.discovery}`,
            `  jwks:       ${summary.jwks}`,
            `  metrics:    ${summary.metrics} (${metricsAccess(config)})`,
            `  database:   ${config.db === ':memory:' && store.kind === 'sqlite' ? 'in memory' : store.location}`,
            ...noticeLines(notices),
            ...(clients.length === 0
              ? [
                  '',
                  'No clients yet. Add one, and a user, from another terminal in this folder:',
                  `  npx tessera clients add --id web --public ${storeFlag(config)}`,
                  `  npx tessera users add --username alice --password-stdin ${storeFlag(config)}`,
                ]
              : []),
          ].join('\n'),
        );
      }
      stopOnSignals(io, () => (tessera as Tessera).close());
    },
  );
}

/** The flag that names this server's store to an administrative command (never with a password). */
function storeFlag(config: TesseraConfig): string {
  return config.databaseUrl === undefined ? `--db ${config.db}` : '--database-url "$TESSERA_DATABASE_URL"';
}

/** Start-up notices in words, for a banner. */
export function noticeLines(notices: readonly StartupNotice[]): string[] {
  return notices.map((n) => `  ${n.level === 'error' ? 'error:' : 'note: '}      ${n.message}`);
}

/**
 * SIGINT or SIGTERM: close (in-flight requests finish, bounded), then exit. A second signal, or a
 * close that fails, ends the process at once.
 */
export function stopOnSignals(io: CliIO, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    io.err(`${signal} received, shutting down`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        io.err(`error while shutting down: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Who may read the metrics, in words for the banner. */
function metricsAccess(config: TesseraConfig): string {
  if (config.metricsToken !== undefined) return 'with the metrics token';
  return config.metricsPort === undefined
    ? 'this machine only'
    : `wherever ${config.metricsHost} is reachable`;
}
