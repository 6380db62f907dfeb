/**
 * @tessera/resource — resource-server middleware. The core is Fetch-API only;
 * Fastify and Express adapters live at `@tessera/resource/fastify` and `/express`.
 */

export type { Clock } from '@tessera/protocol';
export {
  failureParts,
  failureResponse,
} from './core/answers.js';
export type {
  AuthFailure,
  AuthInfo,
  AuthResult,
  AuthSuccess,
  RequireAuthOptions,
  ValidatedAs,
} from './core/auth-result.js';
export {
  createResourceServer,
  type ResourceServer,
  type ResourceServerStats,
  type ResourceServerStatus,
} from './core/create-resource-server.js';
export { DEFAULTS } from './core/defaults.js';
export type { TokenSources } from './core/extract-token.js';
export type { Logger } from './core/logger.js';
export type { ResourceServerOptions } from './core/options.js';
export { checkAccess } from './core/require-auth.js';
export type { FetchLike } from './metadata/fetch-json.js';
export type { RevocationFeedState, RevocationFeedStatus } from './revocations/revocation-feed.js';
