import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTessera, createUser, loadConfig, saveClient, type Tessera } from '@tessera/server';
import { freePort } from '@tessera/test-support';
import type { CliIO } from '../src/io.js';
import { runCli } from '../src/program.js';

const PASSWORD = 'correct horse battery staple';

async function doctor(argv: string[], stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    readStdin: async () => stdin,
    env: {},
  };
  const code = await runCli(['doctor', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tessera doctor', () => {
  let dir: string;
  let tessera: Tessera;
  let issuer: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-doctor-'));
    const port = await freePort();
    tessera = await createTessera({
      config: loadConfig({
        env: {},
        overrides: { db: join(dir, 'd.db'), port, logLevel: 'silent', passwordHashCost: 10 },
      }),
      masterSecret: randomBytes(32),
      background: false,
    });
    await createUser(tessera.ctx, { username: 'alice', password: PASSWORD });
    await saveClient(tessera.ctx, { id: 'web', public: true });
    issuer = await tessera.listen();
  });
  after(async () => {
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the database, discovery, JWKS, health and a full round trip against a healthy server', async () => {
    const db = join(dir, 'd.db');
    const run = await doctor(
      [
        '--issuer',
        issuer,
        '--db',
        db,
        '--client-id',
        'web',
        '--username',
        'alice',
        '--password-stdin',
        '--json',
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(run.code, 0, run.out + run.err);
    const report = JSON.parse(run.out);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c: { name: string; status: string }) => [c.name, c.status]),
      [
        ['database', 'ok'],
        ['discovery', 'ok'],
        ['jwks', 'ok'],
        ['health', 'ok'],
        ['sign in', 'ok'],
        ['refresh', 'ok'],
        ['grace retry', 'ok'],
        ['revoke', 'ok'],
      ],
    );
    assert.ok(!run.out.includes(PASSWORD), 'the password is never printed');
    assert.match(report.checks[0].detail, /^sqlite at .*d\.db: SQLite [\d.]+, schema version \d+, current$/);
  });

  it('reports a database that is not there: failed when named, skipped when only the default', async () => {
    const missing = await doctor(['--issuer', issuer, '--db', join(dir, 'nope.db'), '--json']);
    assert.equal(missing.code, 1);
    assert.deepEqual(JSON.parse(missing.out.slice(0, missing.out.lastIndexOf('\n{'))).checks[0], {
      name: 'database',
      status: 'fail',
      detail: `sqlite at ${join(dir, 'nope.db')}: no SQLite database at ${join(dir, 'nope.db')}`,
    });
    const unnamed = await doctor(['--issuer', issuer, '--json']);
    assert.equal(JSON.parse(unnamed.out).checks[0].status, 'skipped');
  });

  it('fails with exit 1 and says why: wrong password, and an issuer that is not there', async () => {
    const wrong = await doctor(
      ['--issuer', issuer, '--client-id', 'web', '--username', 'alice', '--password-stdin'],
      'nope\n',
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.out, /FAIL sign in: HTTP 401 invalid_credentials/);
    const port = await freePort();
    const gone = await doctor(['--issuer', `http://127.0.0.1:${port}`, '--timeout', '1000']);
    assert.equal(gone.code, 1);
    assert.match(gone.out, /FAIL discovery/);
  });

  it('without credentials the round trip is marked skipped, not ok', async () => {
    const run = await doctor(['--issuer', issuer, '--json']);
    assert.equal(run.code, 0, run.out + run.err);
    const report = JSON.parse(run.out);
    assert.equal(report.ok, true, 'nothing failed');
    assert.deepEqual(report.checks.at(-1), {
      name: 'round trip',
      status: 'skipped',
      detail: 'give --client-id, --username and --password-stdin to sign in, refresh and revoke',
    });
    const human = await doctor(['--issuer', issuer]);
    assert.match(human.out, /^ {2}skip round trip: /m);
    assert.doesNotMatch(human.out, /ok {3}round trip/);
  });

  it('refuses bad usage with exit 2', async () => {
    assert.equal((await doctor(['--issuer', issuer, '--username', 'alice'])).code, 2);
    assert.equal((await doctor(['--issuer', issuer, '--timeout', 'soon'])).code, 2);
  });
});
