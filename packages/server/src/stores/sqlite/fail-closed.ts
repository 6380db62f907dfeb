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

/**
 * A port whose every method turns an unreachable, locked or broken database into
 * `StoreUnavailableError` (answered 503: fail closed), while real bugs keep their own error.
 * Each method is wrapped once, here; the port's methods must be its own properties.
 */
export function failClosed<T extends object>(port: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(port)) {
    if (typeof method !== 'function') {
      wrapped[name] = method;
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(port, args);
      } catch (err) {
        throw asUnavailable(err);
      }
    };
  }
  return wrapped as T;
}
