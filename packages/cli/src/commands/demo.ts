import type { RunningDemo } from '@tessera/demo';
import { ENDPOINTS } from '@tessera/protocol';
import { DEMO_DEFAULTS, loadConfig, type StartupNotice } from '@tessera/server';
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { assertPortFree, newFiles } from '../listen-guard.js';
import { addSettingOptions, flagValues } from '../setting-options.js';
import { CLI_VERSION } from '../version.js';
import { noticeLines, stopOnSignals } from './serve.js';

/**
 * `tessera demo`: the authorization server on SQLite, the demo page and a protected API on one
 * origin, with seeded users and 20-second access tokens so silent refreshes are visible. Its own
 * values (`DEMO_DEFAULTS`) sit below the user's flags, environment and file.
 */
export function demoCommand(program: Command, io: CliIO): void {
  const demo = program
    .command('demo')
    .description('start the demo: server, demo web app and a protected API, with seeded users')
    .option('--json', 'print the start-up summary as one JSON line on stdout');
  addSettingOptions(demo, 'demo').action(
    async (opts: { config?: string; json?: boolean }, command: Command) => {
      const config = loadConfig({
        flags: flagValues(command),
        env: io.env,
        ...(opts.config ? { file: opts.config } : {}),
        overrides: DEMO_DEFAULTS,
      });
      await assertPortFree(config.host, config.port);
      const notices: StartupNotice[] = [];
      const created = newFiles(config.db);
      // Loaded here, not at start: no other command pays for (or depends on) the demo's page.
      const { DEMO_USERS, startDemo } = await import('@tessera/demo');
      let running: RunningDemo;
      try {
        running = await startDemo({
          config,
          env: io.env,
          onNotice: (n) => notices.push(n),
          versions: { cli: CLI_VERSION },
        });
      } catch (err) {
        created.undo();
        throw err;
      }
      const users = DEMO_USERS.map((u) => ({ username: u.username, password: u.password }));
      const admin = DEMO_USERS.find((u) => (u.roles as readonly string[]).includes('admin'));
      if (opts.json) {
        io.out(
          JSON.stringify({
            listening: true,
            url: `${running.url}/`,
            dashboard: `${running.url}/admin/`,
            users,
            accessTokenTtl: config.accessTokenTtl,
            issuer: running.url,
            database: config.db,
            notices,
          }),
        );
      } else {
        io.err(
          [
            'Tessera demo is running.',
            `  open:       ${running.url}/`,
            `  sign in as: ${users.map((u) => `${u.username} / ${u.password}`).join('   or   ')}`,
            `  dashboard:  ${running.url}/admin/${admin ? ` (sign in as ${admin.username} / ${admin.password}: sessions, lineage, why each ended)` : ''}`,
            `  tokens:     ${config.accessTokenTtl} s access tokens, refreshed silently; the refresh token lives in an HttpOnly cookie`,
            `  issuer:     ${running.url} (discovery: ${running.url}${ENDPOINTS.metadata})`,
            `  database:   ${config.db}`,
            ...noticeLines(notices),
            '',
            'Try: "Simulate offline", a second tab, or end the session from another terminal in this folder:',
            `  npx tessera sessions list --db ${config.db}`,
            `  npx tessera sessions revoke --user demo --db ${config.db}`,
          ].join('\n'),
        );
      }
      stopOnSignals(io, () => running.close());
    },
  );
}
