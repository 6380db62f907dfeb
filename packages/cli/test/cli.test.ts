import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import {
  createTessera,
  createUser,
  loadConfig,
  ManualClock,
  saveClient,
  type Tessera,
} from '@tessera/server';
import type { CliIO } from '../src/io.js';
import { runCli } from '../src/program.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

function fakeIO(
  env: Record<string, string> = {},
  stdin = '',
): CliIO & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    outLines,
    errLines,
    out: (t) => outLines.push(t),
    err: (t) => errLines.push(t),
    readStdin: async () => stdin,
    // No TESSERA_SECRET unless a test sets one: the master secret comes from `<db>.key`.
    env: { TESSERA_PASSWORD_HASH_COST: '10', ...env },
  };
}

async function cli(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const io = fakeIO(options.env, options.stdin);
  const code = await runCli(argv, io);
  return { code, out: io.outLines.join('\n'), err: io.errLines.join('\n') };
}

function json(run: Run): any {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.err}`);
  return JSON.parse(run.out);
}

describe('tessera CLI', () => {
  let dir: string;
  let db: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    db = join(dir, 'cli.db');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help and unknown commands', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: tessera/);
    assert.match(help.out, /clients/);
    const sub = await cli(['clients', 'add', '--help']);
    assert.equal(sub.code, 0);
    assert.match(sub.out, /--id <id>/);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command/);
  });

  describe('clients add', () => {
    it('adds a public client', async () => {
      const run = await cli(['clients', 'add', '--id', 'spa', '--public', '--create', '--db', db]);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /saved public client spa/);
      assert.doesNotMatch(run.out, /secret/);
      assert.ok(existsSync(`${db}.key`), 'the master secret was created beside the database');
    });

    it('says what the client may request: its scopes and default scope, or none', async () => {
      const none = await cli(['clients', 'add', '--id', 'bare', '--public', '--create', '--db', db]);
      assert.equal(none.code, 0, none.err);
      assert.match(none.out, /scopes: none \(it may request no scope/);
      const shop = await cli([
        'clients',
        'add',
        '--id',
        'shop',
        '--public',
        '--scope',
        'orders:read',
        '--default-scope',
        'openid',
        '--db',
        db,
      ]);
      assert.equal(shop.code, 0, shop.err);
      assert.match(
        shop.out,
        /scopes it may request: orders:read openid \(granted when it names none: openid\)/,
      );
      const listed = json(
        await cli([
          'clients',
          'add',
          '--id',
          'shop',
          '--public',
          '--scope',
          'orders:read',
          '--json',
          '--db',
          db,
        ]),
      );
      assert.deepEqual(listed.scopes, ['orders:read']);
      assert.equal(listed.defaultScope, '');
    });

    it('a confidential client gets a generated secret, shown once', async () => {
      const run = await cli(['clients', 'add', '--id', 'svc', '--grant', 'client_credentials', '--db', db]);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /saved confidential client svc \(grants: client_credentials\)/);
      const secret = /client secret \(shown once\): (\S+)/.exec(run.out)?.[1];
      assert.ok(secret && secret.length >= 40, run.out);
      // Never shown again.
      const list = await cli(['clients', 'list', '--db', db]);
      assert.equal(list.code, 0);
      assert.ok(!list.out.includes(secret));
      const listed = json(await cli(['clients', 'list', '--json', '--db', db]));
      const svc = listed.find((c: { id: string }) => c.id === 'svc');
      assert.equal(svc.public, false);
      assert.equal(svc.secretHash, undefined);
      assert.ok(!JSON.stringify(listed).includes(secret));

      // And it works against a server on the same database (same key file).
      const s = await startTestServer({ dbPath: db, masterSecret: readKeyFile(db) });
      try {
        const res = await s.token(
          { grant_type: 'client_credentials' },
          { authorization: basic('svc', secret) },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
      } finally {
        await s.close();
      }
    });

    it('--json shows the generated secret once, as JSON', async () => {
      const out = json(await cli(['clients', 'add', '--id', 'svc2', '--json', '--db', db]));
      assert.equal(out.id, 'svc2');
      assert.equal(out.public, false);
      assert.deepEqual(out.grantTypes, ['refresh_token']);
      assert.equal(typeof out.secret, 'string');
      // A given secret is never echoed in the human output.
      const given = await cli([
        'clients',
        'add',
        '--id',
        'svc3',
        '--secret',
        'a-given-secret-0123456789',
        '--db',
        db,
      ]);
      assert.equal(given.code, 0, given.err);
      assert.ok(!given.out.includes('a-given-secret-0123456789'));
    });

    it('--dpop and --dpop-nonce, public or confidential with the password and refresh grants', async () => {
      const spa = json(
        await cli(['clients', 'add', '--id', 'dpop-spa', '--public', '--dpop', '--json', '--db', db]),
      );
      assert.equal(spa.dpop, true);
      assert.equal(spa.dpopNonce, false);
      const backend = await cli([
        'clients',
        'add',
        '--id',
        'dpop-backend',
        '--grant',
        'password',
        '--grant',
        'refresh_token',
        '--dpop',
        '--dpop-nonce',
        '--db',
        db,
      ]);
      assert.equal(backend.code, 0, backend.err);
      assert.match(backend.out, /DPoP required; DPoP nonce/);
    });

    it('bad input exits 2 with a message', async () => {
      const badId = await cli(['clients', 'add', '--id', 'bad id!', '--public', '--db', db]);
      assert.equal(badId.code, 2);
      assert.match(badId.err, /client id/);
      const missing = await cli(['clients', 'add', '--public', '--db', db]);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /--id/);
      const publicSecret = await cli([
        'clients',
        'add',
        '--id',
        'x',
        '--public',
        '--secret',
        'a-given-secret-0123456789',
        '--db',
        db,
      ]);
      assert.equal(publicSecret.code, 2);
      const shortSecret = await cli(['clients', 'add', '--id', 'x', '--secret', 'short', '--db', db]);
      assert.equal(shortSecret.code, 2);
      assert.match(shortSecret.err, /16 characters/);
      const badGrant = await cli(['clients', 'add', '--id', 'x', '--grant', 'implicit', '--db', db]);
      assert.equal(badGrant.code, 2);
      assert.match(badGrant.err, /implicit/);
      const badTtl = await cli([
        'clients',
        'add',
        '--id',
        'x',
        '--public',
        '--access-token-ttl',
        'soon',
        '--db',
        db,
      ]);
      assert.equal(badTtl.code, 2);
      assert.match(badTtl.err, /--access-token-ttl/);
      assert.ok(
        !json(await cli(['clients', 'list', '--json', '--db', db])).some((c: { id: string }) => c.id === 'x'),
      );
    });
  });

  describe('users add', () => {
    it('reads the password from stdin', async () => {
      const run = await cli(
        ['users', 'add', '--username', 'bob', '--password-stdin', '--role', 'admin', '--json', '--db', db],
        {
          stdin: 'bob password 123\n',
        },
      );
      const user = json(run);
      assert.equal(user.username, 'bob');
      assert.deepEqual(user.roles, ['admin']);
      assert.ok(!run.out.includes('bob password 123'));
      const users = json(await cli(['users', 'list', '--json', '--db', db]));
      assert.equal(users.find((u: { username: string }) => u.username === 'bob')?.id, user.id);
      assert.ok(!JSON.stringify(users).includes('scrypt'), 'no password hash in the listing');
    });

    it('a duplicate exits 1; a short password or no password option exits 2', async () => {
      const dup = await cli(['users', 'add', '--username', 'bob', '--password-stdin', '--db', db], {
        stdin: 'another password',
      });
      assert.equal(dup.code, 1);
      assert.match(dup.err, /already exists/);
      const short = await cli(['users', 'add', '--username', 'carol', '--password-stdin', '--db', db], {
        stdin: 'short\n',
      });
      assert.equal(short.code, 2);
      assert.match(short.err, /password/);
      const none = await cli(['users', 'add', '--username', 'carol', '--db', db]);
      assert.equal(none.code, 2);
      const both = await cli([
        'users',
        'add',
        '--username',
        'carol',
        '--password',
        'carol password 1',
        '--password-stdin',
        '--db',
        db,
      ]);
      assert.equal(both.code, 2);
      const badName = await cli([
        'users',
        'add',
        '--username',
        'carol smith',
        '--password',
        'carol password 1',
        '--db',
        db,
      ]);
      assert.equal(badName.code, 2);
      assert.match(badName.err, /username/);
      assert.ok(
        !json(await cli(['users', 'list', '--json', '--db', db])).some((u: { username: string }) =>
          u.username.startsWith('carol'),
        ),
      );
    });
  });

  describe('keys', () => {
    it('list and rotate', async () => {
      const keys = json(await cli(['keys', 'list', '--json', '--db', db]));
      assert.deepEqual(keys.map((k: { state: string }) => k.state).sort(), ['current', 'next']);
      for (const k of keys) assert.equal(k.privateJwkSealed, undefined);
      const next = keys.find((k: { state: string }) => k.state === 'next').kid;
      const current = keys.find((k: { state: string }) => k.state === 'current').kid;
      const human = await cli(['keys', 'list', '--db', db]);
      assert.match(human.out, new RegExp(`${current}\\tES256\\tcurrent`));

      // The next key was published moments ago: resource servers may not have it yet, so refuse.
      const tooSoon = await cli(['keys', 'rotate', '--db', db]);
      assert.equal(tooSoon.code, 1);
      assert.match(tooSoon.err, /published \d+ s ago.*--force/);
      const rotated = json(await cli(['keys', 'rotate', '--force', '--json', '--db', db]));
      assert.equal(rotated.previous, current);
      assert.equal(rotated.current, next);
      const after = json(await cli(['keys', 'list', '--json', '--db', db]));
      const state = (kid: string) => after.find((k: { kid: string }) => k.kid === kid)?.state;
      assert.equal(state(current), 'retired');
      assert.equal(state(next), 'current');
      assert.equal(after.length, 3);
      const again = await cli(['keys', 'rotate', '--force', '--db', db]);
      assert.equal(again.code, 0);
      assert.match(again.out, new RegExp(`rotated: ${next} -> `));
    });
  });

  describe('sessions and token inspect', () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dbPath: db, masterSecret: readKeyFile(db) });
    });
    after(async () => {
      await s.close();
    });

    it('sessions list shows the session; revoke ends it for the running server', async () => {
      const one = await s.login('web');
      const two = await s.login('web');
      const sid = (token: string) =>
        JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
      const list = json(await cli(['sessions', 'list', '--json', '--status', 'active', '--db', db]));
      const row = list.find((r: { id: string }) => r.id === sid(one.access_token));
      assert.ok(row, JSON.stringify(list));
      assert.equal(row.user, s.aliceId);
      assert.equal(row.client, 'web');
      assert.equal(row.status, 'active');
      assert.equal(row.rotations, 0);
      assert.ok(!JSON.stringify(list).includes(one.refresh_token));

      const revoked = json(
        await cli(['sessions', 'revoke', sid(one.access_token), '--reason', 'test', '--json', '--db', db]),
      );
      assert.deepEqual(revoked, { revoked: [sid(one.access_token)] });
      assert.deepEqual(await s.introspect(one.refresh_token), { active: false });
      assert.deepEqual(await s.introspect(one.access_token), { active: false });
      const refused = await s.refresh(one.refresh_token);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error_code, 'token_revoked');
      assert.equal((await s.introspect(two.refresh_token)).active, true, 'the other session lives on');

      const twice = await cli(['sessions', 'revoke', sid(one.access_token), '--db', db]);
      assert.equal(twice.code, 0);
      assert.match(twice.out, /nothing to revoke/);
      const unknown = await cli(['sessions', 'revoke', 'no-such-session', '--db', db]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.err, /no session/);
      assert.equal((await cli(['sessions', 'revoke', '--db', db])).code, 2);
      assert.equal((await cli(['sessions', 'list', '--status', 'sleeping', '--db', db])).code, 2);
      assert.equal((await cli(['sessions', 'list', '--limit', '0', '--db', db])).code, 2);

      const byUser = json(await cli(['sessions', 'revoke', '--user', s.aliceId, '--json', '--db', db]));
      assert.ok(byUser.revoked.includes(sid(two.access_token)));
      assert.deepEqual(await s.introspect(two.refresh_token), { active: false });
      const revokedList = json(await cli(['sessions', 'list', '--json', '--status', 'revoked', '--db', db]));
      assert.equal(
        revokedList.find((r: { id: string }) => r.id === sid(one.access_token))?.endReason,
        'admin_revoked',
      );
      assert.deepEqual(
        (({ endedBy, endNote }) => ({ endedBy, endNote }))(
          revokedList.find((r: { id: string }) => r.id === sid(one.access_token)),
        ),
        { endedBy: 'cli', endNote: 'test' },
      );
    });

    it('token inspect decodes and checks a token without printing it', async () => {
      const tokens = await s.login('web');
      const at = json(await cli(['token', 'inspect', tokens.access_token, '--json', '--db', db]));
      assert.equal(at.format, 'JWT');
      assert.equal(at.header.typ, 'at+jwt');
      assert.equal(at.claims.sub, s.aliceId);
      assert.equal(at.active, true);
      assert.equal(at.introspection.client_id, 'web');
      const human = await cli(['token', 'inspect', '--db', db], { stdin: `${tokens.refresh_token}\n` });
      assert.equal(human.code, 0, human.err);
      assert.match(human.out, /format: {2}tessera refresh token \(opaque\)/);
      assert.match(human.out, /active: {2}true/);
      assert.ok(!human.out.includes(tokens.refresh_token));
      const humanAt = await cli(['token', 'inspect', tokens.access_token, '--db', db]);
      assert.ok(!humanAt.out.includes(tokens.access_token));

      await s.tessera.app.inject({
        method: 'POST',
        url: ENDPOINTS.revocation,
        payload: `client_id=web&token=${tokens.refresh_token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const dead = json(await cli(['token', 'inspect', tokens.refresh_token, '--json', '--db', db]));
      assert.equal(dead.active, false);
      assert.equal(dead.introspection, undefined);
      const garbage = json(await cli(['token', 'inspect', 'not-a-token', '--json', '--db', db]));
      assert.deepEqual(garbage, { format: 'unknown', active: false, reason: 'unknown, revoked or forged' });
    });
  });

  describe('configuration', () => {
    it('a bad environment value exits 2 naming the key', async () => {
      const run = await cli(['keys', 'list', '--db', db], { env: { TESSERA_ACCESS_TOKEN_TTL: 'abc' } });
      assert.equal(run.code, 2);
      assert.match(run.err, /TESSERA_ACCESS_TOKEN_TTL/);
      assert.match(run.err, /"abc"/);
      const alg = await cli(['keys', 'list', '--db', db], { env: { TESSERA_SIGNING_ALG: 'HS256' } });
      assert.equal(alg.code, 2);
      assert.match(alg.err, /TESSERA_SIGNING_ALG/);
    });

    it('a bad config file exits 2 naming the key', async () => {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ accesTokenTtl: 60 }));
      const unknownKey = await cli(['keys', 'list', '--config', file, '--db', db]);
      assert.equal(unknownKey.code, 2);
      assert.match(unknownKey.err, /accesTokenTtl/);
      writeFileSync(file, JSON.stringify({ refreshIdleTtl: '40d', refreshAbsoluteTtl: '30d' }));
      const inconsistent = await cli(['keys', 'list', '--config', file, '--db', db]);
      assert.equal(inconsistent.code, 2);
      assert.match(inconsistent.err, /TESSERA_REFRESH_IDLE_TTL/);
      const missing = await cli(['keys', 'list', '--config', join(dir, 'nope.json'), '--db', db]);
      assert.equal(missing.code, 2);
    });

    it('TESSERA_SECRET from the CLI environment is the master secret (no key file)', async () => {
      const secret = randomBytes(32);
      const db2 = join(dir, 'env-secret.db');
      const env = { TESSERA_SECRET: secret.toString('base64url') };
      const added = await cli(
        ['clients', 'add', '--id', 'svc', '--grant', 'client_credentials', '--json', '--create', '--db', db2],
        { env },
      );
      const { secret: clientSecret } = json(added);
      assert.ok(!existsSync(`${db2}.key`), 'no key file when TESSERA_SECRET is set');
      // A server with the same master secret can decrypt the keys and check the client secret.
      const s = await startTestServer({ dbPath: db2, masterSecret: secret });
      try {
        const res = await s.token(
          { grant_type: 'client_credentials' },
          { authorization: basic('svc', clientSecret) },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
      } finally {
        await s.close();
      }
      const short = await cli(['keys', 'list', '--db', db2], { env: { TESSERA_SECRET: 'c2hvcnQ' } });
      assert.equal(short.code, 2);
      assert.match(short.err, /TESSERA_SECRET/);
    });
  });
});

const PASSWORD = 'correct horse battery staple';

interface TestServer {
  tessera: Tessera;
  clock: ManualClock;
  aliceId: string;
  login(clientId: string): Promise<{ access_token: string; refresh_token: string }>;
  token(
    form: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  refresh(refreshToken: string): Promise<{ status: number; body: any }>;
  introspect(token: string): Promise<any>;
  close(): Promise<void>;
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * A server on the CLI's database (the server package's test helper lives outside this package's
 * rootDir): user alice, public client `web`, resource server `rs`, on a manual clock set to now.
 */
async function startTestServer(options: {
  dbPath: string;
  masterSecret: Buffer;
  config?: { port?: number };
}): Promise<TestServer> {
  const clock = new ManualClock(Date.now());
  const config = loadConfig({
    env: {},
    overrides: {
      db: options.dbPath,
      logLevel: 'silent',
      passwordHashCost: 10,
      rateLimitLogin: 0,
      rateLimitRefresh: 0,
      ...options.config,
    },
  });
  const tessera = await createTessera({
    config,
    clock,
    masterSecret: options.masterSecret,
    background: false,
  });
  const ctx = tessera.ctx;
  const alice =
    (await ctx.stores.directory.findUserByUsername('alice')) ??
    (await createUser(ctx, { username: 'alice', password: PASSWORD }));
  if (!(await ctx.stores.directory.findClient('web'))) {
    await saveClient(ctx, { id: 'web', public: true });
    await saveClient(ctx, {
      id: 'rs',
      public: false,
      secret: RS_SECRET,
      introspectAny: true,
      grantTypes: [],
    });
  }
  const post = async (url: string, payload: string, headers: Record<string, string>) => {
    const res = await tessera.app.inject({ method: 'POST', url, payload, headers });
    return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body) };
  };
  const formPost = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    post(url, new URLSearchParams(form).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  return {
    tessera,
    clock,
    aliceId: alice.id,
    async login(clientId) {
      const res = await post(
        ENDPOINTS.login,
        JSON.stringify({ username: 'alice', password: PASSWORD, client_id: clientId }),
        { 'content-type': 'application/json' },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    token: (form, headers) => formPost(ENDPOINTS.token, form, headers),
    refresh: (refreshToken) =>
      formPost(ENDPOINTS.token, {
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: refreshToken,
      }),
    async introspect(token) {
      const res = await formPost(
        ENDPOINTS.introspection,
        { token },
        { authorization: basic('rs', RS_SECRET) },
      );
      assert.equal(res.status, 200);
      return res.body;
    },
    close: () => tessera.close(),
  };
}

const RS_SECRET = 'resource-server-secret-0123456789';

function readKeyFile(db: string): Buffer {
  return Buffer.from(readFileSync(`${db}.key`, 'utf8').trim(), 'base64url');
}

describe('tessera CLI: what a newcomer runs into', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-new-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('an admin command refuses a database that does not exist, and creates nothing; --create makes one', async () => {
    const typo = join(dir, 'tesera.db');
    const run = await cli(['sessions', 'list', '--db', typo]);
    assert.equal(run.code, 1);
    assert.match(run.err, new RegExp(`no database at ${typo.replace(/[.]/g, '\\.')} \\(from --db\\)`));
    assert.match(run.err, /hint: start the server once .*--create/);
    assert.ok(!existsSync(typo) && !existsSync(`${typo}.key`), 'no database and no master key were made');
    const fromEnv = await cli(['users', 'list'], { env: { TESSERA_DB: typo } });
    assert.equal(fromEnv.code, 1);
    assert.match(fromEnv.err, /\(from TESSERA_DB\)/);
    const created = await cli(['users', 'list', '--create', '--db', typo]);
    assert.equal(created.code, 0, created.err);
    assert.ok(existsSync(typo) && existsSync(`${typo}.key`));
    assert.equal((await cli(['users', 'list', '--db', typo])).code, 0, 'and from then on it is found');
  });

  it('sessions revoke --user takes the username (or the id); sessions list shows username, client, status and end reason', async () => {
    const db = join(dir, 'users.db');
    const secret = randomBytes(32);
    const s = await startTestServer({ dbPath: db, masterSecret: secret });
    try {
      const env = { TESSERA_SECRET: secret.toString('base64url') };
      await s.login('web');
      await s.login('web');
      const list = await cli(['sessions', 'list', '--db', db], { env });
      assert.equal(list.code, 0, list.err);
      const [header, ...lines] = list.out.split('\n');
      assert.match(header!, /^SESSION +USER +CLIENT +STATUS +END REASON +STARTED +LAST REFRESH +ROTATIONS$/);
      assert.equal(lines.length, 2);
      for (const line of lines) assert.match(line, /^\S+ +alice +web +active +- +\d{4}-/);
      const filtered = json(
        await cli(['sessions', 'list', '--user', 'alice', '--json', '--db', db], { env }),
      );
      assert.equal(filtered.length, 2);
      assert.equal(filtered[0].username, 'alice');

      const revoked = await cli(
        ['sessions', 'revoke', '--user', 'alice', '--reason', 'lost laptop', '--db', db],
        {
          env,
        },
      );
      assert.equal(revoked.code, 0, revoked.err);
      assert.match(revoked.out, /revoked 2 session\(s\)/);
      const after = await cli(['sessions', 'list', '--db', db], { env });
      for (const line of after.out.split('\n').slice(1))
        assert.match(line, /alice +web +revoked +admin_revoked \(lost laptop\)/);
      const again = await cli(['sessions', 'revoke', '--user', s.aliceId, '--db', db], { env });
      assert.match(again.out, /nothing to revoke: user .* has no active sessions/);
      const nobody = await cli(['sessions', 'revoke', '--user', 'mallory', '--db', db], { env });
      assert.equal(nobody.code, 1);
      assert.match(nobody.err, /no user "mallory"/);
    } finally {
      await s.close();
    }
  });

  it('token inspect checks a token against the issuer it names, and says so when the configuration names another', async () => {
    const db = join(dir, 'port.db');
    const secret = randomBytes(32);
    const env = { TESSERA_SECRET: secret.toString('base64url') };
    // The server runs on another port than the default, so its issuer is not the CLI's default.
    const s = await startTestServer({ dbPath: db, masterSecret: secret, config: { port: 4999 } });
    try {
      const tokens = await s.login('web');
      const at = json(await cli(['token', 'inspect', tokens.access_token, '--json', '--db', db], { env }));
      assert.equal(at.active, true, JSON.stringify(at));
      assert.deepEqual(at.issuer, {
        token: 'http://127.0.0.1:4999',
        configured: 'http://127.0.0.1:4999',
        matches: true,
      });
      const other = await cli(['token', 'inspect', tokens.access_token, '--db', db], {
        env: { ...env, TESSERA_ISSUER: 'https://auth.example.com' },
      });
      assert.equal(other.code, 0, other.err);
      assert.match(
        other.out,
        /issuer: {2}the token names http:\/\/127\.0\.0\.1:4999; this configuration's issuer is https:\/\/auth\.example\.com/,
      );
      assert.match(
        other.out,
        /active: {2}false \(issued by http:\/\/127\.0\.0\.1:4999, but this configuration's issuer is/,
      );
      // A token issued two hours ago (on the server's clock) is reported as expired, with when.
      s.clock.set(Date.now() - 2 * 3600_000);
      const old = await s.login('web');
      const expired = json(await cli(['token', 'inspect', old.access_token, '--json', '--db', db], { env }));
      assert.equal(expired.active, false);
      assert.match(expired.reason, /^expired at \d{4}-/);
    } finally {
      await s.close();
    }
  });

  it('with --json every failure is one JSON object on stdout, with the usual exit code', async () => {
    const usage = await cli(['users', 'list', '--frobnicate', '--json']);
    assert.equal(usage.code, 2);
    assert.equal(usage.err, '');
    assert.deepEqual(JSON.parse(usage.out), {
      error: 'usage',
      message: "unknown option '--frobnicate'",
      hint: 'see --help',
    });
    const missing = await cli(['users', 'list', '--json', '--db', join(dir, 'none.db')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, '');
    const report = JSON.parse(missing.out);
    assert.equal(report.error, 'database_not_found');
    assert.match(report.message, /no database at/);
    assert.match(report.hint, /--create/);
    const config = await cli(['keys', 'list', '--json', '--db', ':memory:'], { env: { TESSERA_PORT: 'x' } });
    assert.equal(config.code, 2);
    assert.equal(JSON.parse(config.out).error, 'invalid_configuration');
    const demo = await cli(['demo', '--json', '--port', 'abc']);
    assert.equal(demo.code, 2);
    assert.match(JSON.parse(demo.out).message, /--port: expected a port number, got "abc"/);
    const serve = await cli(['serve', '--json', '--signing-alg', 'HS256']);
    assert.equal(serve.code, 2);
    assert.match(JSON.parse(serve.out).message, /--signing-alg: expected one of ES256, EdDSA, RS256/);
    for (const command of [
      ['demo'],
      ['serve'],
      ['users', 'list'],
      ['doctor'],
      ['cleanup'],
      ['keys', 'rotate'],
    ]) {
      const help = await cli([...command, '--help']);
      assert.match(help.out, /--json/, `${command.join(' ')} takes --json`);
    }
  });
});
