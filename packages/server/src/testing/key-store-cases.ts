import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { KeyRecord, Stores } from '../ports/index.js';
import { T0, uniqueId } from './fixtures.js';

/** `KeyStore`: key rings, initialised once, rotated atomically. */
export function keyStoreCases(get: () => Stores): void {
  it('keys: initialised once; rotation is atomic and refuses a stale view', async () => {
    const { keys } = get();
    const key = (kid: string, state: KeyRecord['state']): KeyRecord => ({
      kid,
      alg: 'ES256',
      state,
      publicJwk: { kty: 'EC', crv: 'P-256', x: kid, y: kid },
      privateJwkSealed: new Uint8Array([9, 9]),
      createdAt: T0,
      activatedAt: state === 'current' ? T0 : null,
      retiredAt: null,
    });
    const ring = uniqueId('ring');
    assert.deepEqual(await keys.listKeys(ring), []);
    assert.equal(await keys.initKeys(ring, [key(`${ring}-1`, 'current'), key(`${ring}-2`, 'next')]), true);
    assert.equal(await keys.initKeys(ring, [key(`${ring}-x`, 'current')]), false);
    const other = uniqueId('ring');
    assert.equal(await keys.initKeys(other, [key(`${other}-1`, 'current')]), true, 'rings are independent');
    const current = (await keys.listKeys(ring)).find((k) => k.state === 'current')!;
    const next = (await keys.listKeys(ring)).find((k) => k.state === 'next')!;
    const rotate = (kid: string, now: number) =>
      keys.rotateKeys({
        ring,
        newNext: key(kid, 'next'),
        now,
        expectedCurrentKid: current.kid,
        dropRetiredBefore: 0,
      });
    assert.equal(await rotate(`${ring}-3`, T0 + 10), true);
    const after = await keys.listKeys(ring);
    assert.equal(after.find((k) => k.state === 'current')?.kid, next.kid);
    assert.equal(after.find((k) => k.state === 'retired')?.kid, current.kid);
    assert.equal(after.find((k) => k.state === 'next')?.kid, `${ring}-3`);
    assert.equal(await rotate(`${ring}-4`, T0 + 20), false, 'a stale view changes nothing');
    assert.equal((await keys.listKeys(ring)).length, 3);
    assert.equal((await keys.listKeys(other)).length, 1);
  });
}
