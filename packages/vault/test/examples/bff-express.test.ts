import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApi, createBff } from '../../examples/bff-express.js';
import { createTokenVault, type TokenVault } from '../../src/index.js';
import { freePort } from '../support/proxy.js';
import { makeKeys, TestClock, tempDb } from '../support/vault-fixtures.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
const SECRET = 'bff-client-secret-0123456789';
const PASSWORD = 'correct horse battery staple';

/** Runs the `tessera` CLI from source, as a user would run `npx tessera …`. */
function tessera(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tessera/source', BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c));
    child.stdin!.end(stdin);
    child.on('exit', (code) => resolve({ code, err }));
  });
}

async function listen(app: {
  listen(port: number, host: string): Server;
}): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function metric(issuer: string, result: string): Promise<number> {
  const text = await (await fetch(`${issuer}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`tessera_refresh_total{result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('the README BFF example end to end: Express + the vault, upstream = `tessera serve`', () => {
  const tmp = tempDb();
  const env = { TESSERA_SECRET: randomBytes(32).toString('base64url'), TESSERA_PASSWORD_HASH_COST: '10' };
  const db = join(tmp.dir, 'tessera.db');
  let serve: ChildProcess;
  let issuer: string;
  let vault: TokenVault;
  const clock = new TestClock(Date.now());
  const servers: Server[] = [];
  let bff: string;

  before(async () => {
    const add = await tessera(
      [
        'clients',
        'add',
        '--id',
        'bff',
        '--secret',
        SECRET,
        '--grant',
        'password',
        '--grant',
        'refresh_token',
        '--db',
        db,
        '--create',
      ],
      env,
    );
    assert.equal(add.code, 0, add.err);
    const user = await tessera(
      ['users', 'add', '--username', 'alice', '--password-stdin', '--db', db],
      env,
      `${PASSWORD}\n`,
    );
    assert.equal(user.code, 0, user.err);
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    serve = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@tessera/source',
        BIN,
        'serve',
        '--port',
        String(port),
        '--db',
        db,
        '--log-level',
        'error',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tessera serve did not start: ${err}`)), 20_000);
      serve.stderr!.on('data', (c: Buffer) => {
        err += c;
        if (err.includes('Tessera is listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    vault = await createTokenVault({
      issuer,
      clientId: 'bff',
      clientSecret: SECRET,
      database: tmp.path,
      keys: makeKeys(),
      clock,
    });
    const api = await listen(createApi(issuer));
    const app = await listen(createBff(vault, `${api.url}/me`));
    servers.push(api.server, app.server);
    bff = app.url;
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await vault?.close();
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    tmp.cleanup();
  });

  it('signs in, calls the API as the user, refreshes at expiry, and signs out', async () => {
    const login = await fetch(`${bff}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    assert.equal(login.status, 204);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(login.headers.get('set-cookie')!, /HttpOnly/);

    const me = await fetch(`${bff}/api/me`, { headers: { cookie } });
    assert.equal(me.status, 200);
    const body = (await me.json()) as { sub: string; client: string };
    assert.equal(body.client, 'bff');
    assert.ok(body.sub);

    // Past the access token's lifetime (15 minutes by default), the vault refreshes once for many requests.
    const rotatedBefore = await metric(issuer, 'rotated');
    clock.advance(16 * 60_000);
    const many = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${bff}/api/me`, { headers: { cookie } })),
    );
    assert.ok(many.every((r) => r.status === 200));
    assert.equal((await metric(issuer, 'rotated')) - rotatedBefore, 1);

    const logout = await fetch(`${bff}/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(logout.status, 204);
    const afterLogout = await fetch(`${bff}/api/me`, { headers: { cookie } });
    assert.equal(afterLogout.status, 401);
    assert.equal(
      ((await afterLogout.json()) as { error_code: string }).error_code,
      'reauthentication_required',
    );
    const [status] = await vault.status('tessera:alice');
    assert.equal(status?.state, 'revoked');
  });
});
