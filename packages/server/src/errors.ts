import type { KnownErrorCode } from '@tessera/protocol';

/**
 * The server's own errors: everything that is not an answer to an HTTP client (those are
 * `TesseraError`s from the table in `@tessera/protocol`). Each code is declared here once, with
 * the class that carries it and what it means; `docs/errors.md` is generated from this table
 * too. Append only: a code, once published, keeps its meaning.
 *
 * Callers test `code` (or use {@link hasErrorCode}), never the class or its `name`: a second
 * copy of this package, or a store adapter built against another version, has other classes.
 */
export const SERVER_ERRORS = {
  ERR_TESSERA_CONFIG: {
    class: 'ConfigError',
    meaning:
      'A configuration value is wrong or missing; the message names the setting and where it came from.',
  },
  ERR_TESSERA_INPUT: {
    class: 'InputError',
    meaning:
      'An argument to an administrative operation (adding a user or a client) is invalid; the message says which and why.',
  },
  ERR_TESSERA_DUPLICATE: {
    class: 'DuplicateError',
    meaning: 'A record with that name already exists (a username).',
  },
  ERR_TESSERA_KEY_ROTATION_TOO_SOON: {
    class: 'KeyRotationTooSoonError',
    meaning:
      'A signing-key rotation was asked for before the next key had been published long enough for resource servers to fetch it; retry later, or force it.',
  },
  ERR_TESSERA_STORE_UNAVAILABLE: {
    class: 'StoreUnavailableError',
    meaning:
      'A store cannot be reached. HTTP requests that need it answer 503 `temporarily_unavailable` (fail closed), never 200 or 500.',
  },
} as const satisfies Record<string, { class: string; meaning: string }>;

/** A code of the server's own errors. */
export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/**
 * The base of the server's own errors. `code` stays open (`string & {}`), as `jose` types its
 * codes, so an adapter built against a newer version may throw a code this one does not know.
 */
export class TesseraServerError extends Error {
  readonly code: ServerErrorCode | (string & {});

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = SERVER_ERRORS[code].class;
  }
}

/** A configuration value is wrong; the message names the key and where it came from. */
export class ConfigError extends TesseraServerError {
  static readonly code = 'ERR_TESSERA_CONFIG';
  constructor(message: string) {
    super(ConfigError.code, message);
  }
}

/** A bad argument to an administrative operation; the message says which and why. */
export class InputError extends TesseraServerError {
  static readonly code = 'ERR_TESSERA_INPUT';
  constructor(message: string) {
    super(InputError.code, message);
  }
}

/** A record with that name already exists. Stores throw it from `createUser`. */
export class DuplicateError extends TesseraServerError {
  static readonly code = 'ERR_TESSERA_DUPLICATE';
  /** @param what the record, as a reader names it (`user "alice"`). */
  constructor(what: string) {
    super(DuplicateError.code, `${what} already exists`);
  }
}

/** A rotation asked for before the next key has been published long enough. */
export class KeyRotationTooSoonError extends TesseraServerError {
  static readonly code = 'ERR_TESSERA_KEY_ROTATION_TOO_SOON';
  constructor(message: string) {
    super(KeyRotationTooSoonError.code, message);
  }
}

/** Thrown by adapters when their backend cannot be reached; answered as 503 `temporarily_unavailable`. */
export class StoreUnavailableError extends TesseraServerError {
  static readonly code = 'ERR_TESSERA_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreUnavailableError.code, message, options);
  }
}

/**
 * True when `err` carries `code`: one of the server's own codes, or a code of the protocol
 * table (a `TesseraError`). Works across copies of the package, where `instanceof` does not.
 *
 * @example
 * if (hasErrorCode(err, 'ERR_TESSERA_DUPLICATE')) console.error('that username is taken');
 */
export function hasErrorCode(err: unknown, code: ServerErrorCode | KnownErrorCode): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}
