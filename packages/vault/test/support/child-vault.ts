import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A vault running in a child process (see `vault-child.ts`). */
export interface ChildVault {
  process: ChildProcess;
  setClock(ms: number): Promise<void>;
  /** `n` concurrent `getValidAccessToken` calls: the distinct tokens and the error names. */
  get(userId: string, n: number): Promise<{ tokens: string[]; errors: string[] }>;
  /** Sends a `get` without waiting for its answer (for a holder that will be killed). */
  startGet(userId: string, n: number): void;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  exit(): Promise<void>;
}

const script = fileURLToPath(new URL('./vault-child.ts', import.meta.url));

export async function startChildVault(setup: Record<string, unknown>): Promise<ChildVault> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx', '--conditions=@tessera/source'],
    env: { ...process.env, VAULT_CHILD_SETUP: JSON.stringify(setup) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`vault child exited (${code}) while waiting for ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next('ready');
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  let killed = false;
  return {
    process: child,
    async setClock(ms) {
      const ok = next('ok');
      child.send({ type: 'clock', ms });
      await ok;
    },
    async get(userId, n) {
      const result = next('result');
      child.send({ type: 'get', userId, n });
      return (await result) as unknown as { tokens: string[]; errors: string[] };
    },
    startGet(userId, n) {
      child.send({ type: 'get', userId, n });
    },
    async kill() {
      killed = true;
      child.kill('SIGKILL');
      await gone;
    },
    async exit() {
      if (killed || child.exitCode !== null || child.signalCode !== null) return gone;
      child.send({ type: 'exit' });
      await gone;
    },
  };
}
