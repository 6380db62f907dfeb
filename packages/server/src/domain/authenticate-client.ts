import { timingSafeEqual } from 'node:crypto';
import { decodeBasicCredentials, TesseraError } from '@tessera/protocol';
import { hmac } from '../crypto/secrets.js';
import type { ClientRecord } from '../ports/index.js';
import type { TesseraContext } from './context.js';

/** What a request offers to identify its client (RFC 6749 §2.3). */
export interface ClientCredentials {
  authorization?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
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
    if (!client || client.public || !secretMatches(ctx, client, basic.secret)) {
      throw new BasicAuthError('invalid_client');
    }
    return { client, method: 'client_secret_basic' };
  }
  if (creds.clientId === undefined) {
    if (creds.clientSecret !== undefined)
      throw new TesseraError('invalid_request', 'client_secret without client_id');
    return undefined;
  }
  const client = await ctx.stores.directory.findClient(creds.clientId);
  if (!client) throw new TesseraError('invalid_client');
  if (client.public) {
    if (creds.clientSecret !== undefined)
      throw new TesseraError('invalid_client', 'A public client has no secret');
    return { client, method: 'none' };
  }
  if (creds.clientSecret === undefined || !secretMatches(ctx, client, creds.clientSecret)) {
    throw new TesseraError('invalid_client');
  }
  return { client, method: 'client_secret_post' };
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
