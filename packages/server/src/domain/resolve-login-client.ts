import { TesseraError } from '@tessera/protocol';
import type { ClientRecord } from '../ports/index.js';
import { authenticateClient, type ClientCredentials } from './authenticate-client.js';
import type { TesseraContext } from './context.js';

/**
 * The client a first-party login is for: the one the request authenticates as (or names, for
 * a public client), else the configured default login client, which must be public. The
 * client must be allowed to start sessions (the `refresh_token` grant).
 */
export async function resolveLoginClient(
  ctx: TesseraContext<'directory'>,
  credentials: ClientCredentials,
): Promise<ClientRecord> {
  const client = (await authenticateClient(ctx, credentials))?.client ?? (await defaultLoginClient(ctx));
  if (!client.grantTypes.includes('refresh_token')) {
    throw new TesseraError('unauthorized_client', 'This client may not start sessions');
  }
  return client;
}

async function defaultLoginClient(ctx: TesseraContext<'directory'>): Promise<ClientRecord> {
  const fallback = ctx.config.loginDefaultClientId;
  if (fallback === undefined)
    throw new TesseraError('invalid_request', 'The parameter "client_id" is required');
  const client = await ctx.stores.directory.findClient(fallback);
  if (!client?.public)
    throw new TesseraError('invalid_client', 'The default login client is missing or not public');
  return client;
}
