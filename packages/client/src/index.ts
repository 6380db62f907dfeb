/**
 * The Tessera client SDK core: Web APIs only, safe for browsers, workers, webviews and Node.
 * Integrations and adapters live under subpaths: `/fetch`, `/axios`, `/dpop`, `/storage`, `/in-process`,
 * `/node`, `/react-native`, `/testing`.
 */

export type { ErrorCode, TokenResponse } from '@tessera/protocol';
export { describeError, isTesseraError, TesseraError } from '@tessera/protocol';
export type { WebLocksCoordinatorOptions } from './coordinator/web-locks.js';
export { webLocksCoordinator } from './coordinator/web-locks.js';
export type { TesseraClient, TesseraClientOptions } from './core/client.js';
export { createTesseraClient } from './core/client.js';
export type {
  ClientState,
  Clock,
  Coordinator,
  CoordinatorPort,
  Scheduler,
  Session,
  SessionMessage,
  TesseraEvents,
  TokenStorage,
} from './core/types.js';
export { memoryStorage } from './storage/memory.js';
