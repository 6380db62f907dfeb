import { ERROR_CODES, type ErrorCode, isKnownErrorCode, type KnownErrorCode } from './error-codes.js';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: string;
  error_description: string;
  /** Open: a newer server may send a code this version does not know. */
  error_code: ErrorCode;
  retryable: boolean;
}

/** Options of a `TesseraError`. */
export interface TesseraErrorOptions {
  /** Seconds a client should wait before retrying; kept only for retryable codes (default 1). */
  retryAfter?: number;
  cause?: unknown;
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
  readonly code: KnownErrorCode;
  readonly status: number;
  readonly error: string;
  readonly retryable: boolean;
  readonly endsSession: boolean;
  /** Seconds a client should wait before retrying; only for retryable codes. */
  readonly retryAfter: number | undefined;

  constructor(code: KnownErrorCode, description?: string, options?: TesseraErrorOptions) {
    // For JavaScript callers, whom the compiler does not stop.
    if (!isKnownErrorCode(code)) {
      throw new TypeError(
        `unknown error code "${String(code)}"; use TesseraError.fromWire for codes read off the network`,
      );
    }
    const def = ERROR_CODES[code];
    super(description ?? def.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.status = def.status;
    this.error = def.error;
    this.retryable = def.retryable;
    this.endsSession = def.endsSession;
    this.retryAfter = def.retryable ? (options?.retryAfter ?? 1) : undefined;
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

  /** The wire body: `{error, error_description, error_code, retryable}`. */
  toBody(): ErrorBody {
    return {
      error: this.error,
      error_description: this.message,
      error_code: this.code,
      retryable: this.retryable,
    };
  }
}

/** True for any `TesseraError`, also across copies of this package. */
export function isTesseraError(value: unknown): value is TesseraError {
  return value instanceof TesseraError || (value instanceof Error && value.name === 'TesseraError');
}
