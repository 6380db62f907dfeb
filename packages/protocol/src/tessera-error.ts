import { ERROR_CODES, type ErrorCode, isKnownErrorCode, type KnownErrorCode } from './error-codes.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: string;
  error_description: string;
  /** Open: a newer server may send a code this version does not know. */
  error_code: ErrorCode;
  retryable: boolean;
  /** Why the session ended, when the request failed because it had (`reuse_detected`, `admin_revoked`, ...). */
  session_end_reason?: string;
}

/** Options of a `TesseraError`. */
export interface TesseraErrorOptions {
  /** Seconds a client should wait before retrying; kept only for retryable codes (default 1). */
  retryAfter?: number;
  cause?: unknown;
  /** Why the session ended, for a request refused because it had (see `SESSION_END_REASONS`). */
  sessionEndReason?: string | undefined;
}

/** Options of `TesseraError.fromWire`. */
export interface FromWireOptions extends TesseraErrorOptions {
  /**
   * The code to use when the wire code is not in this version's table (default
   * `server_error`: retryable and never session-ending, so an unknown code can neither sign a
   * user out nor pass for success).
   */
  fallback?: KnownErrorCode;
}

/**
 * The one error class. `code` is a code from the table; `error`, `status`, `retryable` and
 * `endsSession` come from its row, and `description` defaults to the row's message.
 *
 * The constructor takes only codes from the table, so a typo does not compile (it would
 * otherwise answer a 500). A code read off the network goes through {@link TesseraError.fromWire}.
 *
 * @example
 * throw new TesseraError('token_reused');
 */
export class TesseraError extends Error {
  // `declare`: the constructor assigns every field, and no field initialiser ships in the bundle.
  declare readonly code: KnownErrorCode;
  declare readonly status: number;
  declare readonly error: string;
  declare readonly retryable: boolean;
  declare readonly endsSession: boolean;
  /** Seconds a client should wait before retrying; only for retryable codes. */
  declare readonly retryAfter: number | undefined;
  /**
   * Why the session ended, when it has (one of `SESSION_END_REASONS`, or a newer server's value):
   * tell the user `reuse_detected` apart from `admin_revoked` or `idle_expired`.
   */
  declare readonly sessionEndReason: string | undefined;

  constructor(code: KnownErrorCode, description?: string, options?: TesseraErrorOptions) {
    // For JavaScript callers, whom the compiler does not stop.
    if (!isKnownErrorCode(code)) {
      // Short: this message ships in every browser bundle. The class comment says what to use.
      throw new TypeError(`unknown error code "${String(code)}" (use fromWire)`);
    }
    const def = ERROR_CODES[code];
    const message = description ?? def.message;
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // The row's status, error, retryable and endsSession, in one assignment (a smaller bundle).
    Object.assign(this, def, {
      name: 'TesseraError',
      code,
      message,
      retryAfter: def.retryable ? (options?.retryAfter ?? 1) : undefined,
      sessionEndReason: options?.sessionEndReason,
    });
  }

  /**
   * A `TesseraError` for a code read off the network (an error body's `error_code`, a message
   * from another tab). A code this version does not know becomes `options.fallback`
   * (`server_error` unless given), so it is retried with backoff and never signs anyone out.
   *
   * @example
   * const err = TesseraError.fromWire(body.error_code, body.error_description, { fallback: 'invalid_grant' });
   */
  static fromWire(code: unknown, description?: string, options: FromWireOptions = {}): TesseraError {
    const { fallback = 'server_error', ...rest } = options;
    return new TesseraError(isKnownErrorCode(code) ? code : fallback, description, rest);
  }

  /** The wire body: `{error, error_description, error_code, retryable}`, and `session_end_reason` when known. */
  toBody(): ErrorBody {
    const body: ErrorBody = {
      error: this.error,
      error_description: this.message,
      error_code: this.code,
      retryable: this.retryable,
    };
    if (this.sessionEndReason) body.session_end_reason = this.sessionEndReason;
    return body;
  }
}

/** True for any `TesseraError`, also across copies of this package. */
export function isTesseraError(value: unknown): value is TesseraError {
  return value instanceof TesseraError || (value instanceof Error && value.name === 'TesseraError');
}
