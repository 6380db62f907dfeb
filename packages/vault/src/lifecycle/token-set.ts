import { DEFAULTS } from '../defaults.js';

/** A decrypted token set. Times are milliseconds since the epoch on the vault's clock. */
export interface TokenSet {
  accessToken: string;
  /** `Bearer` or `DPoP`, as the upstream said (case normalised). */
  tokenType: string;
  refreshToken?: string;
  idToken?: string;
  scope?: string;
  /** Local receipt time of the answer. */
  receivedAt: number;
  /** `receivedAt + expires_in`: never the JWT's `exp`, so the upstream's clock does not matter. */
  expiresAt: number;
  refreshExpiresAt?: number;
}

/** The token endpoint's JSON as the vault accepts it (RFC 6749 §5.1). */
export interface TokenEndpointJson {
  access_token: string;
  token_type?: string;
  expires_in?: number | string;
  refresh_token?: string;
  refresh_token_expires_in?: number | string;
  id_token?: string;
  scope?: string;
  [extra: string]: unknown;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function optionalString(json: Record<string, unknown>, name: string): string | undefined {
  const value = json[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new TypeError(`token response: ${name} must be a string`);
  if (Buffer.byteLength(value) > DEFAULTS.maxValueBytes)
    throw new TypeError(`token response: ${name} is too large`);
  return value;
}

/**
 * Builds a token set from a token response received at `now`. An upstream that does not
 * rotate omits `refresh_token`: the `previous` one stays. Bad input is a `TypeError` that
 * names the field and never echoes a value.
 */
export function toTokenSet(json: unknown, now: number, previous?: TokenSet): TokenSet {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError('token response: expected the token endpoint JSON object');
  }
  const obj = json as Record<string, unknown>;
  const accessToken = optionalString(obj, 'access_token');
  if (!accessToken) throw new TypeError('token response: access_token is missing');
  const rawType = optionalString(obj, 'token_type') ?? 'Bearer';
  const tokenType =
    rawType.toLowerCase() === 'bearer' ? 'Bearer' : rawType.toLowerCase() === 'dpop' ? 'DPoP' : rawType;
  const lifetimeS = seconds(obj.expires_in) ?? DEFAULTS.assumedLifetimeS;
  const set: TokenSet = { accessToken, tokenType, receivedAt: now, expiresAt: now + lifetimeS * 1000 };
  const refreshToken = optionalString(obj, 'refresh_token') ?? previous?.refreshToken;
  if (refreshToken) set.refreshToken = refreshToken;
  const refreshLifetimeS = seconds(obj.refresh_token_expires_in);
  if (refreshLifetimeS !== undefined) set.refreshExpiresAt = now + refreshLifetimeS * 1000;
  else if (!optionalString(obj, 'refresh_token') && previous?.refreshExpiresAt !== undefined) {
    set.refreshExpiresAt = previous.refreshExpiresAt;
  }
  const idToken = optionalString(obj, 'id_token') ?? previous?.idToken;
  if (idToken) set.idToken = idToken;
  const scope = optionalString(obj, 'scope') ?? previous?.scope;
  if (scope !== undefined) set.scope = scope;
  return set;
}

/**
 * When to refresh ahead of expiry (the SDK's rule): min(5 min, 20% of the lifetime), plus up
 * to 25% jitter. `random` is in [0, 1).
 */
export function refreshLeadMs(set: TokenSet, random: number): number {
  const lifetime = set.expiresAt - set.receivedAt;
  return Math.min(DEFAULTS.maxLeadMs, lifetime * DEFAULTS.leadShare) * (1 + DEFAULTS.leadJitter * random);
}

/** The last moment the access token is handed out without a refresh. */
export function usableUntil(set: TokenSet): number {
  const lifetime = set.expiresAt - set.receivedAt;
  return set.expiresAt - Math.min(DEFAULTS.expirySkewMs, lifetime * 0.1);
}

/** When `cleanup()` may delete the set: when nothing in it can be used or renewed any more. */
export function purgeAt(set: TokenSet): number {
  if (!set.refreshToken) return set.expiresAt;
  return set.refreshExpiresAt ?? Math.max(set.expiresAt, set.receivedAt + DEFAULTS.idlePurgeMs);
}

/**
 * Delay before the next attempt after `failures` consecutive transient failures: exponential
 * with equal jitter, and never shorter than the upstream's `Retry-After` (capped).
 */
export function backoffMs(failures: number, random: number, retryAfterS?: number): number {
  const ceiling = Math.min(DEFAULTS.retryMaxMs, DEFAULTS.retryBaseMs * 2 ** Math.max(0, failures - 1));
  const jittered = ceiling / 2 + (ceiling / 2) * random;
  const floor = retryAfterS === undefined ? 0 : Math.min(DEFAULTS.retryAfterMaxMs, retryAfterS * 1000);
  return Math.max(jittered, floor);
}
