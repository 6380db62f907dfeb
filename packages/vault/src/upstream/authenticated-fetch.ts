import { UnsupportedTokenType } from '../errors.js';
import { ensureFresh } from '../lifecycle/single-flight-refresh.js';
import type { TokenSet } from '../lifecycle/token-set.js';
import type { ConnectionOptions } from '../token-vault.js';
import { connectionOf, type VaultContext } from '../vault-context.js';

/**
 * `vault.fetch`: calls an upstream API as the user with a valid access token; on a 401 one
 * refresh (unless another caller already replaced the token) and one retry.
 */
export async function authenticatedFetch(
  ctx: VaultContext,
  userId: string,
  url: string | URL,
  init: RequestInit = {},
  o?: ConnectionOptions,
): Promise<Response> {
  const connection = connectionOf(ctx, o);
  const fetchImpl = ctx.options.fetch ?? fetch;
  const replayable = init.body === undefined || init.body === null || !(init.body instanceof ReadableStream);
  const send = (set: TokenSet) => {
    // A DPoP-bound token sent without a proof is refused by any resource server; say so instead.
    if (set.tokenType === 'DPoP') throw new UnsupportedTokenType(userId, connection, set.tokenType);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${set.accessToken}`);
    return fetchImpl(url, { ...init, headers });
  };
  const first = await ensureFresh(ctx, userId, connection);
  const res = await send(first);
  if (res.status !== 401 || !replayable) return res;
  await res.body?.cancel();
  const next = await ensureFresh(ctx, userId, connection, first.accessToken);
  return send(next);
}
