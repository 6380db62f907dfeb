import { ENDPOINTS, type TokenResponse } from '@tessera/protocol';
import type { TesseraContext } from './context.js';

/** What a rotation hands out; sealed for the grace period, so a retry gets the same answer. */
export interface IssuedTokens {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
  scope: string;
  /** The access token is DPoP-bound (`token_type: DPoP`). */
  dpop?: boolean;
}

/** The wire answer (RFC 6749 §5.1); lifetimes are what is left at `now`, never negative. */
export function toTokenResponse(
  ctx: TesseraContext<never>,
  issued: IssuedTokens,
  now: number,
): TokenResponse {
  const left = (at: number) => Math.max(0, Math.floor((at - now) / 1000));
  return {
    access_token: issued.accessToken,
    token_type: issued.dpop === true ? 'DPoP' : 'Bearer',
    // On the token's own whole-second clock (`exp` minus the current second): a fresh token's
    // `expires_in` is its lifetime, `exp - iat`, whatever the millisecond it was issued at.
    expires_in: Math.max(0, Math.floor(issued.accessExpiresAt / 1000) - Math.floor(now / 1000)),
    ...(issued.refreshToken === undefined
      ? {}
      : {
          refresh_token: issued.refreshToken,
          refresh_token_expires_in: left(issued.refreshExpiresAt ?? now),
        }),
    scope: issued.scope,
    revocation_endpoint: `${ctx.config.issuer}${ENDPOINTS.revocation}`,
  };
}
