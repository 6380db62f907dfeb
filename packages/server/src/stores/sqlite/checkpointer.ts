import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What the serving connection does for the checkpointer: hold its writes for a moment, then go on. */
export interface WriteGate {
  pause(): void;
  resume(): void;
}

/** A WAL smaller than this (in 4 KiB frames) is left to grow; restarting it would cost more than it saves. */
const RESTART_FRAMES = 2048;
/** Frames left to copy below which the writer is paused so that one last pass catches up. */
const CATCH_UP_FRAMES = 512;
/** A pause never lasts longer than this, whatever the worker does. */
const MAX_PAUSE_MS = 200;

/**
 * Runs WAL checkpoints on a worker thread with its own connection. The serving connection has
 * `wal_autocheckpoint = 0`, so no request ever waits for a checkpoint's fsync (they were ~1% of
 * commits and the whole p99). PASSIVE checkpoints never block writers.
 *
 * Under steady load a PASSIVE checkpoint never quite catches up (commits land while it copies), so
 * the WAL would never restart and would grow without end: on disk, and in the cost of every page
 * read, which searches the WAL index. So once the copies have nearly caught up, the worker asks the
 * serving connection to hold its writes (`gate`), copies the last few frames, and lets it go on;
 * the next commit then starts the WAL from its beginning. A pause lasts about a millisecond.
 */
export function startCheckpointer(
  path: string,
  intervalMs: number,
  gate?: WriteGate,
): { stop(): Promise<void> } {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  // An eval'd CommonJS worker: no separate file to ship or to resolve under a TypeScript loader.
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.sqlite);
    const { restartFrames, catchUpFrames, gated } = workerData;
    const db = new Database(workerData.path);
    db.pragma('busy_timeout = 1000');
    let stopped = false;
    let onResumeAck;
    const passive = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
    const report = (err) => parentPort.postMessage({ type: 'error', message: String(err && err.message) });
    function tick() {
      if (stopped || onResumeAck) return;
      try {
        let r = passive();
        // Each pass copies what was committed during the one before: a few passes converge.
        for (let i = 0; i < 4 && !r.busy && r.log - r.checkpointed > catchUpFrames; i++) r = passive();
        if (gated && !r.busy && r.log >= restartFrames && r.log - r.checkpointed <= catchUpFrames) {
          onResumeAck = () => {
            try { passive(); } catch (err) { report(err); }
            onResumeAck = undefined;
            parentPort.postMessage({ type: 'resume' });
          };
          parentPort.postMessage({ type: 'pause' });
        }
      } catch (err) { report(err); }
    }
    const timer = setInterval(tick, workerData.intervalMs);
    parentPort.on('message', (m) => {
      if (m === 'paused') { if (onResumeAck) onResumeAck(); return; }
      stopped = true; clearInterval(timer); db.close(); parentPort.close();
    });
    `,
    {
      eval: true,
      workerData: {
        sqlite,
        path,
        intervalMs,
        restartFrames: RESTART_FRAMES,
        catchUpFrames: CATCH_UP_FRAMES,
        gated: gate !== undefined,
      },
    },
  );
  let pauseTimer: NodeJS.Timeout | undefined;
  const resume = () => {
    if (!pauseTimer) return;
    clearTimeout(pauseTimer);
    pauseTimer = undefined;
    gate?.resume();
  };
  worker.on('message', (m: { type: string }) => {
    if (m.type === 'pause' && gate && !pauseTimer) {
      gate.pause();
      pauseTimer = setTimeout(resume, MAX_PAUSE_MS);
      worker.postMessage('paused');
    } else if (m.type === 'resume') {
      resume();
    }
  });
  // After the listener: adding a 'message' listener refs the worker's port again.
  worker.unref();
  return {
    async stop() {
      resume();
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
