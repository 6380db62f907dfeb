import type { TokenResponse } from '@tessera/protocol';
import { ASSUMED_LIFETIME_S, EXPIRY_SKEW_MS, LEAD_JITTER, LEAD_SHARE, MAX_LEAD_MS } from './defaults.js';
import type { Session } from './types.js';

/**
 * Builds a session from a token answer received at `now` (local clock). Expiry is receipt time
 * plus `expires_in`, never the JWT's `exp`, so a device clock that is off does not matter.
 * A server that does not rotate omits `refresh_token`: the `previous` one stays valid.
 */
export function toSession(res: TokenResponse, now: number, gen: number, previous?: Session): Session {
  const lifetimeS =
    typeof res.expires_in === 'number' && res.expires_in > 0 ? res.expires_in : ASSUMED_LIFETIME_S;
  const refreshToken = res.refresh_token ?? previous?.refreshToken;
  const session: Session = {
    accessToken: res.access_token,
    tokenType: res.token_type ?? 'Bearer',
    receivedAt: now,
    expiresAt: now + lifetimeS * 1000,
    gen,
  };
  if (refreshToken !== undefined) session.refreshToken = refreshToken;
  if (typeof res.refresh_token_expires_in === 'number') {
    session.refreshExpiresAt = now + res.refresh_token_expires_in * 1000;
  }
  if (typeof res.scope === 'string') session.scope = res.scope;
  const revocation = res.revocation_endpoint ?? previous?.revocationEndpoint;
  if (typeof revocation === 'string') session.revocationEndpoint = revocation;
  return session;
}

/** Reads a stored session; anything malformed reads as no session rather than a crash. */
export function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    return typeof s.accessToken === 'string' && typeof s.expiresAt === 'number' ? s : null;
  } catch {
    return null;
  }
}

/**
 * When to refresh ahead of expiry: min(5 min, 20% of the lifetime), plus up to 25% jitter.
 * `random` is in [0, 1).
 */
export function refreshLeadMs(session: Session, random: number): number {
  const lifetime = session.expiresAt - session.receivedAt;
  return Math.min(MAX_LEAD_MS, lifetime * LEAD_SHARE) * (1 + LEAD_JITTER * random);
}

/** The last moment a token is handed out without waiting for a refresh. */
export function usableUntil(session: Session): number {
  const lifetime = session.expiresAt - session.receivedAt;
  return session.expiresAt - Math.min(EXPIRY_SKEW_MS, lifetime * 0.1);
}
