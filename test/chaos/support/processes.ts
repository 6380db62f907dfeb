import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = new URL('../../../', import.meta.url).pathname;

/**
 * The real `tessera serve`, built from this checkout's sources into one ES module (and the
 * checkpointer's worker beside it, where the server looks for it), with every npm dependency
 * loaded from node_modules as the published package loads them. A crash test restarts the server
 * dozens of times; loaded this way, a start costs a fraction of compiling every source file
 * through tsx again (here, under load, ~3 s against ~6-10 s).
 */
export interface ServerBuild {
  /** `tessera` (the CLI's bin). */
  cli: string;
  /** The crash tests' faulty server (`test/crash/serve-with-fault.ts`). */
  faulty: string;
  remove(): void;
}

const workspaceOnly: Plugin = {
  name: 'workspace-only',
  setup(b) {
    // Bundle our own packages (from their sources); leave every npm package to node_modules.
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@tessera/') ? undefined : { path: args.path, external: true },
    );
  },
};

export async function buildServer(): Promise<ServerBuild> {
  // Inside node_modules, so the bundle's bare imports resolve to this checkout's dependencies.
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'tessera-chaos-'));
  const version = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version;
  // Both packages read `../package.json` for their version (all are versioned together).
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', version }));
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    conditions: ['@tessera/source'],
    plugins: [workspaceOnly],
    logLevel: 'warning' as const,
  };
  const out = (name: string) => join(dir, 'bin', name);
  await Promise.all([
    build({ ...common, entryPoints: [join(ROOT, 'packages/cli/src/bin.ts')], outfile: out('tessera.js') }),
    build({
      ...common,
      entryPoints: [join(ROOT, 'packages/server/test/crash/serve-with-fault.ts')],
      outfile: out('serve-with-fault.js'),
    }),
    build({
      ...common,
      entryPoints: [join(ROOT, 'packages/server/src/stores/sqlite/checkpoint-worker.ts')],
      outfile: out('checkpoint-worker.js'),
    }),
  ]);
  return {
    cli: out('tessera.js'),
    faulty: out('serve-with-fault.js'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  /** Everything the server wrote to stderr. */
  stderr(): string;
}

/** Starts a server script as a real process and waits until it listens (or fails, with its output). */
export async function startServer(
  script: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  startTimeoutMs = 60_000,
): Promise<Running> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${stderr}`));
    }, startTimeoutMs);
    const onData = () => {
      if (stderr.includes('Tessera is listening')) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited early: ${stderr}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, exited, stderr: () => stderr };
}

/** SIGKILLs a server (if it still runs) and waits for it to be gone. */
export async function kill(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  await running.exited;
}
