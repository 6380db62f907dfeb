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

/** The scope granted for a new session: the requested one if the client may have it, else its default. */
export function resolveScope(client: ClientRecord, requested: string | undefined): string {
  if (requested === undefined) return client.defaultScope;
  const scopes = parseScope(requested);
  if (client.allowedScopes.length > 0) {
    const denied = scopes.filter((s) => !client.allowedScopes.includes(s));
    if (denied.length > 0)
      throw new TesseraError('invalid_scope', `The client may not request: ${denied.join(' ')}`);
  }
  return scopes.join(' ');
}

/** A refresh may narrow the scope (RFC 6749 §6) but never widen it. */
export function narrowScope(granted: string, requested: string | undefined): string {
  if (requested === undefined) return granted;
  const have = new Set(granted.split(' '));
  const want = parseScope(requested);
  const extra = want.filter((s) => !have.has(s));
  if (extra.length > 0)
    throw new TesseraError('invalid_scope', `The scope exceeds what was granted: ${extra.join(' ')}`);
  return want.join(' ');
}
