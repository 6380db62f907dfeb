import { timingSafeEqual } from 'node:crypto';
import { decodeBasicCredentials, TesseraError } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import { hmac } from '../crypto/secrets.js';
import type { ClientRecord } from '../ports/index.js';
import type { TesseraContext } from './context.js';

/** What a request offers to identify its client (RFC 6749 §2.3). */
export interface ClientCredentials {
  authorization?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** The caller's address, for the limit on failed client authentications. */
  ip?: string | undefined;
}

export interface AuthenticatedClient {
  client: ClientRecord;
  /** How it authenticated: `client_secret_basic`, `client_secret_post` or `none` (public). */
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** Thrown for a failed Basic authentication, so the answer can carry `WWW-Authenticate: Basic`. */
export class BasicAuthError extends TesseraError {}

/**
 * Authenticates the client of a request: `client_secret_basic`, `client_secret_post`, or `none`
 * for public clients. Exactly one method may be used. Returns `undefined` when the request names
 * no client at all (the caller decides whether that is allowed).
 *
 * Failed authentications are limited per client id and per IP (`rateLimitClientAuth` per
 * minute): past the limit every attempt is refused `rate_limited`, a right secret too, so
 * guessing learns nothing more until the window ends.
 */
export async function authenticateClient(
  ctx: TesseraContext<'directory'>,
  creds: ClientCredentials,
): Promise<AuthenticatedClient | undefined> {
  const basic = creds.authorization?.startsWith('Basic ') ? parseBasic(creds.authorization) : undefined;
  if (
    creds.authorization !== undefined &&
    !creds.authorization.startsWith('Basic ') &&
    !creds.authorization.startsWith('Bearer ')
  ) {
    throw new TesseraError(
      'invalid_request',
      'Unsupported Authorization scheme; use Basic for client authentication',
    );
  }
  if (basic) {
    if (creds.clientSecret !== undefined) {
      throw new TesseraError('invalid_request', 'Use exactly one client authentication method');
    }
    if (creds.clientId !== undefined && creds.clientId !== basic.id) {
      throw new TesseraError('invalid_request', 'client_id does not match the Authorization header');
    }
    const client = await ctx.stores.directory.findClient(basic.id);
    const ok = client !== null && !client.public && secretMatches(ctx, client, basic.secret);
    await countAttempt(ctx, creds.ip, client?.id, ok);
    if (!ok || !client) throw new BasicAuthError('invalid_client');
    return { client, method: 'client_secret_basic' };
  }
  if (creds.clientId === undefined) {
    if (creds.clientSecret !== undefined)
      throw new TesseraError('invalid_request', 'client_secret without client_id');
    return undefined;
  }
  const client = await ctx.stores.directory.findClient(creds.clientId);
  if (!client) {
    await countAttempt(ctx, creds.ip, undefined, false);
    throw new TesseraError('invalid_client');
  }
  if (client.public) {
    if (creds.clientSecret !== undefined) {
      await countAttempt(ctx, creds.ip, client.id, false);
      throw new TesseraError('invalid_client', 'A public client has no secret');
    }
    return { client, method: 'none' };
  }
  const ok = creds.clientSecret !== undefined && secretMatches(ctx, client, creds.clientSecret);
  await countAttempt(ctx, creds.ip, client.id, ok);
  if (!ok) throw new TesseraError('invalid_client');
  return { client, method: 'client_secret_post' };
}

/**
 * The limit on failed client authentications, per IP and per (existing) client id: a failure
 * counts against both; past the limit, failures and successes alike are refused. Called right
 * after the secret is compared, with no wait in between, so that within one process no
 * comparison can slip past a count that should have stopped it. Unknown client ids are counted
 * per IP only, so a spray of made-up ids cannot fill the counters.
 */
async function countAttempt(
  ctx: TesseraContext<never>,
  ip: string | undefined,
  clientId: string | undefined,
  ok: boolean,
): Promise<void> {
  const limit = ctx.config.rateLimitClientAuth;
  if (limit === 0) return;
  const keys: string[] = [];
  if (ip !== undefined) keys.push(`client-auth:ip:${ip}`);
  if (clientId !== undefined) keys.push(`client-auth:client:${clientId}`);
  const now = ctx.clock.now();
  const store = ctx.rateLimits;
  const counts = await Promise.all(
    keys.map((key) => (ok ? store.peek(key, now) : store.hit(key, LIMITS.rateLimitWindowMs, now))),
  );
  let resetAt = 0;
  for (const c of counts) {
    if (c !== undefined && (ok ? c.count >= limit : c.count > limit)) resetAt = Math.max(resetAt, c.resetAt);
  }
  if (resetAt > 0) {
    throw new TesseraError('rate_limited', 'Too many failed client authentications; retry later', {
      retryAfter: Math.max(1, Math.ceil((resetAt - now) / 1000)),
    });
  }
}

/** Like `authenticateClient`, but a client is required. */
export async function requireClient(
  ctx: TesseraContext<'directory'>,
  creds: ClientCredentials,
): Promise<AuthenticatedClient> {
  const authenticated = await authenticateClient(ctx, creds);
  if (!authenticated) throw new TesseraError('invalid_client', 'Client authentication is required');
  return authenticated;
}

/** Hash stored for a client secret. Secrets are high-entropy (`tessera clients add` generates them). */
export function hashClientSecret(ctx: Pick<TesseraContext, 'keys'>, secret: string): string {
  return hmac(ctx.keys.tokenHash, `client-secret:${secret}`);
}

function secretMatches(ctx: TesseraContext<'directory'>, client: ClientRecord, secret: string): boolean {
  if (!client.secretHash) return false;
  const want = Buffer.from(client.secretHash);
  const got = Buffer.from(hashClientSecret(ctx, secret));
  return want.length === got.length && timingSafeEqual(want, got);
}

function parseBasic(header: string): { id: string; secret: string } {
  const credentials = decodeBasicCredentials(header);
  if (!credentials) throw new BasicAuthError('invalid_client', 'Malformed Basic credentials');
  return credentials;
}
