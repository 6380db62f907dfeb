import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs WAL checkpoints on a worker thread with its own connection. The serving connection has
 * `wal_autocheckpoint = 0`, so no request ever waits for a checkpoint's fsync (they were ~1% of
 * commits and the whole p99). PASSIVE checkpoints never block writers.
 */
export function startCheckpointer(path: string, intervalMs: number): { stop(): Promise<void> } {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  // An eval'd CommonJS worker: no separate file to ship or to resolve under a TypeScript loader.
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.sqlite);
    const db = new Database(workerData.path);
    db.pragma('busy_timeout = 1000');
    const timer = setInterval(() => {
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message)); }
    }, workerData.intervalMs);
    parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
    `,
    { eval: true, workerData: { sqlite, path, intervalMs } },
  );
  worker.unref();
  return {
    async stop() {
      // Keep the process alive until the worker has closed its connection.
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
