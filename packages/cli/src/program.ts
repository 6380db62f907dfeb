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
import { type CliIO, EXIT, exitCodeOf, processIO } from './io.js';

/** Builds the `tessera` program. */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command('tessera')
    .description('Tessera: keeps people signed in, smoothly and safely.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
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
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI; resolves with the exit code (0 ok, 1 failed, 2 bad usage or configuration). */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.err(`error: ${(err as Error).message}`);
    return exitCodeOf(err);
  }
}
