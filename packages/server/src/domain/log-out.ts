import { isTesseraError, TesseraError } from '@tessera/protocol';
import type { ClientCredentials } from './authenticate-client.js';
import type { TesseraContext } from './context.js';
import { readAccessToken } from './read-access-token.js';
import { resolveRefreshClient } from './resolve-refresh-client.js';
import { revokeFamily } from './revoke-family.js';
import { revokeToken } from './revoke-token.js';

/** What a logout presents: the session's refresh token (and the client's credentials), or an access token. */
export type LogOutInput =
  /** `dpopJkt`: as below; a public client's DPoP-bound session ends only with a proof of its key. */
  | { refreshToken: string; credentials: ClientCredentials; dpopJkt?: string | undefined }
  /** `dpopJkt`: the thumbprint of the verified DPoP proof that came with the access token, if any. */
  | { accessToken: string; dpopJkt?: string | undefined };

/**
 * Ends the caller's session (`POST /api/auth/logout`). A token that is refused (unknown,
 * malformed, another client's, expired) logs out quietly: there is no session of the caller's
 * to end. A store that cannot revoke is not quiet: its error propagates (503), so the client
 * knows the session was not ended.
 *
 * By access token, the session is the token's `sid`, ended only while the token is unexpired
 * and only when the session's user is the token's subject. A DPoP-bound access token (`cnf.jkt`)
 * ends its session only with a proof of its key: a stolen bound token cannot sign anyone out.
 */
export async function logOut(
  ctx: TesseraContext<'sessions' | 'accessTokens' | 'directory' | 'events'>,
  input: LogOutInput,
): Promise<void> {
  if ('refreshToken' in input) {
    const { refreshToken, credentials, dpopJkt } = input;
    const client = await resolveRefreshClient(ctx, credentials, refreshToken).catch(refusedOnly);
    if (client)
      await revokeToken(ctx, { token: refreshToken, client, initiator: 'user', dpopJkt }).catch(refusedOnly);
    return;
  }
  const read = await readAccessToken(ctx, input.accessToken);
  if (read?.claims.sid === undefined || read.claims.exp * 1000 <= ctx.clock.now()) return;
  const bound = read.claims.cnf?.jkt;
  if (bound !== undefined && bound !== input.dpopJkt) {
    throw new TesseraError(
      'invalid_dpop_proof',
      'This access token is DPoP-bound: send it as Authorization: DPoP with a proof of its key',
    );
  }
  const family = await ctx.stores.sessions.findFamily(read.claims.sid);
  if (family && family.userId === read.claims.sub) await revokeFamily(ctx, family, 'logout', 'user');
}

/**
 * Swallows a refusal of the request (a 4xx TesseraError); anything else, such as a store failure,
 * a rate limit (retryable: the logout did not happen) or a missing DPoP proof, propagates.
 */
function refusedOnly(err: unknown): undefined {
  // A bound session without a proof of its key is not ended, and the caller must know it.
  if (isTesseraError(err) && (err.code === 'invalid_dpop_proof' || err.code === 'use_dpop_nonce')) throw err;
  if (isTesseraError(err) && err.status < 500 && !err.retryable) return undefined;
  throw err;
}
