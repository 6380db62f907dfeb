import type { TestKey } from './fake-issuer.js';

/** Helpers that build tokens byte by byte, as an attacker would (jose cannot emit duplicates). */

export function b64u(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  return Buffer.from(bytes).toString('base64url');
}

const SIGN_PARAMS: Record<TestKey['alg'], AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
  EdDSA: { name: 'Ed25519' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
};

/** Signs raw header and payload JSON text with a real key (WebCrypto, as jose does). */
export async function signRaw(headerJson: string, payloadJson: string, key: TestKey): Promise<string> {
  const input = `${b64u(headerJson)}.${b64u(payloadJson)}`;
  const sig = await crypto.subtle.sign(SIGN_PARAMS[key.alg], key.privateKey, new TextEncoder().encode(input));
  return `${input}.${b64u(new Uint8Array(sig))}`;
}

/** HS256 over raw JSON with an arbitrary secret (the "public key as HMAC secret" attack). */
export async function hmacRaw(
  headerJson: string,
  payloadJson: string,
  secret: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const input = `${b64u(headerJson)}.${b64u(payloadJson)}`;
  const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input));
  return `${input}.${b64u(new Uint8Array(sig))}`;
}

/** Replaces one segment of a compact token. */
export function withSegment(token: string, index: number, segment: string): string {
  const parts = token.split('.');
  parts[index] = segment;
  return parts.join('.');
}
