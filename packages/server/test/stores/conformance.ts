import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ClientRecord,
  DuplicateError,
  type FamilyRecord,
  type KeyRecord,
  type RefreshTokenRecord,
  type Stores,
} from '../../src/index.js';

/**
 * The storage conformance suite (SPEC §8): every adapter runs it. `open` returns fresh, empty
 * stores; the suite closes them.
 */
export function describeStoreConformance(name: string, open: () => Promise<Stores>): void {
  describe(`store conformance: ${name}`, () => {
    let stores: Stores;
    let n = 0;
    const T0 = 1_800_000_000_000;
    const id = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

    before(async () => {
      stores = await open();
    });
    after(async () => {
      await stores.close();
    });

    function family(over: Partial<FamilyRecord> = {}): FamilyRecord {
      return {
        id: id('fam'),
        clientId: 'web',
        userId: 'user-1',
        scope: 'openid',
        status: 'active',
        createdAt: T0,
        expiresAt: T0 + 30 * 86_400_000,
        generation: 0,
        lastRefreshAt: null,
        endedAt: null,
        endReason: null,
        userAgent: 'test',
        ip: '127.0.0.1',
        ...over,
      };
    }
    function token(f: FamilyRecord, over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
      return {
        hash: id('hash'),
        familyId: f.id,
        generation: 0,
        parentHash: null,
        status: 'active',
        issuedAt: T0,
        expiresAt: T0 + 14 * 86_400_000,
        rotatedAt: null,
        graceResponse: null,
        ...over,
      };
    }
    async function seeded() {
      const f = family();
      const t = token(f);
      await stores.sessions.createFamily(f, t);
      return { f, t };
    }
    const childOf = (f: FamilyRecord, parent: RefreshTokenRecord) =>
      token(f, { generation: parent.generation + 1, parentHash: parent.hash, issuedAt: T0 + 1000 });

    it('creates a family with its first token and finds both', async () => {
      const { f, t } = await seeded();
      const found = await stores.sessions.findToken(f.id, t.hash);
      assert.deepEqual(found?.family, f);
      assert.deepEqual({ ...found?.token, graceResponse: null }, t);
      assert.equal(await stores.sessions.findToken(f.id, 'nope'), null);
      assert.deepEqual(await stores.sessions.findFamily(f.id), f);
    });

    it('findToken looks within the named family only, and finds any generation of it', async () => {
      const { f, t } = await seeded();
      const other = await seeded();
      assert.equal(await stores.sessions.findToken(other.f.id, t.hash), null, "another family's name");
      assert.equal(await stores.sessions.findToken('no-such-family', t.hash), null);
      // Five rotations: the first token is now an old ancestor, found all the same.
      const lineage = [t];
      for (let g = 0; g < 5; g++) {
        const parent = lineage.at(-1)!;
        const child = childOf(f, parent);
        const r = await stores.sessions.rotate({
          parentHash: parent.hash,
          parentGeneration: parent.generation,
          child,
          graceResponse: new Uint8Array([g]),
          now: T0 + 1000 + g,
        });
        assert.deepEqual(r, { outcome: 'rotated' });
        lineage.push(child);
      }
      for (const [g, tok] of lineage.entries()) {
        const found = await stores.sessions.findToken(f.id, tok.hash);
        assert.equal(found?.token.generation, g);
        assert.equal(found?.token.status, g === 5 ? 'active' : 'rotated');
        assert.equal(found?.family.generation, 5);
        // Only the current token's parent carries the sealed answer.
        assert.equal(found?.token.graceResponse !== null, g === 4, `generation ${g}`);
      }
    });

    it('rotate: marks the parent rotated with its sealed answer, inserts the child, moves the generation', async () => {
      const { f, t } = await seeded();
      const child = childOf(f, t);
      const box = new Uint8Array([1, 2, 3, 4]);
      const r = await stores.sessions.rotate({
        parentHash: t.hash,
        parentGeneration: 0,
        child,
        graceResponse: box,
        now: T0 + 1000,
      });
      assert.deepEqual(r, { outcome: 'rotated' });
      const parent = await stores.sessions.findToken(f.id, t.hash);
      assert.equal(parent?.token.status, 'rotated');
      assert.equal(parent?.token.rotatedAt, T0 + 1000);
      assert.deepEqual(Buffer.from(parent!.token.graceResponse!), Buffer.from(box));
      assert.equal(parent?.family.generation, 1);
      assert.equal(parent?.family.lastRefreshAt, T0 + 1000);
      assert.equal((await stores.sessions.findToken(f.id, child.hash))?.token.status, 'active');
    });

    it('rotate: only one of many concurrent rotations of one parent wins', async () => {
      const { f, t } = await seeded();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          stores.sessions.rotate({
            parentHash: t.hash,
            parentGeneration: 0,
            child: childOf(f, t),
            graceResponse: new Uint8Array(4),
            now: T0 + 1000,
          }),
        ),
      );
      assert.equal(results.filter((r) => r.outcome === 'rotated').length, 1);
      assert.equal((await stores.sessions.listTokens(f.id)).length, 2);
    });

    it('rotate: concurrent rotations of different families are isolated (one failing does not undo the others)', async () => {
      const sessions = await Promise.all(Array.from({ length: 5 }, () => seeded()));
      const children = sessions.map(({ f, t }) => childOf(f, t));
      // The third child has a status no store accepts: a bug in that one rotation only.
      children[2] = { ...children[2]!, status: 'bogus' as RefreshTokenRecord['status'] };
      const results = await Promise.allSettled(
        sessions.map(({ t }, i) =>
          stores.sessions.rotate({
            parentHash: t.hash,
            parentGeneration: 0,
            child: children[i]!,
            graceResponse: new Uint8Array(4),
            now: T0 + 1,
            events: [{ at: T0 + 1, type: 'token.refreshed', familyId: sessions[i]!.f.id }],
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : 'error')),
        ['rotated', 'rotated', 'error', 'rotated', 'rotated'],
      );
      for (const [i, { f }] of sessions.entries()) {
        const lineage = await stores.sessions.listTokens(f.id);
        assert.equal(lineage.length, i === 2 ? 1 : 2, `family ${i}`);
        const events = await stores.events.list({ familyId: f.id, type: 'token.refreshed' });
        assert.equal(events.length, i === 2 ? 0 : 1, 'the event is written if and only if the rotation is');
      }
    });

    it('rotate: conflicts change nothing (parent rotated, generation moved, family revoked)', async () => {
      const { f, t } = await seeded();
      await stores.sessions.rotate({
        parentHash: t.hash,
        parentGeneration: 0,
        child: childOf(f, t),
        graceResponse: new Uint8Array(4),
        now: T0 + 1,
      });
      const again = await stores.sessions.rotate({
        parentHash: t.hash,
        parentGeneration: 0,
        child: childOf(f, t),
        graceResponse: new Uint8Array(4),
        now: T0 + 2,
      });
      assert.deepEqual(again, { outcome: 'conflict' });
      assert.equal((await stores.sessions.listTokens(f.id)).length, 2);

      const other = await seeded();
      await stores.sessions.revokeFamily(other.f.id, { reason: 'admin', now: T0, noticeUntil: T0 + 1000 });
      const revoked = await stores.sessions.rotate({
        parentHash: other.t.hash,
        parentGeneration: 0,
        child: childOf(other.f, other.t),
        graceResponse: new Uint8Array(4),
        now: T0 + 2,
      });
      assert.deepEqual(revoked, { outcome: 'conflict' });
      assert.equal((await stores.sessions.listTokens(other.f.id)).length, 1);
    });

    it('rotate keeps only the newest sealed answer of a family', async () => {
      const { f, t } = await seeded();
      const c1 = childOf(f, t);
      await stores.sessions.rotate({
        parentHash: t.hash,
        parentGeneration: 0,
        child: c1,
        graceResponse: new Uint8Array(4),
        now: T0 + 1,
      });
      const c2 = childOf(f, c1);
      await stores.sessions.rotate({
        parentHash: c1.hash,
        parentGeneration: 1,
        child: c2,
        graceResponse: new Uint8Array(4),
        now: T0 + 2,
      });
      const lineage = await stores.sessions.listTokens(f.id);
      assert.deepEqual(
        lineage.map((x) => [x.generation, x.status, x.graceResponse !== null]),
        [
          [0, 'rotated', false],
          [1, 'rotated', true],
          [2, 'active', false],
        ],
      );
    });

    it('revokeFamily ends the family and all its tokens once, and publishes a notice', async () => {
      const { f, t } = await seeded();
      const before = await stores.revocationFeed.listRevocations(0, T0);
      const lastSeq = before.at(-1)?.seq ?? 0;
      assert.equal(
        await stores.sessions.revokeFamily(f.id, { reason: 'logout', now: T0 + 5, noticeUntil: T0 + 60_000 }),
        true,
      );
      assert.equal(
        await stores.sessions.revokeFamily(f.id, { reason: 'logout', now: T0 + 6, noticeUntil: T0 + 60_000 }),
        false,
      );
      const found = await stores.sessions.findToken(f.id, t.hash);
      assert.equal(found?.family.status, 'revoked');
      assert.equal(found?.family.endReason, 'logout');
      assert.equal(found?.family.endedAt, T0 + 5);
      assert.equal(found?.token.status, 'revoked');
      const notices = await stores.revocationFeed.listRevocations(lastSeq, T0);
      assert.deepEqual(
        notices.map((x) => [x.kind, x.value, x.expiresAt]),
        [['family', f.id, T0 + 60_000]],
      );
      assert.deepEqual(await stores.revocationFeed.listRevocations(lastSeq, T0 + 60_000), []);
    });

    it('revokeFamilies ends every active family of a user, or of a client', async () => {
      const user = id('user');
      const a = family({ userId: user });
      const b = family({ userId: user, clientId: 'mobile' });
      await stores.sessions.createFamily(a, token(a));
      await stores.sessions.createFamily(b, token(b));
      const ended = await stores.sessions.revokeFamilies(
        { userId: user },
        { reason: 'admin', now: T0, noticeUntil: T0 + 1 },
      );
      assert.deepEqual(ended.sort(), [a.id, b.id].sort());
      assert.deepEqual(await stores.sessions.listFamilies({ userId: user, status: 'active' }), []);
      assert.equal((await stores.sessions.listFamilies({ userId: user })).length, 2);
    });

    it('opaque access tokens: found by hash until they expire, then cleaned up', async () => {
      const hash = id('at');
      await stores.accessTokens.saveAccessToken(hash, '{"sub":"u"}', T0 + 1000);
      assert.equal(await stores.accessTokens.findAccessToken(hash, T0), '{"sub":"u"}');
      assert.equal(await stores.accessTokens.findAccessToken(hash, T0 + 1000), null);
      assert.equal(await stores.accessTokens.findAccessToken(id('at'), T0), null);
    });

    it('revoked access-token ids are remembered until they expire', async () => {
      const jti = id('jti');
      await stores.accessTokens.revokeJti(jti, T0 + 1000);
      assert.equal(await stores.accessTokens.isJtiRevoked(jti, T0), true);
      assert.equal(await stores.accessTokens.isJtiRevoked(jti, T0 + 1000), false);
      assert.equal(await stores.accessTokens.isJtiRevoked(id('jti'), T0), false);
    });

    it('cleanup: expires lapsed families, deletes expired rows, keeps the family row as a tombstone', async () => {
      const idle = family({ createdAt: T0 });
      const idleToken = token(idle, { expiresAt: T0 + 1000 });
      await stores.sessions.createFamily(idle, idleToken);
      const short = family({ expiresAt: T0 + 2000 });
      await stores.sessions.createFamily(short, token(short, { expiresAt: T0 + 2000 }));
      const result = await stores.cleanup.sweep({ now: T0 + 1500, graceHorizon: T0 });
      assert.ok(result.tokensDeleted >= 1);
      const tomb = await stores.sessions.findFamily(idle.id);
      assert.equal(tomb?.status, 'expired');
      assert.equal(tomb?.endReason, 'idle_timeout');
      assert.equal(await stores.sessions.findToken(idle.id, idleToken.hash), null);
      await stores.cleanup.sweep({ now: T0 + 2500, graceHorizon: T0 });
      assert.equal(await stores.sessions.findFamily(short.id), null, 'deleted at its absolute expiry');
      assert.equal(
        (await stores.sessions.findFamily(idle.id))?.status,
        'expired',
        'tombstone kept until absolute expiry',
      );
    });

    it('directory: clients and users round-trip; usernames are unique', async () => {
      const client: ClientRecord = {
        id: id('client'),
        name: 'Test',
        public: false,
        secretHash: 'hash',
        grantTypes: ['refresh_token', 'client_credentials'],
        allowedScopes: ['a', 'b'],
        defaultScope: 'a',
        accessTokenTtl: 60,
        refreshGracePeriod: null,
        refreshIdleTtl: null,
        refreshAbsoluteTtl: null,
        requireNonce: true,
        introspectAny: false,
        createdAt: T0,
      };
      await stores.directory.saveClient(client);
      assert.deepEqual(await stores.directory.findClient(client.id), client);
      await stores.directory.saveClient({ ...client, name: 'Renamed' });
      assert.equal((await stores.directory.findClient(client.id))?.name, 'Renamed');
      assert.ok((await stores.directory.listClients()).some((c) => c.id === client.id));
      assert.equal(await stores.directory.deleteClient(client.id), true);
      assert.equal(await stores.directory.findClient(client.id), null);

      const username = id('alice');
      const user = {
        id: id('uid'),
        username,
        passwordHash: 'scrypt$...',
        roles: ['admin'],
        disabled: false,
        createdAt: T0,
      };
      await stores.directory.createUser(user);
      assert.deepEqual(await stores.directory.findUserByUsername(username), user);
      assert.deepEqual(await stores.directory.findUserById(user.id), user);
      await assert.rejects(stores.directory.createUser({ ...user, id: id('uid') }), DuplicateError);
      await stores.directory.updateUser({ ...user, disabled: true });
      assert.equal((await stores.directory.findUserById(user.id))?.disabled, true);
    });

    it('keys: initialised once; rotation is atomic and refuses a stale view', async () => {
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
      const ring = id('ring');
      assert.deepEqual(await stores.keys.listKeys(ring), []);
      assert.equal(
        await stores.keys.initKeys(ring, [key(`${ring}-1`, 'current'), key(`${ring}-2`, 'next')]),
        true,
      );
      assert.equal(await stores.keys.initKeys(ring, [key(`${ring}-x`, 'current')]), false);
      const other = id('ring');
      assert.equal(
        await stores.keys.initKeys(other, [key(`${other}-1`, 'current')]),
        true,
        'rings are independent',
      );
      const current = (await stores.keys.listKeys(ring)).find((k) => k.state === 'current')!;
      const next = (await stores.keys.listKeys(ring)).find((k) => k.state === 'next')!;
      const rotate = (kid: string, now: number) =>
        stores.keys.rotateKeys({
          ring,
          newNext: key(kid, 'next'),
          now,
          expectedCurrentKid: current.kid,
          dropRetiredBefore: 0,
        });
      assert.equal(await rotate(`${ring}-3`, T0 + 10), true);
      const after = await stores.keys.listKeys(ring);
      assert.equal(after.find((k) => k.state === 'current')?.kid, next.kid);
      assert.equal(after.find((k) => k.state === 'retired')?.kid, current.kid);
      assert.equal(after.find((k) => k.state === 'next')?.kid, `${ring}-3`);
      assert.equal(await rotate(`${ring}-4`, T0 + 20), false, 'a stale view changes nothing');
      assert.equal((await stores.keys.listKeys(ring)).length, 3);
      assert.equal((await stores.keys.listKeys(other)).length, 1);
    });

    it('events: appended in order, filtered, never rewritten', async () => {
      const fam = id('fam');
      await stores.events.append([
        { at: T0, type: 'token.issued', familyId: fam, userId: 'u', clientId: 'web' },
        {
          at: T0 + 1,
          type: 'token.refreshed',
          familyId: fam,
          userId: 'u',
          clientId: 'web',
          data: { generation: 1 },
        },
        { at: T0 + 2, type: 'session.ended', familyId: fam, reason: 'logout' },
      ]);
      const all = await stores.events.list({ familyId: fam });
      assert.deepEqual(
        all.map((e) => e.type),
        ['token.issued', 'token.refreshed', 'session.ended'],
      );
      assert.deepEqual(all[1]?.data, { generation: 1 });
      assert.ok(all[0]!.id < all[1]!.id);
      assert.deepEqual(
        (await stores.events.list({ familyId: fam, afterId: all[1]!.id })).map((e) => e.reason),
        ['logout'],
      );
    });

    it('replay: a key is accepted once until it expires', async () => {
      const key = id('nonce');
      assert.equal(await stores.replay.insertIfAbsent(key, T0 + 1000, T0), true);
      assert.equal(await stores.replay.insertIfAbsent(key, T0 + 1000, T0 + 1), false);
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, () => stores.replay.insertIfAbsent(`${key}-c`, T0 + 1000, T0)),
      );
      assert.equal(concurrent.filter(Boolean).length, 1);
      assert.equal(
        await stores.replay.insertIfAbsent(key, T0 + 5000, T0 + 1000),
        true,
        'reusable after expiry',
      );
    });

    it('ping answers while the store is reachable', async () => {
      await stores.ping();
    });
  });
}
