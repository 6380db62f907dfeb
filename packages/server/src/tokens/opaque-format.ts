import { type Clock, OPAQUE_ACCESS_TOKEN_PREFIX } from '@tessera/protocol';
import { randomBytesFast } from '../crypto/random.js';
import { hmac, type ServerKeys } from '../crypto/secrets.js';
import type { AccessTokenStore } from '../ports/index.js';
import { type AccessTokenClaims, MAX_ACCESS_TOKEN_BYTES, type TokenFormat } from './token-format.js';

const OPAQUE = new RegExp(`^${OPAQUE_ACCESS_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);

/**
 * Opaque (reference) access tokens: 256 random bits with a recognisable prefix. The store keeps
 * only an HMAC of the token beside its claims; resource servers validate them by introspection,
 * so revocation takes effect at once.
 */
export function opaqueFormat(options: {
  accessTokens: AccessTokenStore;
  keys: ServerKeys;
  clock: Clock;
}): TokenFormat {
  const { accessTokens, keys, clock } = options;
  const hashOf = (token: string) => hmac(keys.tokenHash, `access:${token}`);
  return {
    name: 'opaque',
    async issue(claims: AccessTokenClaims): Promise<string> {
      const token = OPAQUE_ACCESS_TOKEN_PREFIX + randomBytesFast(32).toString('base64url');
      await accessTokens.saveAccessToken(hashOf(token), JSON.stringify(claims), claims.exp * 1000);
      return token;
    },
    async verify(token: string): Promise<AccessTokenClaims | undefined> {
      if (token.length > MAX_ACCESS_TOKEN_BYTES || !OPAQUE.test(token)) return undefined;
      const claims = await accessTokens.findAccessToken(hashOf(token), clock.now());
      return claims === null ? undefined : (JSON.parse(claims) as AccessTokenClaims);
    },
  };
}
