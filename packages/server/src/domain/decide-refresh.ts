import type { KnownErrorCode, SessionEndReason } from '@tessera/protocol';
import type { TokenAndFamily } from '../ports/index.js';

export type RefreshDecision =
  | { kind: 'rotate' }
  | { kind: 'grace' }
  | { kind: 'reuse' }
  /** `endReason`: why the session is over, when that is why the refresh fails. */
  | { kind: 'fail'; code: KnownErrorCode; endReason?: SessionEndReason };

/**
 * The refresh rules as one pure function of the stored state: what a refresh with this token, by this
 * client, at this time, must do. Rotation, grace and reuse are decided here and nowhere else.
 *
 * @param graceMs the family's client's grace period in milliseconds.
 */
export function decideRefresh(
  state: TokenAndFamily,
  clientId: string,
  now: number,
  graceMs: number,
): RefreshDecision {
  const { token, family } = state;
  if (family.clientId !== clientId) return { kind: 'fail', code: 'client_mismatch' };
  if (family.status === 'revoked' || token.status === 'revoked') {
    // A family's tokens are revoked only with the family, which keeps why.
    return { kind: 'fail', code: 'token_revoked', endReason: family.endReason ?? 'admin_revoked' };
  }
  if (family.status === 'expired' || now >= family.expiresAt) {
    return { kind: 'fail', code: 'token_expired', endReason: family.endReason ?? 'absolute_expired' };
  }
  if (token.status === 'rotated') {
    // Rule 3: only the immediate parent of the current token, only within the grace period.
    const isImmediateParent = token.generation === family.generation - 1;
    const withinGrace = token.rotatedAt !== null && now < token.rotatedAt + graceMs;
    if (isImmediateParent && withinGrace && token.graceResponse !== null) return { kind: 'grace' };
    // Rule 4: after the grace period, an older ancestor, or a parent whose child rotated.
    return { kind: 'reuse' };
  }
  // Rule 6: an expired token fails without revoking anything.
  if (now >= token.expiresAt) return { kind: 'fail', code: 'token_expired', endReason: 'idle_expired' };
  return { kind: 'rotate' };
}
