import { Worker } from 'node:worker_threads';
import { LIMITS } from '../../config/limits.js';
import type {
  CheckpointerMessage,
  CheckpointWorkerData,
  CheckpointWorkerMessage,
} from './checkpoint-worker.js';

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
  /** Told when a checkpoint fails (the WAL then grows until one succeeds), or the worker does. */
  onError?: (message: string) => void;
}

/**
 * Runs WAL checkpoints on a worker thread (`checkpoint-worker.ts`) with its own connection. The
 * serving connection has `wal_autocheckpoint = 0`, so no request ever waits for a checkpoint's
 * fsync (they were ~1% of commits and the whole p99). PASSIVE checkpoints never block writers.
 *
 * Under steady load a PASSIVE checkpoint never quite catches up (commits land while it copies),
 * so the WAL would never restart and would grow without end: on disk (1.7 GB after 25 s of
 * saturating load), and in the cost of every page read, which searches the WAL index. So once the
 * WAL is large and the copies have nearly caught up, the worker asks the serving connection to
 * hold its queued writes (`gate`), copies the last frames, and lets it go on; the next commit
 * starts the WAL from its beginning. The last pass's two fsyncs make a hold cost 5-35 ms under
 * heavy writes, hence the size threshold and the minimum interval: the WAL stays bounded (at most
 * what ten seconds of writes add past 64 MiB) and holds touch well under 1% of rotations.
 */
export function startCheckpointer(
  path: string,
  options: CheckpointerOptions,
  gate?: WriteGate,
): { stop(): Promise<void> } {
  const workerData: CheckpointWorkerData = {
    path,
    intervalMs: options.intervalMs,
    restartFrames: options.restartFrames ?? LIMITS.walRestartFrames,
    restartIntervalMs: options.restartIntervalMs ?? LIMITS.walRestartIntervalMs,
    catchUpFrames: LIMITS.checkpointCatchUpFrames,
    busyTimeoutMs: LIMITS.checkpointerBusyTimeoutMs,
    gated: gate !== undefined,
  };
  const worker = startWorker(workerData);
  let holdTimer: NodeJS.Timeout | undefined;
  const resume = () => {
    if (!holdTimer) return;
    clearTimeout(holdTimer);
    holdTimer = undefined;
    gate?.resume();
  };
  const tell = (message: CheckpointerMessage) => worker.postMessage(message);
  worker.on('message', (m: CheckpointWorkerMessage) => {
    if (m.type === 'error') {
      options.onError?.(m.message);
    } else if (m.type === 'pause' && gate && !holdTimer) {
      gate.pause();
      holdTimer = setTimeout(resume, LIMITS.checkpointMaxHoldMs);
      tell('held');
    } else if (m.type === 'resume') {
      resume();
    }
  });
  // A worker that cannot start (or dies) stops checkpointing; the server keeps serving and says so.
  worker.on('error', (err) => {
    resume();
    options.onError?.(err.message);
  });
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();

  let stopped: Promise<void> | undefined;
  async function stop(): Promise<void> {
    resume();
    // Keep the process alive until the worker has closed its connection.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    tell('stop');
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

/**
 * The worker, from the file beside this one. Built (`dist/`), that is `checkpoint-worker.js`.
 * From source (`.ts`, as the tests and the benchmarks run), a worker thread does not inherit the
 * TypeScript loader of its parent (Node 20), so a one-line bootstrap registers tsx in the thread
 * and then imports the worker's source; without tsx, the source is loaded as it is (a runtime
 * that strips types itself runs it).
 */
function startWorker(workerData: CheckpointWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './checkpoint-worker.ts' : './checkpoint-worker.js', import.meta.url);
  const tsx = fromSource ? resolveOrUndefined('tsx/esm/api') : undefined;
  if (!tsx) return new Worker(entry, { workerData });
  const bootstrap = `import { register } from ${JSON.stringify(tsx)};
register();
await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}

function resolveOrUndefined(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}
