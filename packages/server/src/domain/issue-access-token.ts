import { randomBytesFast } from '../crypto/random.js';
import { COUNTER_NAMES } from '../observability/minute-counters.js';
import type { ClientRecord, UserRecord } from '../ports/index.js';
import type { AccessTokenClaims, TokenFormat } from '../tokens/token-format.js';
import type { TesseraContext } from './context.js';

export interface AccessTokenInput {
  client: ClientRecord;
  sub: string;
  scope: string;
  sid?: string;
  roles?: string[];
  now: number;
  ttlMs: number;
  /** Thumbprint of the DPoP key the token is bound to (`cnf.jkt`, RFC 9449 §6). */
  jkt?: string | undefined;
}

/** Signs (or otherwise issues) an access token in the server's format; returns it with its expiry (ms). */
export async function issueAccessToken(
  ctx: TesseraContext<never>,
  input: AccessTokenInput,
): Promise<{ token: string; expiresAt: number; claims: AccessTokenClaims }> {
  const iat = Math.floor(input.now / 1000);
  // Whole seconds, like every JWT time: the lifetime is exactly `exp - iat`.
  const exp = iat + Math.ceil(input.ttlMs / 1000);
  const claims: AccessTokenClaims = {
    iss: ctx.config.issuer,
    sub: input.sub,
    aud: ctx.config.audience,
    client_id: input.client.id,
    scope: input.scope,
    jti: randomBytesFast(16).toString('base64url'),
    iat,
    exp,
    ...(input.sid === undefined ? {} : { sid: input.sid }),
    ...(input.roles && input.roles.length > 0 ? { roles: input.roles } : {}),
    ...(input.jkt === undefined ? {} : { cnf: { jkt: input.jkt } }),
  };
  const format = formatFor(ctx, input.client);
  const token = await format.issue(claims);
  // Per minute and format: which signing key still verifies how many live tokens (the keys page).
  ctx.counters.count(COUNTER_NAMES.accessTokens, format.name);
  return { token, expiresAt: exp * 1000, claims };
}

/** The access token of a user's session: the user's roles, the session as `sid`; `ttlMs` from the client's policy. */
export function issueSessionAccessToken(
  ctx: TesseraContext<never>,
  input: {
    client: ClientRecord;
    user: UserRecord;
    sid: string;
    scope: string;
    now: number;
    ttlMs: number;
    jkt?: string | undefined;
  },
) {
  return issueAccessToken(ctx, {
    client: input.client,
    sub: input.user.id,
    scope: input.scope,
    sid: input.sid,
    roles: input.user.roles,
    now: input.now,
    ttlMs: input.ttlMs,
    jkt: input.jkt,
  });
}

/** The format a client's access tokens are issued in. */
export function formatFor(ctx: TesseraContext<never>, client: ClientRecord): TokenFormat {
  if (!client.accessTokenFormat) return ctx.defaultFormat;
  const format = ctx.formats.get(client.accessTokenFormat);
  if (!format)
    throw new Error(`client ${client.id} asks for the unknown token format "${client.accessTokenFormat}"`);
  return format;
}
