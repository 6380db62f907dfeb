import { StoreUnavailableError } from '@tessera/server';

/**
 * SQLSTATE classes and codes that mean "PostgreSQL cannot serve now", as opposed to a bug (a
 * constraint, a syntax error): connection exceptions (08), insufficient resources (53), operator
 * intervention (57: shutdown, `pg_terminate_backend`, statement timeout), a lock not available
 * (55P03), a read-only standby (25006), serialization failures and deadlocks that outlived their
 * retries (40001, 40P01), and authentication that stopped working (28).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|28|40001|40P01|55P03|25006|3D000)/;

/** Socket errors of a connection that could not be made or was lost. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** What `pg` and `pg-pool` say, without a code, when a connection is gone or cannot be had. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout|not queryable|Cannot use a pool after calling end/i;

/** True for an error that means PostgreSQL cannot serve now. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e?.code === 'string') {
    if (e.code.length === 5 && UNAVAILABLE_SQLSTATE.test(e.code)) return true;
    if (UNAVAILABLE_ERRNO.has(e.code)) return true;
  }
  // Node's `AggregateError` of a connection to several addresses (IPv4 and IPv6).
  if (Array.isArray(e?.errors) && e.errors.some(isUnavailable)) return true;
  return typeof e?.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message);
}

/**
 * `StoreUnavailableError` for an error that means the database cannot serve; any other error
 * (a constraint, a bug) is returned as it is. The message names the cause, never a URL.
 */
export function asUnavailable(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const e = err as { code?: string; message?: string };
  return new StoreUnavailableError(`PostgreSQL store unavailable: ${e.code ?? e.message ?? 'unknown'}`, {
    cause: err,
  });
}

/**
 * A port whose every method turns an unreachable or failing database into
 * `StoreUnavailableError` (answered 503: fail closed), while real bugs keep their own error.
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
