/**
 * The prefix of every Tessera refresh token, so secret scanners can find leaked ones. A string
 * with it is a refresh token to route, not to trust: only the server's tag check proves one.
 */
export const REFRESH_TOKEN_PREFIX = 'tsr_';

/** The prefix of Tessera's opaque (reference) access tokens, for the same reason. */
export const OPAQUE_ACCESS_TOKEN_PREFIX = 'tsa_';
