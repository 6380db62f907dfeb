/**
 * Why a session (token family) ended: stored with the family in the transaction that ends it,
 * shown by the dashboard, and sent to a client whose refresh fails because of it
 * (`session_end_reason` beside the four error members). Append only: a deployed client may
 * switch on these values.
 */
export const SESSION_END_REASONS = [
  /** The user signed out (logout endpoint, or RFC 7009 revocation of a token by its user). */
  'logout',
  /** An administrator ended it (dashboard, admin API, `tessera sessions revoke`); who and why are kept. */
  'admin_revoked',
  /** The client revoked its refresh token (RFC 7009). */
  'client_revoked',
  /** No refresh within the idle lifetime. */
  'idle_expired',
  /** The session reached its absolute lifetime. */
  'absolute_expired',
  /** A replaced refresh token was presented again: the whole session was ended to protect the account. */
  'reuse_detected',
  /** The user's password changed; every session of theirs ends. */
  'password_changed',
  /** The user was disabled or deleted. */
  'user_disabled',
  /** The session's client was deleted. */
  'client_deleted',
  /** A signing key was revoked; sessions whose tokens it signed end. */
  'key_revoked',
] as const;

export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** True for a reason of this version's table (a newer server may send others). */
export function isSessionEndReason(value: unknown): value is SessionEndReason {
  return (SESSION_END_REASONS as readonly unknown[]).includes(value);
}
