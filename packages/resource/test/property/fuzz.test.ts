import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createResourceServer, type ResourceServer } from '../../src/core/create-resource-server.js';
import { AUDIENCE, FakeIssuer, manualClock, RS_CLIENT_ID, RS_CLIENT_SECRET } from '../support/fake-issuer.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random edit of a token: replace, insert or delete a character, truncate, or shuffle parts. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    ch: fc.constantFrom(...`${B64URL}.+/=~ `),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(...`${B64URL}.=`) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(2), b: fc.nat(2) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(token: string, m: Mutation): string {
  switch (m.kind) {
    case 'replace': {
      const i = m.at % token.length;
      return token.slice(0, i) + m.ch + token.slice(i + 1);
    }
    case 'insert': {
      const i = m.at % (token.length + 1);
      return token.slice(0, i) + m.ch + token.slice(i);
    }
    case 'delete': {
      const i = m.at % token.length;
      return token.slice(0, i) + token.slice(i + 1);
    }
    case 'truncate':
      return token.slice(0, m.at % token.length);
    case 'swap': {
      const parts = token.split('.');
      const a = parts[m.a]!;
      parts[m.a] = parts[m.b]!;
      parts[m.b] = a;
      return parts.join('.');
    }
  }
}

describe('property: the middleware never crashes and never accepts garbage', () => {
  let fake: FakeIssuer;
  let rs: ResourceServer;
  let valid: string;
  const clock = manualClock(Date.now());

  before(async () => {
    fake = await FakeIssuer.start();
    fake.nowSeconds = Math.floor(clock.now() / 1000);
    rs = createResourceServer({
      issuer: fake.issuer,
      audience: AUDIENCE,
      clientId: RS_CLIENT_ID,
      clientSecret: RS_CLIENT_SECRET,
      revocations: false,
      clock,
    });
    valid = await fake.sign();
    assert.ok(
      (await rs.authenticate(new Request('http://x/', { headers: { authorization: `Bearer ${valid}` } }))).ok,
    );
  });
  after(async () => {
    rs.close();
    await fake.close();
  });

  const refuse = async (authorization: string) => {
    const result = await rs.authenticateSources({
      authorization: [authorization],
      queryTokens: [],
      bodyTokens: [],
    });
    assert.equal(result.ok, false, authorization.slice(0, 80));
    assert.ok(!result.ok && [400, 401].includes(result.status), `status ${!result.ok && result.status}`);
  };

  it('random mutations of a valid token are refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const token = ms.reduce(mutate, valid);
        fc.pre(token !== valid);
        await refuse(`Bearer ${token}`);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes as token or as the whole header are refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.base64String(),
        ),
        fc.boolean(),
        async (s, asToken) => {
          await refuse(asToken ? `Bearer ${s}` : s === '' ? 'Bearer' : s);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random JSON as header and payload of a three-part token is refused', async () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (h, p) => {
        await refuse(`Bearer ${enc(h)}.${enc(p)}.${valid.split('.')[2]}`);
      }),
      { numRuns: 200 },
    );
  });
});
