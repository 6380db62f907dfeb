import type { TesseraClient } from '@tessera/client';
import { useSessionStore } from './tessera-provider.js';

/** The client of the nearest {@link TesseraProvider} (for `createFetch`, `attachAxios`, `refresh`). */
export function useTesseraClient(): TesseraClient {
  return useSessionStore('useTesseraClient()').client;
}
