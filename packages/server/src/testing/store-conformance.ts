import { after, before, describe, it } from 'node:test';
import type { Stores } from '../ports/index.js';
import { accessTokenStoreCases } from './access-token-store-cases.js';
import { cleanupStoreCases } from './cleanup-store-cases.js';
import { directoryStoreCases } from './directory-store-cases.js';
import { counterStoreCases, eventStoreCases } from './event-store-cases.js';
import { keyStoreCases } from './key-store-cases.js';
import { replayStoreCases } from './replay-store-cases.js';
import { sessionStoreCases } from './session-store-cases.js';

/**
 * The storage conformance suite: every adapter that assembles a whole `Stores` runs it, under
 * `node:test`. `open` returns fresh stores (a new database, schema or key prefix, so runs never
 * see each other's rows); the suite opens them once and closes them at the end.
 *
 * @example
 * import { describeStoreConformance } from '@tessera/server/testing';
 * describeStoreConformance('postgres', async () => openPostgresStores({ url, schema: freshSchema() }));
 */
export function describeStoreConformance(name: string, open: () => Promise<Stores>): void {
  describe(`store conformance: ${name}`, () => {
    let stores: Stores | undefined;
    const get = (): Stores => {
      if (!stores) throw new Error('the stores are not open (did `open` fail?)');
      return stores;
    };
    before(async () => {
      stores = await open();
    });
    after(async () => {
      await stores?.close();
    });

    describe('sessions', () => sessionStoreCases(get));
    describe('access tokens', () => accessTokenStoreCases(get));
    describe('cleanup', () => cleanupStoreCases(get));
    describe('directory', () => directoryStoreCases(get));
    describe('keys', () => keyStoreCases(get));
    describe('events', () => eventStoreCases(get));
    describe('counters', () => counterStoreCases(get));
    describe('replay', () => replayStoreCases(() => get().replay));

    it('ping answers while the store is reachable', async () => {
      await get().ping();
    });
  });
}
