import { describeReplayStoreConformance, describeStoreConformance } from '@tessera/server/testing';
import { openTestStores, pgSkip } from './support/pg.js';

// The same suites as SQLite's, every case, against a schema of this run's own.
const skip = pgSkip();
if (skip) {
  const { it } = await import('node:test');
  it('PostgreSQL conformance', { skip }, () => {});
} else {
  describeStoreConformance('postgres', () => openTestStores());
  describeReplayStoreConformance('postgres (the replay port alone)', async () => {
    const stores = await openTestStores();
    return { store: stores.replay, close: () => stores.close() };
  });
}
