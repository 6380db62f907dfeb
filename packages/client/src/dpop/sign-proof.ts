import type { DpopKeyPair } from './key-stores.js';

const encoder = new TextEncoder();

/** base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const json64 = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));

/**
 * A DPoP proof (RFC 9449 §4.2): a JWS of `typ` `dpop+jwt`, `alg` ES256, the public key as `jwk`,
 * a fresh random `jti`, the request's `htm` and `htu`, `iat`, the server's `nonce` when it gave
 * one, and `ath` (SHA-256 of the access token) for API requests. Signed by WebCrypto with the
 * non-extractable private key; ECDSA's raw r||s is the JWS signature as it is.
 */
export async function signProof(
  keys: DpopKeyPair,
  claims: {
    htm: string;
    htu: string;
    iat: number;
    nonce?: string | undefined;
    accessToken?: string | undefined;
  },
): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    htm: claims.htm,
    htu: claims.htu,
    iat: claims.iat,
  };
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  if (claims.accessToken !== undefined) {
    payload.ath = base64url(
      new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(claims.accessToken))),
    );
  }
  const input = `${json64({ typ: 'dpop+jwt', alg: 'ES256', jwk: keys.jwk })}.${json64(payload)}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keys.privateKey,
    encoder.encode(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** RFC 7638 thumbprint of a P-256 public JWK: SHA-256 of its required members in order. */
export async function thumbprintOf(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(canonical))));
}
