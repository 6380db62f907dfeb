import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@tessera/test-support';

export { freePort };

const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

/** `tessera …` as a real process, run from source (as `npx tessera` would run the build). */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<number | NodeJS.Signals | null>;

  constructor(args: string[], env: Record<string, string>, cwd = ROOT) {
    this.child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tessera/source', BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(signal ?? code)));
  }

  /** Waits until stderr holds `text`; fails after `ms` or when the process ends first. */
  async waitFor(text: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stderr.includes(text)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`exited before "${text}": ${this.stderr}${this.stdout}`);
      }
      if (Date.now() > deadline)
        throw new Error(`no "${text}" within ${ms} ms: ${this.stderr}${this.stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The exit code within `ms`, or `'timeout'` (the process is then killed). */
  async exitWithin(ms: number): Promise<number | NodeJS.Signals | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    return result;
  }

  /** Makes sure the process is gone (after a failed assertion). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
