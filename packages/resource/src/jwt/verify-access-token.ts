import type { Clock } from '@tessera/protocol';
import { TesseraError } from '@tessera/protocol';
import { errors, jwtVerify } from 'jose';
import type { AuthInfo } from '../core/auth-result.js';
import { deepFreeze } from '../core/deep-freeze.js';
import { decodeJws, MalformedTokenError, type SplitJws } from './inspect-compact-jws.js';
import type { JwksCache } from './jwks-cache.js';

/** What `verifyAccessToken` needs; resolved and frozen once by the resource server. */
export interface JwtVerifyContext {
  issuer: string;
  audiences: readonly string[];
  algorithms: readonly string[];
  /** Seconds. */
  clockTolerance: number;
  requiredClaims: readonly string[];
  maxJsonDepth: number;
  clock: Clock;
  jwks: JwksCache;
  /** Called right before a signature is checked (work accounting). */
  onSignatureCheck: () => void;
}

/** Header members that point at keys the token itself chooses (RFC 8725 §3.10): never trusted. */
const KEY_POINTING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];
/** Members of a JWE header: an encrypted token where a signed one belongs. */
const JWE_HEADERS = ['enc', 'zip', 'epk'];
/** RFC 9068 §4: `at+jwt`, with or without the `application/` prefix, case-insensitive. */
const ACCESS_TOKEN_TYP = /^(application\/)?at\+jwt$/i;
const KID = /^[\x21-\x7e]{1,256}$/;

function invalid(description: string): TesseraError {
  return new TesseraError('access_token_invalid', description);
}

/**
 * Verifies a JWT access token per RFC 9068 and RFC 8725. Every structural and claim check
 * runs before the key lookup and the signature check, so a malformed or misdirected token
 * never costs a JWKS fetch or a signature verification. The signature is then checked by
 * `jose`, which repeats the claim checks as a second line of defence.
 *
 * @throws TesseraError `access_token_expired`, `access_token_invalid`, or
 *   `temporarily_unavailable` when the keys cannot be loaded.
 */
export async function verifyAccessToken(
  token: string,
  split: SplitJws,
  ctx: JwtVerifyContext,
): Promise<AuthInfo> {
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    ({ header, payload } = decodeJws(split, ctx.maxJsonDepth));
  } catch (e) {
    if (e instanceof MalformedTokenError) throw invalid(e.message);
    throw e;
  }

  const alg = header.alg;
  if (typeof alg !== 'string' || !ctx.algorithms.includes(alg)) {
    throw invalid('The access token is signed with an algorithm that is not allowed');
  }
  if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYP.test(header.typ)) {
    throw invalid('The token is not an access token (typ must be at+jwt)');
  }
  if (header.crit !== undefined) throw invalid('The access token has critical header parameters');
  if (header.b64 !== undefined) throw invalid('The access token uses an unencoded payload');
  if (KEY_POINTING_HEADERS.some((h) => h in header)) {
    throw invalid('The access token names its own key; only the issuer key set is trusted');
  }
  if (JWE_HEADERS.some((h) => h in header))
    throw invalid('The access token has encryption header parameters');
  const kid = header.kid;
  if (typeof kid !== 'string' || !KID.test(kid))
    throw invalid('The access token has a missing or invalid kid');

  if (!signatureShapeOk(alg, split.signature)) throw invalid('The access token signature is malformed');

  const claims = checkClaims(payload, ctx);

  const key = await ctx.jwks.getKey(kid, alg);
  ctx.onSignatureCheck();
  try {
    await jwtVerify(token, key, {
      algorithms: [alg],
      issuer: ctx.issuer,
      audience: [...ctx.audiences],
      typ: 'at+jwt',
      clockTolerance: ctx.clockTolerance,
      currentDate: new Date(ctx.clock.now()),
      requiredClaims: [...ctx.requiredClaims],
    });
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new TesseraError('access_token_expired');
    if (e instanceof errors.JWSSignatureVerificationFailed)
      throw invalid('The access token signature is invalid');
    throw invalid('The access token failed verification');
  }
  return claims;
}

/** Fixed signature sizes (RFC 7518 §3.4, RFC 8037 §3.1); RSA sizes depend on the key, >= 2048 bits. */
const SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132, EdDSA: 64, Ed25519: 64 };

/**
 * Refuses a signature of the wrong length, or an ECDSA signature with r = 0 or s = 0
 * (CVE-2022-21449, "psychic signatures"), before any key is fetched or any curve math runs.
 */
function signatureShapeOk(alg: string, sig: Uint8Array): boolean {
  const size = SIGNATURE_BYTES[alg];
  if (size === undefined) return sig.length >= 256;
  if (sig.length !== size) return false;
  if (!alg.startsWith('ES')) return true;
  const half = size / 2;
  const zero = (from: number) => sig.subarray(from, from + half).every((b) => b === 0);
  return !zero(0) && !zero(half);
}

function optionalString(payload: Record<string, unknown>, name: string): string | undefined {
  const v = payload[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`The access token claim ${name} is not a string`);
  return v;
}

function numericDate(payload: Record<string, unknown>, name: string): number | undefined {
  const v = payload[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalid(`The access token claim ${name} is not a number`);
  return v;
}

/** Claim checks that need no key; returns the frozen `AuthInfo` if the signature later holds. */
function checkClaims(payload: Record<string, unknown>, ctx: JwtVerifyContext): AuthInfo {
  for (const name of ctx.requiredClaims) {
    if (payload[name] === undefined) throw invalid(`The access token has no ${name} claim`);
  }
  if (payload.iss !== ctx.issuer) throw invalid('The access token was issued by another issuer');

  const aud = payload.aud;
  const audList = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (audList === undefined || audList.length === 0 || audList.some((a) => typeof a !== 'string')) {
    throw invalid('The access token has no valid aud claim');
  }
  if (!audList.some((a) => ctx.audiences.includes(a as string))) {
    throw invalid('The access token is meant for another audience');
  }

  const now = ctx.clock.now() / 1000;
  const tol = ctx.clockTolerance;
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (exp === undefined) throw invalid('The access token has no exp claim');
  if (now - tol >= exp) throw new TesseraError('access_token_expired');
  if (nbf !== undefined && nbf > now + tol) throw invalid('The access token is not valid yet (nbf)');
  if (iat !== undefined && iat > now + tol) throw invalid('The access token was issued in the future (iat)');

  const sub = optionalString(payload, 'sub');
  const clientId = optionalString(payload, 'client_id');
  const jti = optionalString(payload, 'jti');
  const sid = optionalString(payload, 'sid');
  const scope = optionalString(payload, 'scope');
  if (sub === undefined || sub === '') throw invalid('The access token has no sub claim');
  if (clientId === undefined || clientId === '') throw invalid('The access token has no client_id claim');

  const roles = payload.roles;
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string'))) {
    throw invalid('The access token claim roles is not a list of strings');
  }
  const cnf = payload.cnf;
  if (
    cnf !== undefined &&
    (typeof cnf !== 'object' || cnf === null || typeof (cnf as { jkt?: unknown }).jkt !== 'string')
  ) {
    // A confirmation this resource server cannot check (not a DPoP `jkt`) is never ignored.
    throw invalid('The access token is bound to a key in a way this resource server cannot check');
  }

  return deepFreeze({
    sub,
    clientId,
    scope: scope === undefined ? [] : scope.split(' ').filter((s) => s !== ''),
    roles: (roles as string[] | undefined) ?? [],
    ...(sid === undefined ? {} : { sid }),
    ...(jti === undefined ? {} : { jti }),
    exp,
    claims: payload,
    format: 'jwt',
  } satisfies AuthInfo);
}
