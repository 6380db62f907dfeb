import type { AccessTokenClaims } from '../tokens/token-format.js';
import type { TesseraContext } from './context.js';

/**
 * Finds which registered format issued `token` and returns its claims and the format's name, or `undefined` when no
 * format recognises it or its integrity fails. Expiry and revocation are the caller's to judge
 * (introspection, revocation and logout each do so with their own rule), which is why this
 * reads rather than verifies: `@tessera/resource` verifies a token completely.
 */
export async function readAccessToken(
  ctx: TesseraContext<never>,
  token: string,
): Promise<{ claims: AccessTokenClaims; format: string } | undefined> {
  for (const format of ctx.formats.values()) {
    const claims = await format.verify(token);
    if (claims) return { claims, format: format.name };
  }
  return undefined;
}
