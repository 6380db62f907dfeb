import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Stores } from '../ports/index.js';
import { T0, uniqueId } from './fixtures.js';

/** `AccessTokenStore`: opaque access tokens, and revoked access-token ids (with their feed notice). */
export function accessTokenStoreCases(get: () => Stores): void {
  const accessTokens = () => get().accessTokens;

  it('opaque access tokens: found by hash until they expire, then cleaned up', async () => {
    const hash = uniqueId('at');
    await accessTokens().saveAccessToken(hash, '{"sub":"u"}', T0 + 1000);
    assert.equal(await accessTokens().findAccessToken(hash, T0), '{"sub":"u"}');
    assert.equal(await accessTokens().findAccessToken(hash, T0 + 1000), null);
    assert.equal(await accessTokens().findAccessToken(uniqueId('at'), T0), null);
  });

  it('revoked access-token ids are remembered until they expire', async () => {
    const jti = uniqueId('jti');
    await accessTokens().revokeJti(jti, T0 + 1000);
    assert.equal(await accessTokens().isJtiRevoked(jti, T0), true);
    assert.equal(await accessTokens().isJtiRevoked(jti, T0 + 1000), false);
    assert.equal(await accessTokens().isJtiRevoked(uniqueId('jti'), T0), false);
  });

  it('revoking an access-token id publishes a notice on the revocation feed until it expires', async () => {
    const feed = get().revocationFeed;
    const lastSeq = (await feed.listRevocations(0, T0, 10_000)).at(-1)?.seq ?? 0;
    const jti = uniqueId('jti');
    await accessTokens().revokeJti(jti, T0 + 1000);
    const notices = await feed.listRevocations(lastSeq, T0);
    assert.deepEqual(
      notices.map((x) => [x.kind, x.value, x.expiresAt]),
      [['jti', jti, T0 + 1000]],
    );
    assert.ok(notices[0]!.seq > lastSeq, 'the feed resumes after the last seq seen');
    assert.deepEqual(await feed.listRevocations(lastSeq, T0 + 1000), []);
  });
}
