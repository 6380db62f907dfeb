import { TesseraError } from '@tessera/protocol';
import { parseRefreshToken } from '../crypto/refresh-token.js';
import type { ClientRecord } from '../ports/index.js';
import { authenticateClient, type ClientCredentials } from './authenticate-client.js';
import type { TesseraContext } from './context.js';

/**
 * The client of a first-party refresh or logout: the one the request authenticates as, or,
 * when it names none, the session's own client, which must then be public (a confidential
 * client always authenticates). Whether the token belongs to that client is the refresh's or
 * the revocation's own check.
 */
export async function resolveRefreshClient(
  ctx: TesseraContext<'sessions' | 'directory'>,
  credentials: ClientCredentials,
  refreshToken: string,
): Promise<ClientRecord> {
  const authenticated = await authenticateClient(ctx, credentials);
  if (authenticated) return authenticated.client;
  const parsed = parseRefreshToken(ctx.keys, refreshToken);
  if (!parsed)
    throw new TesseraError(
      'invalid_token',
      'The refresh token is malformed or was not issued by this server',
    );
  const family = await ctx.stores.sessions.findFamily(parsed.familyId);
  if (!family) throw new TesseraError('token_expired', 'The session this token belongs to has expired');
  const client = await ctx.stores.directory.findClient(family.clientId);
  if (!client) throw new TesseraError('invalid_client', 'The client of this session no longer exists');
  if (!client.public) throw new TesseraError('invalid_client', 'This client must authenticate');
  return client;
}
