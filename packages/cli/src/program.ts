import { Command, CommanderError } from 'commander';
import { cleanupCommand } from './commands/cleanup.js';
import { clientsCommand } from './commands/clients.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { keysCommand } from './commands/keys.js';
import { serveCommand } from './commands/serve.js';
import { sessionsCommand } from './commands/sessions.js';
import { tokenCommand } from './commands/token.js';
import { usersCommand } from './commands/users.js';
import { vaultCommand } from './commands/vault.js';
import { CliError, type CliIO, EXIT, errorReport, exitCodeOf, processIO } from './io.js';
import { CLI_VERSION } from './version.js';

/**
 * Builds the `tessera` program. With `json`, commander's own error text (unknown option, missing
 * argument) is held back: `runCli` prints the failure as one JSON object instead.
 */
export function buildProgram(io: CliIO = processIO, json = false): Command {
  const program = new Command('tessera')
    .description('Tessera: keeps people signed in, smoothly and safely.')
    .version(CLI_VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => {
        if (!json) io.err(s.trimEnd());
      },
    })
    .showHelpAfterError();
  serveCommand(program, io);
  demoCommand(program, io);
  usersCommand(program, io);
  clientsCommand(program, io);
  keysCommand(program, io);
  sessionsCommand(program, io);
  tokenCommand(program, io);
  cleanupCommand(program, io);
  doctorCommand(program, io);
  vaultCommand(program, io);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Runs the CLI; resolves with the exit code (0 ok, 1 failed, 2 bad usage or configuration). A
 * failure is one line on stderr (and a hint), or with `--json` one `{error, message, hint}` object
 * on stdout, with the same exit code.
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram(io, json);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (caught) {
    let err = caught;
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok;
      err = new CliError(err.message.replace(/^error: /, ''), EXIT.usage, 'see --help', 'usage');
    }
    if (json) {
      io.out(JSON.stringify(errorReport(err)));
    } else if (!(caught instanceof CommanderError)) {
      io.err(`error: ${(err as Error).message}`);
      const { hint } = errorReport(err);
      if (hint) io.err(`hint: ${hint}`);
    }
    return exitCodeOf(err);
  }
}
