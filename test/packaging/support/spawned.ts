import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@tessera/test-support';

export { freePort };

/**
 * The environment for commands run in the fresh project: this process's, without the `npm_*`
 * variables that `npm test` sets (they name this workspace's package.json, prefix and scripts).
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^npm_/i.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** A long-running command (a server), its output collected; every wait is bounded. */
export class Spawned {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | NodeJS.Signals | null>;

  constructor(command: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
    this.child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(signal ?? code)));
  }

  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** Waits until the output holds `text`; fails after `ms` or when the process ends first. */
  async waitFor(text: string | RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    const found = () => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    while (!found()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`exited before "${text}":\n${this.output}`);
      }
      if (Date.now() > deadline) throw new Error(`no "${text}" within ${ms} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and resolves with the exit code, or `'timeout'` (then kills it). */
  async stop(signal: NodeJS.Signals, ms: number): Promise<number | NodeJS.Signals | null | 'timeout'> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') await this.kill();
    return result;
  }

  /** Makes sure the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Polls `url` until it answers with any status (a server that has started listening). */
export async function waitForHttp(url: string, ms: number, process?: Spawned): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return;
    } catch {
      if (process && (process.child.exitCode !== null || process.child.signalCode !== null)) {
        throw new Error(`exited before answering ${url}:\n${process.output}`);
      }
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
