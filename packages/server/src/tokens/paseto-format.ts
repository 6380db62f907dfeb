import { type Claims, InspectFooter, PublicProtocol } from 'paseto';
import {
  GenerateKeyPairFactory,
  PublicKeyFromCryptoKey,
  SecretKeyFromCryptoKey,
  SignFactory,
  VerifyFactory,
} from 'paseto/v4/public';
import type { KeyRing } from '../keys/key-ring.js';
import { type AccessTokenClaims, MAX_ACCESS_TOKEN_BYTES, type TokenFormat } from './token-format.js';

const v4 = new PublicProtocol(GenerateKeyPairFactory, SignFactory, VerifyFactory);
const PREFIX = 'v4.public.';
type V4SecretKey = Awaited<ReturnType<typeof SecretKeyFromCryptoKey>>;
type V4PublicKey = Awaited<ReturnType<typeof PublicKeyFromCryptoKey>>;

/**
 * PASETO v4.public access tokens, signed with Ed25519 keys from their own key ring
 * (never the JWT keys: one key, one protocol). The footer names the key (`{"kid": …}`); the
 * times are PASETO's ISO 8601 strings. Resource servers validate them by introspection.
 */
export function pasetoFormat(options: { keyRing: KeyRing; issuer: string }): TokenFormat {
  const { keyRing, issuer } = options;
  const secretKeys = new Map<string, V4SecretKey>();
  const publicKeys = new Map<string, V4PublicKey>();
  return {
    name: 'paseto',
    async issue(claims: AccessTokenClaims): Promise<string> {
      const { kid, privateKey } = keyRing.current();
      let key = secretKeys.get(kid);
      if (!key) {
        key = await SecretKeyFromCryptoKey(privateKey as CryptoKey);
        secretKeys.set(kid, key);
      }
      // PASETO's registered `aud` is a single string.
      const { iat, exp, aud, ...rest } = claims;
      const payload: Claims = {
        ...(JSON.parse(JSON.stringify(rest)) as Claims),
        aud: Array.isArray(aud) ? (aud[0] ?? '') : aud,
        iat: new Date(iat * 1000).toISOString(),
        exp: new Date(exp * 1000).toISOString(),
      };
      return v4.Sign(key, payload, {
        footer: new TextEncoder().encode(JSON.stringify({ kid })),
        addIssuedAt: false,
      });
    },
    async verify(token: string): Promise<AccessTokenClaims | undefined> {
      if (token.length > MAX_ACCESS_TOKEN_BYTES || !token.startsWith(PREFIX)) return undefined;
      try {
        const footer = JSON.parse(new TextDecoder().decode(InspectFooter(token))) as { kid?: unknown };
        if (typeof footer.kid !== 'string') return undefined;
        const entry = keyRing.verificationKey(footer.kid);
        if (!entry) return undefined;
        let key = publicKeys.get(footer.kid);
        if (!key) {
          key = await PublicKeyFromCryptoKey(entry.key as CryptoKey);
          publicKeys.set(footer.kid, key);
        }
        // Expiry is the caller's business (its own clock); here only integrity, issuer and shape.
        const { claims } = await v4.Verify(key, token, {
          issuer,
          now: new Date(0),
          clockTolerance: Number.MAX_SAFE_INTEGER / 1000,
          requiredClaims: ['sub', 'client_id', 'jti', 'iat', 'exp'],
        });
        const c = claims as Record<string, unknown>;
        return {
          ...(c as unknown as AccessTokenClaims),
          iat: Math.floor(Date.parse(String(c.iat)) / 1000),
          exp: Math.floor(Date.parse(String(c.exp)) / 1000),
        };
      } catch {
        return undefined;
      }
    },
  };
}
