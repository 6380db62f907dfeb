import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/test-support';

export { freePort };

const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
/** `tessera demo` with stores that kill the process at one point of a rotation. */
const FAULTY = join(ROOT, 'apps/demo/test/support/demo-with-fault.ts');
/**
 * How long a CLI command or the demo may take to start. About 2 s on a quiet machine; run from
 * source through tsx it is mostly module loading, which a loaded CI machine makes 10 to 15 times
 * slower. A bound, not an expectation: a healthy run never waits for it.
 */
const START_TIMEOUT = 60_000;

/** Runs the `tessera` CLI from source with the demo's secret; resolves with its exit code and output. */
export function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tessera/source', BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (err += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera ${args.join(' ')} timed out: ${err}`));
    }, START_TIMEOUT);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/**
 * `tessera demo` as a real process (from source) on 127.0.0.1, a fresh SQLite file and a fixed
 * master secret, so it can be killed and started again on the same port and database.
 */
export class DemoServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
  readonly db = join(this.dir, 'demo.db');
  readonly env: Record<string, string> = {
    TESSERA_SECRET: randomBytes(32).toString('base64url'),
    TESSERA_PASSWORD_HASH_COST: '10',
  };
  child: ChildProcess | undefined;
  exited: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);
  port = 0;

  constructor(readonly accessTokenTtl: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts (or restarts, on the same port) and resolves once it listens; with a `fault`, the same
   * demo whose every rotation kills it (SIGKILL) at that point.
   */
  async start(options: { fault?: 'before-commit' | 'after-commit' } = {}): Promise<void> {
    this.port ||= await freePort();
    const command = options.fault
      ? [FAULTY, options.fault, this.db, String(this.port), String(this.accessTokenTtl)]
      : [
          BIN,
          'demo',
          '--port',
          String(this.port),
          '--db',
          this.db,
          '--access-token-ttl',
          `${this.accessTokenTtl}s`,
          '--log-level',
          'error',
        ];
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tessera/source', ...command], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${stderr}`)), START_TIMEOUT);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Tessera demo is running')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`demo exited early: ${stderr}`));
      });
    });
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Counters from `/metrics`: refresh requests that reached the server, and rotations by result. */
  async metrics(): Promise<{ requests: number; rotated: number; grace: number }> {
    const text = await (await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const sum = (pattern: RegExp) =>
      text
        .split('\n')
        .filter((line) => pattern.test(line))
        .reduce((n, line) => n + Number(line.split(' ').pop()), 0);
    return {
      requests: sum(/^tessera_http_request_duration_seconds_count\{.*route="\/api\/auth\/refresh"/),
      rotated: sum(/^tessera_refresh_total\{result="rotated"\}/),
      grace: sum(/^tessera_refresh_total\{result="grace"\}/),
    };
  }
}
