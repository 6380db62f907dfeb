import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TesseraClient } from '../../src/index.js';
import { tokenForRetry } from '../../src/integrations/token-for-retry.js';

/** A client whose refresh answers `next` (or fails), recording what it was asked. */
function client(next: string | Error) {
  const asked: (string | undefined)[] = [];
  const c = {
    refresh: async (opts?: { ifAccessToken?: string }) => {
      asked.push(opts?.ifAccessToken);
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as TesseraClient;
  return { c, asked };
}

describe('tokenForRetry: the one 401 rule of the fetch and axios integrations', () => {
  it('a 401 for the sent token: refresh if it is still current, retry with the answer', async () => {
    const { c, asked } = client('at-2');
    assert.equal(await tokenForRetry(c, 401, 'at-1', false), 'at-2');
    assert.deepEqual(asked, ['at-1']);
  });

  for (const [name, status, sent, retried] of [
    ['not a 401', 403, 'at-1', false],
    ['a 200', 200, 'at-1', false],
    ['no token was sent (signed out)', 401, null, false],
    ['no token was sent (not attached)', 401, undefined, false],
    ['already the retry', 401, 'at-1', true],
  ] as const) {
    it(`no retry and no refresh: ${name}`, async () => {
      const { c, asked } = client('at-2');
      assert.equal(await tokenForRetry(c, status, sent, retried), undefined);
      assert.deepEqual(asked, []);
    });
  }

  it('no retry when the refresh fails or gives the same token', async () => {
    assert.equal(await tokenForRetry(client(new Error('down')).c, 401, 'at-1', false), undefined);
    assert.equal(await tokenForRetry(client('at-1').c, 401, 'at-1', false), undefined);
  });
});
