import { TesseraError } from '@tessera/protocol';
import type { ClientRecord } from '../ports/index.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a scope string (RFC 6749 §3.3), rejecting characters the RFC does not allow. */
export function parseScope(scope: string): string[] {
  const parts = scope.split(' ').filter((s) => s !== '');
  for (const p of parts) {
    if (!SCOPE_TOKEN.test(p))
      throw new TesseraError('invalid_scope', 'The scope contains a character that is not allowed');
  }
  return [...new Set(parts)];
}

/**
 * What a client may request: its allowed scopes and its default scope, nothing else. A client
 * registered without scopes may request only its default scope (none unless one is set): least
 * privilege by default.
 */
export function requestableScopes(client: Pick<ClientRecord, 'allowedScopes' | 'defaultScope'>): string[] {
  return [...new Set([...client.allowedScopes, ...parseScope(client.defaultScope)])];
}

/**
 * The scope granted for a new session: the client's default scope when the request names none,
 * else the requested one, which must lie within what the client may request; anything else is
 * `invalid_scope` (RFC 6749 §5.2). The answer names no scope: it echoes nothing the client sent.
 */
export function resolveScope(client: ClientRecord, requested: string | undefined): string {
  if (requested === undefined) return client.defaultScope;
  const scopes = parseScope(requested);
  const allowed = new Set(requestableScopes(client));
  if (scopes.some((s) => !allowed.has(s))) {
    throw new TesseraError(
      'invalid_scope',
      allowed.size === 0
        ? 'This client may not request any scope'
        : 'The requested scope is unknown or not allowed for this client',
    );
  }
  return scopes.join(' ');
}

/** A refresh may narrow the scope (RFC 6749 §6) but never widen it. */
export function narrowScope(granted: string, requested: string | undefined): string {
  if (requested === undefined) return granted;
  const have = new Set(granted.split(' '));
  const want = parseScope(requested);
  if (want.some((s) => !have.has(s)))
    throw new TesseraError('invalid_scope', 'The requested scope exceeds what the session was granted');
  return want.join(' ');
}
