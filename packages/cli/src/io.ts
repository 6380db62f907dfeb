import { hasErrorCode } from '@tessera/server';

/** Where a command writes; injected so tests can run the CLI in-process. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of standard input (for `--password-stdin`). */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
};

/** Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error the CLI reports in one line (or one JSON object with `--json`) with a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** What to do about it, shown under the message. */
    readonly hint?: string,
    /** A stable name for scripts (`--json`'s `error`). */
    readonly code: string = exitCode === EXIT.usage ? 'usage' : 'failed',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code for an error: the server's errors by their code (bad configuration or input is usage). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (hasErrorCode(err, 'ERR_TESSERA_CONFIG') || hasErrorCode(err, 'ERR_TESSERA_INPUT')) return EXIT.usage;
  return EXIT.failed;
}

/** What `--json` prints for a failure: `{error, message, hint}`, `error` a stable code. */
export function errorReport(err: unknown): { error: string; message: string; hint?: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof CliError) return { error: err.code, message, ...(err.hint ? { hint: err.hint } : {}) };
  if (hasErrorCode(err, 'ERR_TESSERA_CONFIG')) return { error: 'invalid_configuration', message };
  if (hasErrorCode(err, 'ERR_TESSERA_INPUT')) return { error: 'invalid_input', message };
  return { error: 'failed', message };
}

/** Prints `value` as JSON with `--json`, else as the given human text. */
export function print(io: CliIO, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human());
}
