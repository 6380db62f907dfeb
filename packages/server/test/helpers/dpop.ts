import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  SignJWT,
} from 'jose';

/** A DPoP key pair as a test client holds it, and a maker of proofs (RFC 9449 §4.2). */
export interface TestDpopKey {
  jwk: JWK;
  privateJwk: JWK;
  privateKey: CryptoKey;
  alg: string;
  jkt: string;
  /** A proof for `htm` `htu`; `claims` and `header` override or add members. */
  proof(
    htm: string,
    htu: string,
    options?: {
      claims?: Record<string, unknown>;
      header?: Partial<JWTHeaderParameters> & Record<string, unknown>;
      accessToken?: string;
      nonce?: string;
      iat?: number;
    },
  ): Promise<string>;
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256'): Promise<TestDpopKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  return {
    jwk,
    privateJwk,
    privateKey,
    alg,
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    async proof(htm, htu, options = {}) {
      const claims: Record<string, unknown> = {
        jti: randomUUID(),
        htm,
        htu,
        iat: options.iat ?? Math.floor(Date.now() / 1000),
        ...(options.accessToken === undefined ? {} : { ath: ath(options.accessToken) }),
        ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
        ...options.claims,
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...options.header } as JWTHeaderParameters)
        .sign(privateKey);
    },
  };
}

export function ath(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** An unsigned JWS (`alg: none`) with the given header and claims. */
export function unsignedJws(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part(claims)}.`;
}

/**
 * A JWS signed with `key` over any header at all (jose refuses to sign some, such as an unknown
 * `crit`, which is exactly what a hostile client sends). ES256 only.
 */
export function rawEs256Jws(
  key: TestDpopKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
) {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part(header)}.${part(claims)}`;
  const privateKey = createPrivateKey({ key: key.privateJwk as never, format: 'jwk' });
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
