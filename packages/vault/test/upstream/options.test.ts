import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createTokenVault, type TokenVaultOptions, VaultConfigError } from '../../src/index.js';
import { makeKeys } from '../support/vault-fixtures.js';

// Every case fails before any request is made (no network is touched).
const base: TokenVaultOptions = {
  issuer: 'https://idp.example.invalid',
  clientId: 'backend',
  clientSecret: 'secret-0123456789',
  database: ':memory:',
  keys: makeKeys(),
};

describe('createTokenVault: options are checked at start, with a clear message', () => {
  const cases: [string, Partial<TokenVaultOptions>, RegExp][] = [
    [
      'plain http off loopback',
      { issuer: 'http://idp.example.com' },
      /must use https \(plain http is allowed only on loopback\)/,
    ],
    ['not a URL', { issuer: 'idp' }, /is not a URL/],
    ['another scheme', { issuer: 'ftp://idp.example.com' }, /must be an https URL/],
    ['no secret and no key', { clientSecret: undefined }, /clientSecret is required/],
    [
      'private_key_jwt without a key',
      { clientSecret: undefined, clientAuth: 'private_key_jwt' },
      /needs key/,
    ],
    [
      'a lease shorter than two requests',
      { leaseMs: 1000, requestTimeoutMs: 1000 },
      /leaseMs \(1000\) must be more than twice/,
    ],
    ['no keys', { keys: undefined, env: {} }, /No vault keys/],
    ['a short key', { keys: { current: 'k1', k1: Buffer.alloc(16).toString('base64') } }, /16 bytes/],
  ];
  for (const [name, patch, message] of cases) {
    it(name, async () => {
      await assert.rejects(createTokenVault({ ...base, ...patch }), (err: unknown) => {
        assert.ok(err instanceof VaultConfigError, String(err));
        assert.equal(err.code, 'VaultConfigError');
        assert.match(err.message, message);
        assert.ok(!err.message.includes('secret-0123456789'));
        return true;
      });
    });
  }

  it('a loopback issuer that answers but serves no metadata names both discovery documents', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      await assert.rejects(
        createTokenVault({ ...base, issuer: `http://127.0.0.1:${port}` }),
        (err: unknown) => {
          assert.ok(err instanceof VaultConfigError, String(err));
          assert.match(err.message, /neither RFC 8414 nor OpenID Connect/);
          return true;
        },
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
