/** The claims of the signed-in user: what the access token says about them. */
export type UserClaims = Record<string, unknown> & { sub?: string };

/** Claims that change with every token, not with the user: left out, so a refresh changes nothing. */
const PER_TOKEN = new Set(['exp', 'iat', 'nbf', 'jti']);

/**
 * The user's claims read from a JWT access token (Tessera's default format), without the
 * per-token claims (`exp`, `iat`, `nbf`, `jti`); `null` for an opaque token or anything that
 * does not decode. Read for display only: the signature is not checked here, and an API must
 * never trust what a client says about its user.
 */
export function userClaims(accessToken: string): UserClaims | null {
  const parts = accessToken.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const binary = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const json: unknown = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
    return Object.fromEntries(Object.entries(json).filter(([name]) => !PER_TOKEN.has(name)));
  } catch {
    return null;
  }
}
