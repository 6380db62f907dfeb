import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AUTH_API_PATH,
  CSRF_HEADER,
  CSRF_HEADER_VALUE,
  decodeBasicCredentials,
  ENDPOINTS,
  encodeBasicCredentials,
  OPAQUE_ACCESS_TOKEN_PREFIX,
  REFRESH_TOKEN_PREFIX,
  REVOCATION_FEED_METADATA,
  systemClock,
} from '../src/index.js';

// Everything else imports these constants, so this is the one place their values are pinned:
// they are the wire contract with clients, resource servers and secret scanners already deployed.
describe('wire constants', () => {
  it('keeps the endpoint paths', () => {
    assert.deepEqual(ENDPOINTS, {
      token: '/oauth/token',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      revocationFeed: '/oauth/revocations',
      login: '/api/auth/login',
      refresh: '/api/auth/refresh',
      logout: '/api/auth/logout',
      metadata: '/.well-known/oauth-authorization-server',
      jwks: '/.well-known/jwks.json',
    });
    assert.equal(AUTH_API_PATH, '/api/auth');
  });

  it('keeps the CSRF header, the token prefixes and the feed metadata name', () => {
    assert.equal(CSRF_HEADER, 'X-Tessera-CSRF');
    assert.equal(CSRF_HEADER_VALUE, '1');
    assert.equal(REFRESH_TOKEN_PREFIX, 'tsr_');
    assert.equal(OPAQUE_ACCESS_TOKEN_PREFIX, 'tsa_');
    assert.equal(REVOCATION_FEED_METADATA, 'tessera_revocations_endpoint');
  });

  it('reads the wall clock', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });
});

describe('Basic client credentials (RFC 6749 §2.3.1)', () => {
  it('encodes as the RFC example does', () => {
    assert.equal(
      encodeBasicCredentials('s6BhdRkqt3', '7Fjfp0ZBr1KtDRbnfVdmIw'),
      'Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3',
    );
  });

  it('form-encodes each part, so a colon, a plus, a space or any Unicode survives', () => {
    const header = encodeBasicCredentials('a:b c', 'p+w%d ü €');
    assert.equal(atob(header.slice(6)), 'a%3Ab+c:p%2Bw%25d+%C3%BC+%E2%82%AC');
    assert.deepEqual(decodeBasicCredentials(header), { id: 'a:b c', secret: 'p+w%d ü €' });
  });

  it('round-trips any id and secret', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 80 }),
        (id, secret) => {
          assert.deepEqual(decodeBasicCredentials(encodeBasicCredentials(id, secret)), { id, secret });
        },
      ),
    );
  });

  it('reads credentials that a client sent without form-encoding (raw UTF-8)', () => {
    const raw = btoa(String.fromCharCode(...new TextEncoder().encode('client:sécret')));
    assert.deepEqual(decodeBasicCredentials(`Basic ${raw}`), { id: 'client', secret: 'sécret' });
  });

  it('refuses another scheme and malformed credentials', () => {
    for (const header of [
      'Bearer abc',
      'basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3',
      'Basic not-base64-without-colon',
      `Basic ${btoa('no colon')}`,
      `Basic ${btoa(':secret-without-id')}`,
      `Basic ${btoa('bad%escape:x')}`,
      `Basic ${btoa('id:%E2%82')}`,
      'Basic ',
    ]) {
      assert.equal(decodeBasicCredentials(header), undefined, header);
    }
  });
});
