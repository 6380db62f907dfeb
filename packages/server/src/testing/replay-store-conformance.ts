import { after, before, describe } from 'node:test';
import type { ReplayStore } from '../ports/index.js';
import { replayStoreCases } from './replay-store-cases.js';

/** A port a suite has opened, and how to close it. */
export interface OpenedPort<T> {
  store: T;
  close(): Promise<void>;
}

/**
 * The `ReplayStore` part of the conformance suite, for an adapter that implements only that port
 * (a Redis replay store beside another adapter's durable state). `open` returns a fresh store.
 *
 * @example
 * import { describeReplayStoreConformance } from '@tessera/server/testing';
 * describeReplayStoreConformance('redis', async () => {
 *   const redis = new Redis(url);
 *   return { store: redisReplayStore(redis, { prefix: freshPrefix() }), close: () => redis.quit().then(() => {}) };
 * });
 */
export function describeReplayStoreConformance(
  name: string,
  open: () => Promise<OpenedPort<ReplayStore>>,
): void {
  describe(`replay store conformance: ${name}`, () => {
    let opened: OpenedPort<ReplayStore> | undefined;
    before(async () => {
      opened = await open();
    });
    after(async () => {
      await opened?.close();
    });
    replayStoreCases(() => {
      if (!opened) throw new Error('the replay store is not open (did `open` fail?)');
      return opened.store;
    });
  });
}
