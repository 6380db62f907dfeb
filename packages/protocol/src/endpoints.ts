/** The prefix of the first-party JSON endpoints (login, refresh, logout) and of the plain-http refresh cookie's path. */
export const AUTH_API_PATH = '/api/auth';

/**
 * The authorization server's endpoint paths, relative to the issuer. The server mounts its
 * routes at these paths and publishes them in its metadata; clients and resource servers build
 * URLs from them when they are not configured or discovered.
 */
export const ENDPOINTS = {
  /** RFC 6749 token endpoint (form-encoded). */
  token: '/oauth/token',
  /** RFC 7009 revocation. */
  revocation: '/oauth/revoke',
  /** RFC 7662 introspection. */
  introspection: '/oauth/introspect',
  /** The revocation feed for resource servers (Server-Sent Events or a JSON snapshot). */
  revocationFeed: '/oauth/revocations',
  /** First-party JSON login. */
  login: `${AUTH_API_PATH}/login`,
  /** First-party JSON refresh, and the refresh of browser cookie mode. */
  refresh: `${AUTH_API_PATH}/refresh`,
  /** First-party logout: ends the session. */
  logout: `${AUTH_API_PATH}/logout`,
  /** RFC 8414 authorization server metadata. */
  metadata: '/.well-known/oauth-authorization-server',
  /** The public signing keys (RFC 7517 key set). */
  jwks: '/.well-known/jwks.json',
} as const;

/** The endpoint names of {@link ENDPOINTS}. */
export type EndpointName = keyof typeof ENDPOINTS;

/** The metadata member (RFC 8414 extension) that publishes the revocation feed's URL. */
export const REVOCATION_FEED_METADATA = 'tessera_revocations_endpoint';
