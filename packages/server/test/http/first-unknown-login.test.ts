import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import { startTestServer } from '../helpers/test-server.js';

/**
 * The stand-in hash that makes an unknown user's login cost what a known user's costs is made
 * at start. Its own file (its own process): no earlier login may have made it already.
 */
describe('timing: unknown users', () => {
  it('the first unknown-user login after start costs one password hash, not two', async () => {
    // A cost no other test in this process uses, so its stand-in hash is not made yet.
    const s = await startTestServer({ config: { passwordHashCost: 11 } });
    const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    const original = crypto.scrypt;
    let hashes = 0;
    try {
      await s.tessera.app.ready();
      crypto.scrypt = ((...args: Parameters<typeof original>) => {
        hashes++;
        return (original as (...a: unknown[]) => void)(...args);
      }) as typeof original;
      syncBuiltinESMExports();
      const res = await s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.login,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: 'nobody-here', password: 'some password', client_id: 'web' }),
      });
      assert.equal(res.statusCode, 401);
      assert.equal(hashes, 1, 'one hash, as for a known user');
    } finally {
      crypto.scrypt = original;
      syncBuiltinESMExports();
      await s.close();
    }
  });
});
