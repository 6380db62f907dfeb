// The checkpointer's worker thread (started by `startCheckpointer`, never imported): WAL
// checkpoints on a connection of its own, and the hold that lets the WAL restart.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What `startCheckpointer` hands the worker. */
export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  restartFrames: number;
  restartIntervalMs: number;
  /** Frames left to copy below which the writer is held so that one last pass catches up. */
  catchUpFrames: number;
  busyTimeoutMs: number;
  /** Whether the serving connection can be held (it has a write gate). */
  gated: boolean;
}

/** Worker → serving thread. */
export type CheckpointWorkerMessage =
  | { type: 'error'; message: string }
  | { type: 'pause' }
  | { type: 'resume' };

/** Serving thread → worker: writes are held now, or stop for good. */
export type CheckpointerMessage = 'held' | 'stop';

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

function run(port: NonNullable<typeof parentPort>, options: CheckpointWorkerData): void {
  const { restartFrames, restartIntervalMs, catchUpFrames, gated } = options;
  const db = new Database(options.path);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
  let stopped = false;
  let lastRestart = 0;
  let onHeld: (() => void) | undefined;
  const post = (message: CheckpointWorkerMessage) => port.postMessage(message);
  const report = (err: unknown) =>
    post({ type: 'error', message: String((err as Error | undefined)?.message) });
  const passive = () => (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0] as CheckpointResult;

  function tick(): void {
    if (stopped || onHeld) return;
    try {
      let r = passive();
      if (!gated || r.busy || r.log < restartFrames || Date.now() - lastRestart < restartIntervalMs) return;
      // Each pass copies what was committed during the one before: a few passes converge.
      for (let i = 0; i < 8 && !r.busy && r.log - r.checkpointed > catchUpFrames; i++) r = passive();
      if (r.busy || r.log - r.checkpointed > catchUpFrames) return;
      lastRestart = Date.now();
      onHeld = () => {
        try {
          passive();
        } catch (err) {
          report(err);
        }
        onHeld = undefined;
        post({ type: 'resume' });
      };
      post({ type: 'pause' });
    } catch (err) {
      report(err);
    }
  }

  const timer = setInterval(tick, options.intervalMs);
  port.on('message', (m: CheckpointerMessage) => {
    if (m === 'held') {
      onHeld?.();
      return;
    }
    stopped = true;
    clearInterval(timer);
    db.close();
    port.close();
  });
}

if (!parentPort) throw new Error("checkpoint-worker runs only as the checkpointer's worker thread");
run(parentPort, workerData as CheckpointWorkerData);
