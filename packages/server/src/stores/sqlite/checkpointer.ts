import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LIMITS } from '../../config/limits.js';

/** What the serving connection does for the checkpointer: hold its writes for a moment, then go on. */
export interface WriteGate {
  pause(): void;
  resume(): void;
}

export interface CheckpointerOptions {
  /** How often to checkpoint (ms). */
  intervalMs: number;
  /** Restart the WAL once it holds this many frames (4 KiB pages); default `LIMITS.walRestartFrames`. */
  restartFrames?: number;
  /** At most one restart per this many ms (each holds rotations for 5-35 ms); default `LIMITS.walRestartIntervalMs`. */
  restartIntervalMs?: number;
  /** Told when a checkpoint fails (the WAL then grows until one succeeds). */
  onError?: (message: string) => void;
}

/**
 * Runs WAL checkpoints on a worker thread with its own connection. The serving connection has
 * `wal_autocheckpoint = 0`, so no request ever waits for a checkpoint's fsync (they were ~1% of
 * commits and the whole p99). PASSIVE checkpoints never block writers.
 *
 * Under steady load a PASSIVE checkpoint never quite catches up (commits land while it copies),
 * so the WAL would never restart and would grow without end: on disk (1.7 GB after 25 s of
 * saturating load), and in the cost of every page read, which searches the WAL index. So once the
 * WAL is large and the copies have nearly caught up, the worker asks the serving connection to
 * hold its rotations (`gate`), copies the last frames, and lets it go on; the next commit starts
 * the WAL from its beginning. The last pass's two fsyncs make a hold cost 5-35 ms under heavy
 * writes, hence the size threshold and the minimum interval: the WAL stays bounded (at most what
 * ten seconds of writes add past 64 MiB) and holds touch well under 1% of rotations.
 */
export function startCheckpointer(
  path: string,
  options: CheckpointerOptions,
  gate?: WriteGate,
): { stop(): Promise<void> } {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  // An eval'd CommonJS worker: no separate file to ship or to resolve under a TypeScript loader.
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.sqlite);
    const { restartFrames, restartIntervalMs, catchUpFrames, gated } = workerData;
    const db = new Database(workerData.path);
    db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
    let stopped = false;
    let lastRestart = 0;
    let onHeld;
    const passive = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
    const report = (err) => parentPort.postMessage({ type: 'error', message: String(err && err.message) });
    function tick() {
      if (stopped || onHeld) return;
      try {
        let r = passive();
        if (!gated || r.busy || r.log < restartFrames || Date.now() - lastRestart < restartIntervalMs) return;
        // Each pass copies what was committed during the one before: a few passes converge.
        for (let i = 0; i < 8 && !r.busy && r.log - r.checkpointed > catchUpFrames; i++) r = passive();
        if (r.busy || r.log - r.checkpointed > catchUpFrames) return;
        lastRestart = Date.now();
        onHeld = () => {
          try { passive(); } catch (err) { report(err); }
          onHeld = undefined;
          parentPort.postMessage({ type: 'resume' });
        };
        parentPort.postMessage({ type: 'pause' });
      } catch (err) { report(err); }
    }
    const timer = setInterval(tick, workerData.intervalMs);
    parentPort.on('message', (m) => {
      if (m === 'held') { if (onHeld) onHeld(); return; }
      stopped = true; clearInterval(timer); db.close(); parentPort.close();
    });
    `,
    {
      eval: true,
      workerData: {
        sqlite,
        path,
        intervalMs: options.intervalMs,
        restartFrames: options.restartFrames ?? LIMITS.walRestartFrames,
        restartIntervalMs: options.restartIntervalMs ?? LIMITS.walRestartIntervalMs,
        catchUpFrames: LIMITS.checkpointCatchUpFrames,
        busyTimeoutMs: LIMITS.checkpointerBusyTimeoutMs,
        gated: gate !== undefined,
      },
    },
  );
  let holdTimer: NodeJS.Timeout | undefined;
  const resume = () => {
    if (!holdTimer) return;
    clearTimeout(holdTimer);
    holdTimer = undefined;
    gate?.resume();
  };
  worker.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'error') {
      options.onError?.(m.message ?? 'unknown error');
    } else if (m.type === 'pause' && gate && !holdTimer) {
      gate.pause();
      holdTimer = setTimeout(resume, LIMITS.checkpointMaxHoldMs);
      worker.postMessage('held');
    } else if (m.type === 'resume') {
      resume();
    }
  });
  // After the listener: adding a 'message' listener refs the worker's port again.
  worker.unref();

  let stopped: Promise<void> | undefined;
  async function stop(): Promise<void> {
    resume();
    // Keep the process alive until the worker has closed its connection.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((r) => (timer = setTimeout(r, LIMITS.checkpointerStopTimeoutMs))),
    ]);
    clearTimeout(timer);
    await worker.terminate();
  }
  return {
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}
