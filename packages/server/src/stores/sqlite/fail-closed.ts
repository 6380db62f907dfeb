import { setTimeout as sleep } from 'node:timers/promises';
import { LIMITS } from '../../config/limits.js';
import { StoreUnavailableError } from '../../ports/index.js';

/** SQLite result codes that mean the store cannot serve now (as opposed to a bug, like a constraint). */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOTADB|CORRUPT|NOMEM)/;

/**
 * `StoreUnavailableError` for an error that means the database cannot serve (locked, broken,
 * full, closed); any other error (a constraint, a bug) is returned as it is.
 */
export function asUnavailable(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const closed = err instanceof TypeError && e.message === 'The database connection is not open';
  if (closed || (typeof e.code === 'string' && UNAVAILABLE.test(e.code))) {
    return new StoreUnavailableError(`SQLite store unavailable: ${e.code ?? 'connection closed'}`, {
      cause: err,
    });
  }
  return err;
}

/** Another connection holds the lock: nothing was done, and the same call may succeed in a moment. */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/**
 * A port whose every method turns an unreachable, locked or broken database into
 * `StoreUnavailableError` (answered 503: fail closed), while real bugs keep their own error.
 * Each method is wrapped once, here; the port's methods must be its own properties.
 *
 * A database locked by another process (the CLI, a backup, a second instance) is waited for
 * here, asynchronously: the connection's own busy timeout is a few milliseconds
 * (`LIMITS.sqliteBusyPollMs`, during which SQLite blocks the thread), and a call that still finds
 * the lock taken is tried again after a growing pause, for up to `LIMITS.sqliteBusyTimeoutMs`
 * in all; meanwhile the event loop answers every other request. SQLITE_BUSY means the call did
 * nothing (its BEGIN, or its one statement, never ran), so trying it again is safe.
 */
export function failClosed<T extends object>(port: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(port)) {
    if (typeof method !== 'function') {
      wrapped[name] = method;
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      const deadline = Date.now() + LIMITS.sqliteBusyTimeoutMs;
      for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
        try {
          return await method.apply(port, args);
        } catch (err) {
          if (!isBusy(err) || Date.now() + pause >= deadline) throw asUnavailable(err);
        }
        await sleep(pause);
      }
    };
  }
  return wrapped as T;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * `fn` (a statement that must run before the store serves, such as switching the file to WAL),
 * tried again after a growing pause while another connection holds the lock, for up to
 * `LIMITS.sqliteBusyTimeoutMs` in all; then its error. SQLite's own busy timeout does not cover
 * every wait: a statement that holds a read lock and needs the write lock while another
 * connection is committing gets SQLITE_BUSY at once (SQLite will not wait there, as the two could
 * wait for each other), which is what two processes opening one new file at the same instant
 * meet. The statement did nothing, so running it again is safe. The pause blocks the thread:
 * this runs while the store opens, before it serves anything.
 */
export function retryWhileBusy<T>(fn: () => T, timeoutMs = LIMITS.sqliteBusyTimeoutMs): T {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || Date.now() + pause >= deadline) throw err;
    }
    Atomics.wait(PAUSE, 0, 0, pause);
  }
}
