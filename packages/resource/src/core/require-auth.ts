import { DPOP_ALGS_PARAM } from '../dpop/verify-dpop-proof.js';
import { type ChallengeOptions, insufficientScope } from './answers.js';
import type { AuthInfo, AuthResult, RequireAuthOptions } from './auth-result.js';

/**
 * Checks scopes (all required) and roles (any one suffices) of an authenticated caller.
 * Returns a 403 `insufficient_scope` naming the required scopes when they fall short, with a
 * `DPoP` challenge (and its `algs`) when the caller's token is DPoP-bound (RFC 9449 §7.1), since
 * that is the scheme the token must be sent with.
 */
export function checkAccess(
  auth: AuthInfo,
  required: RequireAuthOptions,
  challenge: ChallengeOptions,
): AuthResult {
  const bound = (auth.claims.cnf as { jkt?: unknown } | undefined)?.jkt !== undefined;
  const opts: ChallengeOptions = bound ? { ...challenge, scheme: 'DPoP', algs: DPOP_ALGS_PARAM } : challenge;
  const scopes = required.scopes ?? [];
  const missing = scopes.filter((s) => !auth.scope.includes(s));
  if (missing.length > 0) {
    return insufficientScope(opts, scopes, `The access token lacks the scope: ${missing.join(' ')}`);
  }
  const roles = required.roles ?? [];
  if (roles.length > 0 && !roles.some((r) => auth.roles.includes(r))) {
    return insufficientScope(opts, scopes, `The access token carries none of the roles: ${roles.join(' ')}`);
  }
  return { ok: true, auth };
}
