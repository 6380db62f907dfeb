import { TesseraError } from './tessera-error.js';

// DPoP (RFC 9449): the checks of a proof that need no cryptography, shared by the authorization
// server and the resource-server middleware. Each package parses the proof and verifies its
// signature with its own JOSE library, then calls these.

/** The request header that carries a proof, and the one that carries a server nonce. */
export const DPOP_HEADER = 'DPoP';
export const DPOP_NONCE_HEADER = 'DPoP-Nonce';
/** The `typ` of every proof's protected header. */
export const DPOP_PROOF_TYPE = 'dpop+jwt';
/** Asymmetric algorithms a proof may be signed with; never `none`, never an HMAC. */
export const DPOP_SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256'] as const;
export type DpopSigningAlg = (typeof DPOP_SIGNING_ALGS)[number];

/** Members of a JWK that hold private (or symmetric) key material. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** The smallest RSA modulus a proof may be signed with, in bits. */
const MIN_RSA_BITS = 2048;

/** A public JWK as it sits in a proof's header. */
export type DpopPublicJwk = Record<string, unknown> & { kty: string };

const invalid = (description: string) => new TesseraError('invalid_dpop_proof', description);

/**
 * `htu` as compared (RFC 9449 §4.3): the URL without query and fragment, after syntax- and
 * scheme-based normalisation (RFC 3986 §6.2.2–6.2.3: scheme and host in lower case, the default
 * port dropped, dot segments removed, an empty path as `/`, percent-escapes in upper case and
 * unreserved characters decoded). `undefined` for anything that is not an absolute http(s) URL.
 * Both sides of the comparison, and the replay key, use this one form.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path === '' ? '/' : path}`;
}

/** The parts of a proof's protected header that the checks below approve. */
export interface DpopHeader {
  alg: DpopSigningAlg;
  jwk: DpopPublicJwk;
}

/**
 * Checks a proof's protected header: `typ` is `dpop+jwt`; `alg` is on the allow-list; `jwk` is a
 * public key of the type and curve `alg` names (an RSA key of at least 2048 bits) with no
 * private member; no `crit` (no extension is understood, so any is refused).
 * @throws TesseraError `invalid_dpop_proof`
 */
export function checkDpopHeader(header: Record<string, unknown>): DpopHeader {
  if (header.typ !== DPOP_PROOF_TYPE) throw invalid('The DPoP proof must have typ "dpop+jwt"');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(DPOP_SIGNING_ALGS as readonly string[]).includes(alg)) {
    throw invalid(`The DPoP proof must be signed with one of ${DPOP_SIGNING_ALGS.join(', ')}`);
  }
  if (header.crit !== undefined)
    throw invalid('The DPoP proof names a critical extension this server does not support');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw invalid('The DPoP proof must carry its public key as jwk');
  }
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(key, m))) {
    throw invalid('The DPoP proof jwk must be a public key: it holds private key material');
  }
  if (!keyFitsAlg(key, alg as DpopSigningAlg)) {
    throw invalid('The DPoP proof jwk is not a key of the type and curve its alg names');
  }
  return { alg: alg as DpopSigningAlg, jwk: key as DpopPublicJwk };
}

function keyFitsAlg(jwk: Record<string, unknown>, alg: DpopSigningAlg): boolean {
  switch (alg) {
    case 'ES256':
      return (
        jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string'
      );
    case 'EdDSA':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
    case 'RS256': {
      if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return false;
      // base64url without padding: 4 characters per 3 bytes; leading zero bytes are not sent.
      const bits = Math.floor((jwk.n.length * 6) / 8) * 8;
      return bits >= MIN_RSA_BITS;
    }
  }
}

/** What a proof must say about the request it came with. */
export interface DpopExpectation {
  /** The request's method. */
  htm: string;
  /** The request's URL as the receiver knows it (public origin + path); normalised here. */
  htu: string;
  /** Now, in milliseconds. */
  now: number;
  /** `iat` may be this many seconds before or after now. */
  windowSeconds: number;
  /** base64url(SHA-256(access token)) when an access token comes with the proof. */
  ath?: string | undefined;
  /** Longest `jti` accepted. */
  maxJtiLength: number;
}

/** The claims of a proof that passed {@link checkDpopClaims}. */
export interface DpopClaims {
  jti: string;
  htm: string;
  /** Normalised (the form the replay key is built from). */
  htu: string;
  iat: number;
  nonce?: string;
}

/**
 * Checks a proof's claims against the request: `jti` (a string; its replay is the caller's
 * check), `htm`, `htu` (normalised on both sides, without query and fragment), `iat` within the
 * window either way, and `ath` when an access token is presented. `nonce` is handed back for
 * the caller, which knows whether it asked for one.
 * @throws TesseraError `invalid_dpop_proof`
 */
export function checkDpopClaims(payload: Record<string, unknown>, expect: DpopExpectation): DpopClaims {
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > expect.maxJtiLength) {
    throw invalid(`The DPoP proof must have a jti of 1 to ${expect.maxJtiLength} characters`);
  }
  if (typeof htm !== 'string' || htm !== expect.htm) {
    throw invalid('The DPoP proof htm does not match the request method');
  }
  const expected = normalizeHtu(expect.htu);
  const presented = typeof htu === 'string' ? normalizeHtu(htu) : undefined;
  if (expected === undefined || presented === undefined || presented !== expected) {
    throw invalid('The DPoP proof htu does not match the request URL');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw invalid('The DPoP proof must have a numeric iat');
  if (Math.abs(expect.now / 1000 - iat) > expect.windowSeconds) {
    throw invalid('The DPoP proof iat is outside the accepted window (check the device clock)');
  }
  if (expect.ath !== undefined) {
    if (typeof ath !== 'string')
      throw invalid('The DPoP proof must carry ath for the access token it comes with');
    if (!equalStrings(ath, expect.ath)) throw invalid('The DPoP proof ath does not match the access token');
  }
  if (nonce !== undefined && typeof nonce !== 'string')
    throw invalid('The DPoP proof nonce must be a string');
  return { jti, htm, htu: presented, iat, ...(nonce === undefined ? {} : { nonce }) };
}

/** Compares two strings in time that depends only on their lengths. */
export function equalStrings(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
