import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewTokenSet, SealedColumns, VaultStore } from '../store/vault-store.js';

const sealed = (tag: string): SealedColumns => ({
  access_token: `v1.k1.iv.${tag}-at`,
  token_type: 'v1.k1.iv.tt',
  expiry: 'v1.k1.iv.ex',
  refresh_token: `v1.k1.iv.${tag}-rt`,
  id_token: null,
  scope: null,
});

const set = (userId: string, connection = 'default', tag = 'a'): NewTokenSet => ({
  userId,
  connection,
  issuer: 'https://idp.test',
  sealed: sealed(tag),
  keyId: 'k1',
  refreshedAt: 1000,
  updatedAt: 1000,
  purgeAt: null,
});

/**
 * The conformance suite every `VaultStore` runs (SQLite, PostgreSQL, and any adapter of
 * yours), under `node:test`: the compare-and-swap rules the lease and the fencing depend on,
 * paging for `rekey`, purging, and single-use pending sign-ins. `open` gives a fresh, empty
 * store (a new file, schema or prefix); each case opens its own and closes it.
 *
 * @example
 * import { describeVaultStoreConformance } from '@tessera/vault/testing';
 * describeVaultStoreConformance('postgres', () => openPostgresVaultStore(url, { schema: freshSchema() }));
 */
export function describeVaultStoreConformance(name: string, open: () => Promise<VaultStore>): void {
  describe(`vault store conformance: ${name}`, () => {
    const withStore = (fn: (s: VaultStore) => Promise<void>) => async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it(
      'put inserts at version 1 and replaces with a bumped version, clearing lease and backoff',
      withStore(async (s) => {
        assert.equal(await s.put(set('u1')), 1);
        const row = await s.get('u1', 'default');
        assert.equal(row?.state, 'active');
        assert.equal(row?.issuer, 'https://idp.test');
        assert.equal(row?.sealed?.access_token, 'v1.k1.iv.a-at');
        assert.equal(row?.sealed?.id_token, null);
        await s.update(
          'u1',
          'default',
          1,
          { leaseOwner: 'x', leaseUntil: 5000, state: 'refresh_backoff', retryAt: 9, failures: 2 },
          true,
        );
        assert.equal(await s.put(set('u1', 'default', 'b')), 3);
        const replaced = await s.get('u1', 'default');
        assert.equal(replaced?.leaseOwner, null);
        assert.equal(replaced?.leaseUntil, null);
        assert.equal(replaced?.state, 'active');
        assert.equal(replaced?.failures, 0);
        assert.equal(replaced?.retryAt, null);
        assert.equal(replaced?.sealed?.access_token, 'v1.k1.iv.b-at');
        assert.equal(await s.get('u1', 'other'), undefined);
      }),
    );

    it(
      'update is a compare-and-swap on the version: exactly one of two racers wins',
      withStore(async (s) => {
        await s.put(set('u2'));
        const [a, b] = await Promise.all([
          s.update('u2', 'default', 1, { leaseOwner: 'A', leaseUntil: 10 }, true),
          s.update('u2', 'default', 1, { leaseOwner: 'B', leaseUntil: 10 }, true),
        ]);
        assert.deepEqual(
          [a, b].filter((v) => v !== undefined),
          [2],
        );
        const row = await s.get('u2', 'default');
        assert.equal(row?.version, 2);
        assert.equal(row?.leaseOwner, a === 2 ? 'A' : 'B');
        // A stale version never writes.
        assert.equal(await s.update('u2', 'default', 1, { sealed: sealed('stale') }, true), undefined);
        assert.equal((await s.get('u2', 'default'))?.sealed?.access_token, 'v1.k1.iv.a-at');
        // Without bump the version stays (lazy re-encryption must not fence out a holder).
        assert.equal(await s.update('u2', 'default', 2, { keyId: 'k2' }, false), 2);
        assert.equal((await s.get('u2', 'default'))?.keyId, 'k2');
        // sealed: null clears every token column (a tombstone).
        assert.equal(
          await s.update(
            'u2',
            'default',
            2,
            { sealed: null, state: 'needs_reauthorization', lastError: '{"error":"invalid_grant"}' },
            true,
          ),
          3,
        );
        const tomb = await s.get('u2', 'default');
        assert.equal(tomb?.sealed, null);
        assert.equal(tomb?.state, 'needs_reauthorization');
        assert.equal(tomb?.lastError, '{"error":"invalid_grant"}');
        assert.equal(await s.update('nobody', 'default', 1, { failures: 1 }, true), undefined);
      }),
    );

    it(
      '100 concurrent lease attempts on one version: one winner',
      withStore(async (s) => {
        await s.put(set('u3'));
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            s.update('u3', 'default', 1, { leaseOwner: `o${i}`, leaseUntil: 1 }, true),
          ),
        );
        assert.equal(results.filter((r) => r !== undefined).length, 1);
      }),
    );

    it(
      "lists a user's connections, pages every row in order, finds idle sets",
      withStore(async (s) => {
        await s.put(set('p', 'b'));
        await s.put(set('p', 'a'));
        await s.put({ ...set('q'), refreshedAt: 50 });
        assert.deepEqual(
          (await s.listUser('p')).map((r) => r.connection),
          ['a', 'b'],
        );
        const first = await s.page(undefined, 2);
        assert.deepEqual(
          first.map((r) => `${r.userId}/${r.connection}`),
          ['p/a', 'p/b'],
        );
        const next = await s.page({ userId: 'p', connection: 'b' }, 2);
        assert.deepEqual(
          next.map((r) => `${r.userId}/${r.connection}`),
          ['q/default'],
        );
        assert.deepEqual(
          (await s.idle(100, 10)).map((r) => r.userId),
          ['q'],
        );
        const counts = await s.countByState();
        assert.equal(counts.active, 3);
        assert.equal(await s.remove('p', 'a'), 1);
        assert.equal(await s.remove('p'), 1);
        assert.equal((await s.listUser('p')).length, 0);
      }),
    );

    it(
      'purges rows whose purgeAt passed, and expired sign-ins',
      withStore(async (s) => {
        await s.put({ ...set('old'), purgeAt: 100 });
        await s.put({ ...set('new'), purgeAt: 10_000 });
        await s.putSignIn('h1', 'payload-1', 100);
        await s.putSignIn('h2', 'payload-2', 10_000);
        assert.deepEqual(await s.purge(500), { connections: 1, signIns: 1 });
        assert.equal(await s.get('old', 'default'), undefined);
        assert.ok(await s.get('new', 'default'));
      }),
    );

    it(
      'a sign-in is taken once; an expired one is not returned',
      withStore(async (s) => {
        await s.putSignIn('h', 'payload', 1000);
        const [a, b] = await Promise.all([s.takeSignIn('h', 10), s.takeSignIn('h', 10)]);
        assert.deepEqual([a, b].filter(Boolean), ['payload']);
        await s.putSignIn('late', 'payload', 1000);
        assert.equal(await s.takeSignIn('late', 2000), undefined);
      }),
    );

    it(
      'pages pending sign-ins not yet expired, in state-hash order',
      withStore(async (s) => {
        await s.putSignIn('c', 'payload-c', 5000);
        await s.putSignIn('a', 'payload-a', 5000);
        await s.putSignIn('b', 'payload-b', 100); // expired at 1000
        await s.putSignIn('d', 'payload-d', 5000);
        const first = await s.pageSignIns(undefined, 2, 1000);
        assert.deepEqual(first, [
          { stateHash: 'a', sealed: 'payload-a', expiresAt: 5000 },
          { stateHash: 'c', sealed: 'payload-c', expiresAt: 5000 },
        ]);
        assert.deepEqual(
          (await s.pageSignIns('c', 2, 1000)).map((r) => r.stateHash),
          ['d'],
        );
        assert.deepEqual(await s.pageSignIns('d', 2, 1000), []);
      }),
    );

    it(
      'replaceSignIn is a compare-and-swap on the payload and never brings a taken sign-in back',
      withStore(async (s) => {
        await s.putSignIn('h', 'old', 5000);
        assert.equal(await s.replaceSignIn('h', 'stale', 'new'), false);
        assert.equal(await s.replaceSignIn('h', 'old', 'new'), true);
        assert.equal(await s.replaceSignIn('h', 'old', 'newer'), false);
        assert.equal(await s.takeSignIn('h', 10), 'new');
        assert.equal(await s.replaceSignIn('h', 'new', 'again'), false);
        assert.equal(await s.takeSignIn('h', 10), undefined);
        assert.equal(await s.replaceSignIn('unknown', 'x', 'y'), false);
      }),
    );
  });
}
