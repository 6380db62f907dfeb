import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

/** How every benchmark process is started: TypeScript through tsx, workspace packages from source. */
export const EXEC_ARGV = ['--import', 'tsx', '--conditions=@tessera/source'];

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A server in its own process (so the load generator does not share its event loop), driven over IPC. */
export class Child {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly info: Record<string, unknown>,
  ) {
    proc.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    proc.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Starts `servers/<script>.ts` and waits for its `{ ready }` message. */
  static start(script: string, args: Record<string, unknown> = {}, extraExecArgv: string[] = []) {
    const file = fileURLToPath(new URL(`../servers/${script}.ts`, import.meta.url));
    return Child.startFile(script, file, args, extraExecArgv);
  }

  /** Starts a server script by path (`cwd` decides where `tsx` and the packages resolve from). */
  static async startFile(
    script: string,
    file: string,
    args: Record<string, unknown> = {},
    extraExecArgv: string[] = [],
    cwd?: string,
  ): Promise<Child> {
    const proc = fork(file, [JSON.stringify(args)], {
      execArgv: [...EXEC_ARGV, ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(cwd ? { cwd } : {}),
    });
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start in 120 s`)), 120_000);
      proc.once('message', (m: { ready?: Record<string, unknown> }) => {
        clearTimeout(timer);
        if (m.ready) resolve(m.ready);
        else reject(new Error(`${script}: unexpected first message`));
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code}) before it was ready`));
      });
    });
    return new Child(script, proc, info);
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 600_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, cmd, args });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    await this.call('close', {}, 30_000).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

let profiler: Session | undefined;

/**
 * Every server can profile a window of its life (`--cpu-prof` profiles only the measured runs,
 * not start-up or minting): `profileStart`, then `profileStop` with the file to write.
 */
const profiling: Record<string, (args: Record<string, unknown>) => unknown> = {
  async profileStart() {
    profiler ??= new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    await profiler.post('Profiler.start');
  },
  async profileStop(a) {
    if (!profiler) throw new Error('profileStop without profileStart');
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    writeFileSync(String(a.file), JSON.stringify(profile));
    return { file: a.file };
  },
};

/** The child side: answers `{id, cmd, args}` messages with the handlers given; `close` exits. */
export function serve(
  ready: Record<string, unknown>,
  handlers: Record<string, (args: Record<string, unknown>) => unknown>,
  close: () => Promise<void>,
): void {
  const send = (m: unknown) => process.send?.(m);
  process.on('message', async (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    if (m.cmd === 'close') {
      await close().catch(() => undefined);
      send({ id: m.id, ok: true });
      process.disconnect?.();
      setTimeout(() => process.exit(0), 50).unref();
      return;
    }
    const h = handlers[m.cmd] ?? profiling[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      send({ id: m.id, ok: true, result: await h(m.args) });
    } catch (err) {
      send({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  });
  // The parent dying must not leave a server behind.
  process.on('disconnect', () => {
    close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
  send({ ready });
}

/** The JSON argument every server script receives. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/**
 * CPU time a process has used so far, in µs: all its threads, and its main thread alone (Linux
 * `/proc`, clock ticks). Throughput on a shared machine swings with the neighbours; the CPU a
 * server spends per request is far steadier, so it is what tells two builds apart. Also its write
 * system calls so far: on this kind of VM a syscall is dear, and SQLite makes two per WAL page.
 */
export function processCpu(pid: number): { all: number; main: number; writes: number } | undefined {
  const ticks = (file: string) => {
    // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
    const rest = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(rest[11]) + Number(rest[12])) * (1e6 / CLOCK_TICKS);
  };
  try {
    return {
      all: ticks(`/proc/${pid}/stat`),
      main: ticks(`/proc/${pid}/task/${pid}/stat`),
      writes: writeSyscalls(pid),
    };
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/**
 * Write system calls a process has made so far, all its threads (`syscw` in `/proc/<pid>/io`:
 * WAL frames, checkpoints, sockets); NaN where there is no `/proc`.
 */
export function writeSyscalls(pid: number | 'self'): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;
