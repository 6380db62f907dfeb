import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEMO_USERS, startDemo } from '@tessera/demo';
import { parseDuration } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT } from '../io.js';
import { masterSecretOf } from '../open-server.js';
import { faultFromEnv } from './serve.js';

interface DemoCommandOptions {
  port: string;
  host: string;
  db: string;
  accessTokenTtl: string;
  logLevel: string;
}

/**
 * `tessera demo`: the authorization server on SQLite, the demo page and a protected API on one
 * origin, with seeded users and 20-second access tokens so silent refreshes are visible.
 */
export function demoCommand(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('start the demo: server, demo web app and a protected API, with seeded users')
    .option('--port <port>', 'TCP port', '4100')
    .option('--host <host>', 'interface', '127.0.0.1')
    .option('--db <file>', 'SQLite database file', '.tessera/demo.db')
    .option('--access-token-ttl <duration>', 'access-token lifetime of the demo app', '20s')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', 'warn')
    .action(async (opts: DemoCommandOptions) => {
      let ttl: number;
      try {
        ttl = parseDuration(opts.accessTokenTtl);
      } catch (err) {
        throw new CliError(`--access-token-ttl: ${(err as Error).message}`, EXIT.usage);
      }
      if (ttl < 1) throw new CliError('--access-token-ttl: at least 1 second', EXIT.usage);
      if (opts.db !== ':memory:') mkdirSync(dirname(opts.db), { recursive: true });
      const demo = await startDemo({
        port: Number(opts.port),
        host: opts.host,
        db: opts.db,
        accessTokenTtl: ttl,
        env: io.env,
        config: { logLevel: opts.logLevel },
        masterSecret: masterSecretOf(io, opts.db),
        ...(io.env.TESSERA_FAULT_INJECTION ? { fault: faultFromEnv(io.env.TESSERA_FAULT_INJECTION) } : {}),
      });
      io.err(
        [
          'Tessera demo is running.',
          `  open:       ${demo.url}/`,
          `  sign in as: ${DEMO_USERS.map((u) => `${u.username} / ${u.password}`).join('   or   ')}`,
          `  tokens:     ${ttl} s access tokens, refreshed silently; the refresh token lives in an HttpOnly cookie`,
          `  issuer:     ${demo.url} (discovery: ${demo.url}/.well-known/oauth-authorization-server)`,
          `  database:   ${opts.db}`,
          '',
          'Try: "Simulate offline", a second tab, or end the session from another terminal:',
          `  npx tessera sessions list --db ${opts.db}`,
          `  npx tessera sessions revoke <id> --db ${opts.db}`,
        ].join('\n'),
      );
      const stop = async (signal: string) => {
        io.err(`${signal} received, shutting down`);
        await demo.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
