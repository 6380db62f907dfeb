import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SESSION_END_REASONS } from '@tessera/protocol';
import type { FamilyRecord, RefreshTokenRecord, RotateInput, Stores } from '../ports/index.js';
import { childOf, newFamily, newToken, seeded, T0, uniqueId } from './fixtures.js';

/** `SessionStore`: families, refresh tokens, rotation, revocation (with its feed notice), lineage. */
export function sessionStoreCases(get: () => Stores): void {
  const sessions = () => get().sessions;

  it('creates a family with its first token and finds both', async () => {
    const { f, t } = await seeded(sessions());
    const found = await sessions().findToken(f.id, t.hash);
    assert.deepEqual(found?.family, f);
    assert.deepEqual({ ...found?.token, graceResponse: null }, t);
    assert.equal(await sessions().findToken(f.id, 'nope'), null);
    assert.deepEqual(await sessions().findFamily(f.id), f);
  });

  it('findToken looks within the named family only, and finds any generation of it', async () => {
    const { f, t } = await seeded(sessions());
    const other = await seeded(sessions());
    assert.equal(await sessions().findToken(other.f.id, t.hash), null, "another family's name");
    assert.equal(await sessions().findToken('no-such-family', t.hash), null);
    // Five rotations: the first token is now an old ancestor, found all the same.
    const lineage = [t];
    for (let g = 0; g < 5; g++) {
      const parent = lineage.at(-1)!;
      const child = childOf(f, parent);
      const r = await sessions().rotate({
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
      const found = await sessions().findToken(f.id, tok.hash);
      assert.equal(found?.token.generation, g);
      assert.equal(found?.token.status, g === 5 ? 'active' : 'rotated');
      assert.equal(found?.family.generation, 5);
      // Only the current token's parent carries the sealed answer.
      assert.equal(found?.token.graceResponse !== null, g === 4, `generation ${g}`);
    }
  });

  it('rotate: marks the parent rotated with its sealed answer, inserts the child, moves the generation', async () => {
    const { f, t } = await seeded(sessions());
    const child = childOf(f, t);
    const box = new Uint8Array([1, 2, 3, 4]);
    const r = await sessions().rotate({
      parentHash: t.hash,
      parentGeneration: 0,
      child,
      graceResponse: box,
      now: T0 + 1000,
    });
    assert.deepEqual(r, { outcome: 'rotated' });
    const parent = await sessions().findToken(f.id, t.hash);
    assert.equal(parent?.token.status, 'rotated');
    assert.equal(parent?.token.rotatedAt, T0 + 1000);
    assert.deepEqual(Buffer.from(parent!.token.graceResponse!), Buffer.from(box));
    assert.equal(parent?.family.generation, 1);
    assert.equal(parent?.family.lastRefreshAt, T0 + 1000);
    assert.equal((await sessions().findToken(f.id, child.hash))?.token.status, 'active');
  });

  it('rotate: only one of many concurrent rotations of one parent wins', async () => {
    const { f, t } = await seeded(sessions());
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        sessions().rotate({
          parentHash: t.hash,
          parentGeneration: 0,
          child: childOf(f, t),
          graceResponse: new Uint8Array(4),
          now: T0 + 1000,
        }),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === 'rotated').length, 1);
    assert.equal((await sessions().listTokens(f.id)).length, 2);
  });

  it('rotate: concurrent rotations of different families are isolated (one failing does not undo the others)', async () => {
    const all = await Promise.all(Array.from({ length: 5 }, () => seeded(sessions())));
    const children = all.map(({ f, t }) => childOf(f, t));
    // The third child has a status no store accepts: a bug in that one rotation only.
    children[2] = { ...children[2]!, status: 'bogus' as RefreshTokenRecord['status'] };
    const results = await Promise.allSettled(
      all.map(({ t }, i) =>
        sessions().rotate({
          parentHash: t.hash,
          parentGeneration: 0,
          child: children[i]!,
          graceResponse: new Uint8Array(4),
          now: T0 + 1,
          events: [{ at: T0 + 1, type: 'token.refreshed', familyId: all[i]!.f.id }],
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : 'error')),
      ['rotated', 'rotated', 'error', 'rotated', 'rotated'],
    );
    for (const [i, { f }] of all.entries()) {
      const lineage = await sessions().listTokens(f.id);
      assert.equal(lineage.length, i === 2 ? 1 : 2, `family ${i}`);
      const events = await get().events.list({ familyId: f.id, type: 'token.refreshed' });
      assert.equal(events.length, i === 2 ? 0 : 1, 'the event is written if and only if the rotation is');
    }
  });

  it('rotate: conflicts change nothing (parent rotated, generation moved, family revoked)', async () => {
    const { f, t } = await seeded(sessions());
    await sessions().rotate({
      parentHash: t.hash,
      parentGeneration: 0,
      child: childOf(f, t),
      graceResponse: new Uint8Array(4),
      now: T0 + 1,
    });
    const again = await sessions().rotate({
      parentHash: t.hash,
      parentGeneration: 0,
      child: childOf(f, t),
      graceResponse: new Uint8Array(4),
      now: T0 + 2,
    });
    assert.deepEqual(again, { outcome: 'conflict' });
    assert.equal((await sessions().listTokens(f.id)).length, 2);

    const other = await seeded(sessions());
    await sessions().revokeFamily(other.f.id, { reason: 'admin_revoked', now: T0, noticeUntil: T0 + 1000 });
    const revoked = await sessions().rotate({
      parentHash: other.t.hash,
      parentGeneration: 0,
      child: childOf(other.f, other.t),
      graceResponse: new Uint8Array(4),
      now: T0 + 2,
    });
    assert.deepEqual(revoked, { outcome: 'conflict' });
    assert.equal((await sessions().listTokens(other.f.id)).length, 1);
  });

  it('rotate keeps only the newest sealed answer of a family', async () => {
    const { f, t } = await seeded(sessions());
    const c1 = childOf(f, t);
    await sessions().rotate({
      parentHash: t.hash,
      parentGeneration: 0,
      child: c1,
      graceResponse: new Uint8Array(4),
      now: T0 + 1,
    });
    const c2 = childOf(f, c1);
    await sessions().rotate({
      parentHash: c1.hash,
      parentGeneration: 1,
      child: c2,
      graceResponse: new Uint8Array(4),
      now: T0 + 2,
    });
    const lineage = await sessions().listTokens(f.id);
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
    const { f, t } = await seeded(sessions());
    const feed = get().revocationFeed;
    const before = await feed.listRevocations(0, T0);
    const lastSeq = before.at(-1)?.seq ?? 0;
    assert.equal(
      await sessions().revokeFamily(f.id, { reason: 'logout', now: T0 + 5, noticeUntil: T0 + 60_000 }),
      true,
    );
    assert.equal(
      await sessions().revokeFamily(f.id, { reason: 'logout', now: T0 + 6, noticeUntil: T0 + 60_000 }),
      false,
    );
    const found = await sessions().findToken(f.id, t.hash);
    assert.equal(found?.family.status, 'revoked');
    assert.equal(found?.family.endReason, 'logout');
    assert.equal(found?.family.endedAt, T0 + 5);
    assert.equal(found?.family.endedBy, null, 'nobody named');
    assert.equal(found?.family.endNote, null);
    assert.equal(found?.token.status, 'revoked');
    const notices = await feed.listRevocations(lastSeq, T0);
    assert.deepEqual(
      notices.map((x) => [x.kind, x.value, x.expiresAt]),
      [['family', f.id, T0 + 60_000]],
    );
    assert.deepEqual(await feed.listRevocations(lastSeq, T0 + 60_000), []);
  });

  it('revokeFamily keeps every end reason, with who ended it and why, in the same write', async () => {
    for (const reason of SESSION_END_REASONS) {
      const { f } = await seeded(sessions());
      const by = reason === 'admin_revoked' ? 'admin' : undefined;
      const note = reason === 'admin_revoked' ? 'support ticket 42: "stolen phone"' : undefined;
      assert.equal(
        await sessions().revokeFamily(f.id, { reason, by, note, now: T0 + 9, noticeUntil: T0 + 10 }),
        true,
      );
      const row = await sessions().findFamily(f.id);
      assert.deepEqual(
        {
          status: row?.status,
          reason: row?.endReason,
          by: row?.endedBy,
          note: row?.endNote,
          at: row?.endedAt,
        },
        { status: 'revoked', reason, by: by ?? null, note: note ?? null, at: T0 + 9 },
      );
      // A second end changes nothing: the first reason stays.
      assert.equal(
        await sessions().revokeFamily(f.id, { reason: 'logout', now: T0 + 20, noticeUntil: T0 + 21 }),
        false,
      );
      assert.equal((await sessions().findFamily(f.id))?.endReason, reason);
    }
  });

  it('listFamilies pages newest first by (createdAt, id) with a keyset, and filters by start time', async () => {
    const user = uniqueId('pager');
    const made: FamilyRecord[] = [];
    // Two share a start time: the id decides between them.
    for (const at of [T0 + 1, T0 + 2, T0 + 2, T0 + 3, T0 + 4]) {
      const f = newFamily({ userId: user, createdAt: at });
      await sessions().createFamily(f, newToken(f));
      made.push(f);
    }
    const order = [...made].sort(
      (x, y) => y.createdAt - x.createdAt || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0),
    );
    const seen: string[] = [];
    let before: { createdAt: number; id: string } | undefined;
    for (;;) {
      const page = await sessions().listFamilies({ userId: user, limit: 2, ...(before ? { before } : {}) });
      seen.push(...page.map((f) => f.id));
      const last = page.at(-1);
      if (page.length < 2 || !last) break;
      before = { createdAt: last.createdAt, id: last.id };
    }
    assert.deepEqual(
      seen,
      order.map((f) => f.id),
    );
    const recent = await sessions().listFamilies({ userId: user, createdAfter: T0 + 3 });
    assert.deepEqual(
      recent.map((f) => f.createdAt),
      [T0 + 4, T0 + 3],
    );
  });

  it('revokeFamilies ends every active family of a user, or of a client', async () => {
    const user = uniqueId('user');
    const a = newFamily({ userId: user });
    const b = newFamily({ userId: user, clientId: 'mobile' });
    await sessions().createFamily(a, newToken(a));
    await sessions().createFamily(b, newToken(b));
    const ended = await sessions().revokeFamilies(
      { userId: user },
      { reason: 'admin_revoked', by: 'alice', note: 'lost laptop', now: T0, noticeUntil: T0 + 1 },
    );
    assert.deepEqual(ended.sort(), [a.id, b.id].sort());
    for (const id of ended) {
      const row = await sessions().findFamily(id);
      assert.deepEqual(
        [row?.endReason, row?.endedBy, row?.endNote, row?.endedAt],
        ['admin_revoked', 'alice', 'lost laptop', T0],
      );
    }
    assert.deepEqual(await sessions().listFamilies({ userId: user, status: 'active' }), []);
    assert.equal((await sessions().listFamilies({ userId: user })).length, 2);
  });

  it('keeps the DPoP key a family is bound to at creation', async () => {
    const f = newFamily({ dpopJkt: 'jkt-at-sign-in' });
    const t = newToken(f);
    await sessions().createFamily(f, t);
    assert.equal((await sessions().findFamily(f.id))?.dpopJkt, 'jkt-at-sign-in');
    assert.equal((await sessions().findToken(f.id, t.hash))?.family.dpopJkt, 'jkt-at-sign-in');
    assert.equal(
      (await sessions().listFamilies({ userId: f.userId })).find((x) => x.id === f.id)?.dpopJkt,
      'jkt-at-sign-in',
    );
  });

  it('rotate never binds a family to a key (sessions are bound at sign-in only)', async () => {
    const { f, t } = await seeded(sessions());
    const child = childOf(f, t);
    const input: RotateInput = {
      parentHash: t.hash,
      parentGeneration: 0,
      child,
      graceResponse: new Uint8Array([1]),
      now: T0 + 1000,
    };
    // Sessions are bound at sign-in only: the rotation has no way to bind one.
    // @ts-expect-error there is no binding input on a rotation
    input.bindDpopJkt = 'thief-key';
    assert.deepEqual(await sessions().rotate(input), { outcome: 'rotated' });
    assert.equal((await sessions().findToken(f.id, child.hash))?.family.dpopJkt, null);
  });
}
