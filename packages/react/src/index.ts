/**
 * React bindings for the Tessera client SDK (`@tessera/react`): a provider, `useSession()`,
 * `useAccessToken()`, `useTesseraClient()` and `<SessionGate>`. React 18 and 19; nothing here
 * touches a browser global at import, so it renders on a server.
 */
export type { SessionGateProps } from './session-gate.js';
export { SessionGate } from './session-gate.js';
export type { SessionStatus, SessionStore, SessionView } from './session-store.js';
export { createSessionStore } from './session-store.js';
export type { TesseraProviderProps } from './tessera-provider.js';
export { TesseraProvider } from './tessera-provider.js';
export { useAccessToken } from './use-access-token.js';
export { useSession } from './use-session.js';
export { useTesseraClient } from './use-tessera-client.js';
export type { UserClaims } from './user-claims.js';
export { userClaims } from './user-claims.js';
