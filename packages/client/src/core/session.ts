import type { TokenResponse } from '@tessera/protocol';
import { ASSUMED_LIFETIME_S, EXPIRY_SKEW_MS, LEAD_JITTER, LEAD_SHARE, MAX_LEAD_MS } from './defaults.js';
import type { Session } from './types.js';

/**
 * Builds a session from a token answer received at `now` (local clock). Expiry is receipt time
 * plus `expires_in`, never the JWT's `exp`, so a device clock that is off does not matter.
 * A server that does not rotate omits `refresh_token`: the `previous` one stays valid.
 */
export function toSession(res: TokenResponse, now: number, gen: number, previous?: Session): Session {
  const lifetimeS = res.expires_in > 0 ? res.expires_in : ASSUMED_LIFETIME_S;
  // Absent fields stay undefined, which JSON leaves out of the stored copy.
  return {
    accessToken: res.access_token,
    refreshToken: res.refresh_token ?? previous?.refreshToken,
    receivedAt: now,
    expiresAt: now + lifetimeS * 1000,
    scope: res.scope,
    revocationEndpoint: res.revocation_endpoint ?? previous?.revocationEndpoint,
    gen,
  };
}

/** Reads a stored session: `null` for none; throws for a value that is not a session (corrupt, edited). */
export function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  const s = JSON.parse(raw) as Session;
  if (typeof s?.accessToken === 'string' && typeof s.expiresAt === 'number') return s;
  throw new TypeError('Not a stored session');
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
export function usableUntil(session: Pick<Session, 'receivedAt' | 'expiresAt'>): number {
  const lifetime = session.expiresAt - session.receivedAt;
  return session.expiresAt - Math.min(EXPIRY_SKEW_MS, lifetime * 0.1);
}

/**
 * The session with its times moved by `ms`: between the client's own time line and the wall
 * clock, which is what storage and the other tabs share.
 */
export function shiftSession(session: Session, ms: number): Session {
  return { ...session, receivedAt: session.receivedAt + ms, expiresAt: session.expiresAt + ms };
}
