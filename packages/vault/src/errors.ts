/**
 * The vault's own error classes. Each has a stable `code` equal to its `name`, so callers can
 * branch on either (`err.code === 'ReauthenticationRequired'`). Answers the middleware sends
 * over HTTP use the shared table in `@tessera/protocol` (`reauthentication_required`,
 * `temporarily_unavailable`, `server_error`).
 */

/** The OAuth error the upstream answered with (RFC 6749 §5.2); never holds a token. */
export interface UpstreamError {
  error: string;
  error_description?: string;
  status?: number;
}

/** The user must sign in at the upstream again: the refresh token is gone, revoked or was never saved. */
export class ReauthenticationRequired extends Error {
  override readonly name = 'ReauthenticationRequired';
  readonly code = 'ReauthenticationRequired';
  constructor(
    readonly userId: string,
    readonly connection: string,
    /** What the upstream answered when the set was lost, or why there is none (`no_tokens`, `signed_out`, …). */
    readonly upstreamError: UpstreamError,
    options?: { cause?: unknown },
  ) {
    super(
      `User must sign in again (connection "${connection}"): ${upstreamError.error}${
        upstreamError.error_description ? ` (${upstreamError.error_description})` : ''
      }`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** Why a stored value could not be decrypted. */
export type DecryptionFailure = 'unknown_key' | 'authentication_failed' | 'malformed';

/**
 * A stored value could not be decrypted: the key is unknown, the key is wrong, the ciphertext
 * was altered, or it belongs to another user, connection or column. No token is returned and
 * nothing is deleted, so restoring the right key recovers the set.
 */
export class DecryptionFailed extends Error {
  override readonly name = 'DecryptionFailed';
  readonly code = 'DecryptionFailed';
  constructor(
    readonly reason: DecryptionFailure,
    readonly where: { userId: string; connection: string; column: string; keyId?: string },
  ) {
    const why =
      reason === 'unknown_key'
        ? `key "${where.keyId}" is not among the configured vault keys`
        : reason === 'authentication_failed'
          ? `key "${where.keyId}" does not open it: wrong key, altered ciphertext, or a value copied from another row`
          : 'the stored value is malformed';
    super(
      `Cannot decrypt ${where.column} of user "${where.userId}" (connection "${where.connection}"): ${why}`,
    );
  }
}

/** Bad options or environment at start-up (keys, issuer, database, client authentication). */
export class VaultConfigError extends Error {
  override readonly name = 'VaultConfigError';
  readonly code = 'VaultConfigError';
}

/** The upstream could not refresh for now (network, 5xx, 429); the token set is kept and retried after `retryAt`. */
export class RefreshDeferred extends Error {
  override readonly name = 'RefreshDeferred';
  readonly code = 'RefreshDeferred';
  readonly retryable = true;
  constructor(
    readonly userId: string,
    readonly connection: string,
    /** Milliseconds since the epoch (vault clock) before which no refresh is attempted. */
    readonly retryAt: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The upstream could not refresh the token of user "${userId}" (connection "${connection}"): ${reason}; retrying after ${new Date(retryAt).toISOString()}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** A sign-in callback that does not match a started sign-in (unknown, used, expired, other user, bad state). */
export class SignInFailed extends Error {
  override readonly name = 'SignInFailed';
  readonly code = 'SignInFailed';
}

/**
 * The upstream's metadata could not be fetched yet (it was down or unreachable when the vault
 * started, and still is): nothing that needs the upstream can run before `retryAt`. Tokens
 * already stored and still fresh are handed out meanwhile.
 */
export class UpstreamUnavailable extends Error {
  override readonly name = 'UpstreamUnavailable';
  readonly code = 'UpstreamUnavailable';
  readonly retryable = true;
  constructor(
    readonly issuer: string,
    /** Milliseconds since the epoch (vault clock) of the next discovery attempt. */
    readonly retryAt: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The upstream ${issuer} has not been discovered yet (${reason}); retrying after ${new Date(retryAt).toISOString()}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/**
 * The upstream issued a token of a type the vault cannot use for you: `DPoP` (RFC 9449), whose
 * every use needs a proof signed with the client's DPoP key. Nothing is stored. Use a client
 * the upstream issues Bearer tokens to.
 */
export class UnsupportedTokenType extends Error {
  override readonly name = 'UnsupportedTokenType';
  readonly code = 'UnsupportedTokenType';
  constructor(
    readonly userId: string,
    readonly connection: string,
    readonly tokenType: string,
  ) {
    super(
      `The upstream issued a ${tokenType}-bound token for user "${userId}" (connection "${connection}"): the vault stores and refreshes Bearer tokens only; configure the upstream client without DPoP (e.g. no dpop_bound_access_tokens)`,
    );
  }
}
