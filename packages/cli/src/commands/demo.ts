import { DEMO_USERS, startDemo } from '@tessera/demo';
import { DEMO_DEFAULTS, loadConfig } from '@tessera/server';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { addSettingOptions, flagValues } from '../setting-options.js';
import { faultAt } from './serve.js';

/**
 * `tessera demo`: the authorization server on SQLite, the demo page and a protected API on one
 * origin, with seeded users and 20-second access tokens so silent refreshes are visible. Its own
 * values (`DEMO_DEFAULTS`) sit below the user's flags, environment and file.
 */
export function demoCommand(program: Command, io: CliIO): void {
  const demo = program
    .command('demo')
    .description('start the demo: server, demo web app and a protected API, with seeded users');
  addSettingOptions(demo, 'demo').action(async (opts: { config?: string }, command: Command) => {
    const config = loadConfig({
      flags: flagValues(command),
      env: io.env,
      ...(opts.config ? { file: opts.config } : {}),
      overrides: DEMO_DEFAULTS,
    });
    const running = await startDemo({
      config,
      env: io.env,
      ...(config.faultInjection ? { fault: faultAt(config.faultInjection) } : {}),
    });
    io.err(
      [
        'Tessera demo is running.',
        `  open:       ${running.url}/`,
        `  sign in as: ${DEMO_USERS.map((u) => `${u.username} / ${u.password}`).join('   or   ')}`,
        `  tokens:     ${config.accessTokenTtl} s access tokens, refreshed silently; the refresh token lives in an HttpOnly cookie`,
        `  issuer:     ${running.url} (discovery: ${running.url}/.well-known/oauth-authorization-server)`,
        `  database:   ${config.db}`,
        '',
        'Try: "Simulate offline", a second tab, or end the session from another terminal:',
        `  npx tessera sessions list --db ${config.db}`,
        `  npx tessera sessions revoke <id> --db ${config.db}`,
      ].join('\n'),
    );
    const stop = async (signal: string) => {
      io.err(`${signal} received, shutting down`);
      await running.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
