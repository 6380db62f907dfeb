import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { CliError, EXIT } from './io.js';

/**
 * Fails before anything is created when `host:port` is taken: `serve` and `demo` must not leave a
 * fresh database and master key behind when they cannot listen. Port 0 (any free port) is
 * always free.
 */
export async function assertPortFree(host: string, port: number, flag = '--port'): Promise<void> {
  if (port === 0) return;
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
  if (error === undefined) return;
  const taken = error.code === 'EADDRINUSE';
  throw new CliError(
    taken ? `port ${port} on ${host} is in use` : `cannot listen on ${host}:${port}: ${error.message}`,
    EXIT.failed,
    taken
      ? `another server (perhaps another Tessera) is listening there; stop it or choose another port with ${flag}`
      : undefined,
    taken ? 'port_in_use' : 'listen_failed',
  );
}

/**
 * The files a start may create beside the database (the file, its WAL and shared memory, the
 * master key). `undo()` removes those that did not exist before, after a start that failed.
 */
export function newFiles(db: string | undefined): { undo(): void } {
  const paths = db === undefined || db === ':memory:' ? [] : [db, `${db}-wal`, `${db}-shm`, `${db}.key`];
  const before = new Set(paths.filter((p) => existsSync(p)));
  return {
    undo() {
      for (const p of paths) if (!before.has(p)) rmSync(p, { force: true });
    },
  };
}
