import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import { type CompactSigner, compactSigner, SignatureBurst } from './compact-jws.js';
import { type AccessTokenClaims, MAX_ACCESS_TOKEN_BYTES, type TokenFormat } from './token-format.js';

/** JWT access tokens per RFC 9068 (`typ: at+jwt`), signed by the key ring's current key. */
export function jwtFormat(options: { keyRing: KeyRing; issuer: string }): TokenFormat {
  const { keyRing, issuer } = options;
  // One signer per current key (its header serialised once); a key-ring rotation makes the next.
  let signer: { kid: string; signer: CompactSigner } | undefined;
  const burst = new SignatureBurst();
  return {
    name: 'jwt',
    async issue(claims: AccessTokenClaims): Promise<string> {
      const { kid, alg, keyObject } = keyRing.current();
      if (signer?.kid !== kid)
        signer = { kid, signer: compactSigner({ alg, typ: 'at+jwt', kid }, keyObject) };
      // A JWT is the JWS of its claims' JSON. The server builds the claims itself (typed, times in
      // whole seconds), so they are signed as they are (see compact-jws.ts).
      return burst.sign(signer.signer, JSON.stringify(claims));
    },
    async verify(token: string): Promise<AccessTokenClaims | undefined> {
      if (token.length > MAX_ACCESS_TOKEN_BYTES || token.split('.').length !== 3) return undefined;
      try {
        const header = decodeProtectedHeader(token);
        if (typeof header.kid !== 'string') return undefined;
        const entry = keyRing.verificationKey(header.kid);
        if (!entry || header.alg !== entry.alg) return undefined;
        // Expiry is judged by the caller with its own clock; here only integrity and shape.
        const { payload } = await jwtVerify(token, entry.key, {
          issuer,
          typ: 'at+jwt',
          algorithms: [entry.alg],
          requiredClaims: ['sub', 'client_id', 'jti', 'iat', 'exp'],
          currentDate: new Date(0),
        });
        return payload as unknown as AccessTokenClaims;
      } catch {
        return undefined;
      }
    },
  };
}
