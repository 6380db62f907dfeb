import { TesseraError, type TokenResponse } from '@tessera/protocol';
import type { ClientRecord } from '../ports/index.js';
import { clientPolicy, type TesseraContext } from './context.js';
import { issueAccessToken } from './issue-access-token.js';
import { resolveScope } from './resolve-scope.js';
import { toTokenResponse } from './token-response.js';

/**
 * The client-credentials grant (RFC 6749 §4.4): an access token for the client itself, with
 * the client as `sub`, no refresh token and no session. Confidential clients only.
 *
 * @param input.client the client, already authenticated and allowed this grant.
 */
export async function issueClientCredentialsToken(
  ctx: TesseraContext<never>,
  input: { client: ClientRecord; scope?: string | undefined; dpopJkt?: string | undefined },
): Promise<TokenResponse> {
  const { client } = input;
  if (client.public)
    throw new TesseraError('unauthorized_client', 'A public client cannot use client_credentials');
  const now = ctx.clock.now();
  const scope = resolveScope(client, input.scope);
  const access = await issueAccessToken(ctx, {
    client,
    sub: client.id,
    scope,
    now,
    ttlMs: clientPolicy(ctx.config, client).accessTokenTtlMs,
    jkt: input.dpopJkt,
  });
  ctx.metrics.tokensIssued.inc({ grant: 'client_credentials' });
  return toTokenResponse(
    ctx,
    {
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      scope,
      dpop: input.dpopJkt !== undefined,
    },
    now,
  );
}
