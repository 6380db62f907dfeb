import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, CSRF_HEADER_VALUE, ENDPOINTS } from '@tessera/protocol';
import type { CliIO } from '../src/io.js';
import { runCli } from '../src/program.js';
import { CliProcess, freePort } from './support/cli-process.js';

// Real processes on loopback, every wait bounded: a start within START_MS, a stop within STOP_MS.
const START_MS = 30_000;
const STOP_MS = 6_000;

const secret = randomBytes(32).toString('base64url');
const baseEnv = { TESSERA_SECRET: secret, TESSERA_PASSWORD_HASH_COST: '10' };

const silentIO = (env: Record<string, string>): CliIO => ({
  out: () => undefined,
  err: () => undefined,
  readStdin: async () => '',
  env,
});

describe('tessera serve and demo as real processes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-process-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('demo: takes TESSERA_PORT / TESSERA_DB, banner first, default login client, icon, and stops on SIGINT', async () => {
    const port = await freePort();
    const db = join(dir, 'env-demo', 'demo.db');
    const demo = new CliProcess(['demo'], { ...baseEnv, TESSERA_PORT: String(port), TESSERA_DB: db });
    try {
      await demo.waitFor('npx tessera sessions revoke', START_MS);
      const url = `http://127.0.0.1:${port}`;
      // The environment is honoured (flags > env > file > the demo's own values > defaults).
      assert.match(demo.stderr, new RegExp(`open: +${url}/`));
      assert.match(demo.stderr, new RegExp(`database: +${db}`));
      // The banner comes first, the cookie-mode warning in words inside it, and no JSON log line.
      assert.equal(demo.stderr.split('\n')[0], 'Tessera demo is running.');
      assert.match(demo.stderr, /\n {2}note: {7}cookie mode over plain http on localhost/);
      assert.equal(demo.stdout, '');

      const page = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
      assert.match(await page.text(), /<link rel="icon" href="\/favicon.svg"/);
      for (const path of ['/favicon.ico', '/favicon.svg']) {
        const icon = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
        assert.equal(icon.status, 200, path);
        assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
        await icon.arrayBuffer();
      }

      // No client_id: the demo configures its browser client as the default login client.
      const login = await fetch(`${url}${ENDPOINTS.login}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: url },
        body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await login.json()) as { access_token?: string; expires_in?: number };
      assert.equal(login.status, 200, JSON.stringify(body));
      assert.equal(body.expires_in, 20);
      const claims = JSON.parse(Buffer.from(body.access_token!.split('.')[1]!, 'base64url').toString()) as {
        iat: number;
        exp: number;
        client_id: string;
      };
      assert.equal(claims.client_id, 'demo-web');
      assert.equal(claims.exp - claims.iat, 20, 'a 20 s token lives exactly 20 s');

      demo.child.kill('SIGINT');
      const code = await demo.exitWithin(STOP_MS);
      assert.equal(code, 0, `the demo did not stop within ${STOP_MS} ms of SIGINT: ${demo.stderr}`);
    } finally {
      await demo.kill();
    }
  });

  it('serve: stops on SIGTERM while a resource server follows the revocation feed', async () => {
    const port = await freePort();
    const db = join(dir, 'serve.db');
    const serve = new CliProcess(['serve', '--port', String(port), '--db', db], baseEnv);
    let stream: Response | undefined;
    try {
      await serve.waitFor('Tessera is listening', START_MS);
      const rsSecret = 'resource-server-secret-0123456789';
      const added = await runCli(
        ['clients', 'add', '--id', 'rs', '--resource-server', '--secret', rsSecret, '--db', db],
        silentIO(baseEnv),
      );
      assert.equal(added, 0);
      stream = await fetch(`http://127.0.0.1:${port}${ENDPOINTS.revocationFeed}`, {
        headers: {
          accept: 'text/event-stream',
          authorization: `Basic ${Buffer.from(`rs:${rsSecret}`).toString('base64')}`,
        },
        signal: AbortSignal.timeout(STOP_MS + START_MS),
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      assert.match(new TextDecoder().decode((await reader.read()).value), /tessera revocation feed/);

      serve.child.kill('SIGTERM');
      const code = await serve.exitWithin(STOP_MS);
      assert.equal(code, 0, `serve did not stop within ${STOP_MS} ms of SIGTERM: ${serve.stderr}`);
      // The stream was ended by the server, not left hanging.
      for (;;) if ((await reader.read()).done) break;
    } finally {
      await serve.kill();
    }
  });

  it('serve: SIGTERM with refreshes in flight: they finish and commit, nothing is lost, the store closes', async () => {
    const port = await freePort();
    const db = join(dir, 'sigterm.db');
    const env = { ...baseEnv, TESSERA_RATE_LIMIT_LOGIN: '0', TESSERA_RATE_LIMIT_REFRESH: '0' };
    const url = `http://127.0.0.1:${port}`;
    const cli = silentIO(env);
    assert.equal(await runCli(['clients', 'add', '--id', 'web', '--public', '--db', db, '--create'], cli), 0);
    assert.equal(
      await runCli(
        ['users', 'add', '--username', 'alice', '--password', 'correct horse battery', '--db', db],
        cli,
      ),
      0,
    );
    const refresh = (token: string) =>
      fetch(`${url}${ENDPOINTS.token}`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'web', refresh_token: token }),
        signal: AbortSignal.timeout(STOP_MS),
      });
    const started = () => new CliProcess(['serve', '--port', String(port), '--db', db], env);

    let serve = started();
    try {
      await serve.waitFor('Tessera is listening', START_MS);
      const sessions: string[] = [];
      for (let i = 0; i < 40; i++) {
        const login = await fetch(`${url}${ENDPOINTS.login}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: 'correct horse battery', client_id: 'web' }),
          signal: AbortSignal.timeout(STOP_MS),
        });
        assert.equal(login.status, 200);
        sessions.push(((await login.json()) as { refresh_token: string }).refresh_token);
      }

      // Every refresh at once, and SIGTERM as soon as the server has taken the first of them.
      const logged = serve.stdout.length;
      let signalledAt = 0;
      const outcomes = sessions.map(async (token) => {
        try {
          const res = await refresh(token);
          const body = (await res.json()) as { refresh_token?: string };
          return { token, status: res.status, child: body.refresh_token, at: Date.now() };
        } catch {
          return { token, status: 0, child: undefined, at: Date.now() };
        }
      });
      const deadline = Date.now() + START_MS;
      while (!serve.stdout.slice(logged).includes(ENDPOINTS.token) && Date.now() < deadline) {
        await new Promise((r) => setImmediate(r));
      }
      signalledAt = Date.now();
      serve.child.kill('SIGTERM');
      const results = await Promise.all(outcomes);
      assert.equal(await serve.exitWithin(STOP_MS), 0, serve.stderr);
      assert.ok(!serve.stderr.includes('error while shutting down'), serve.stderr);
      // The store was closed: SQLite checkpoints and removes its write-ahead log on the last close.
      assert.ok(!existsSync(`${db}-wal`), 'the WAL was checkpointed and removed on close');

      // Accepted requests finish (200); the others are refused (no connection, or 503 while closing).
      for (const r of results) assert.ok([0, 200, 503].includes(r.status), `status ${r.status}`);
      const done = results.filter((r) => r.status === 200);
      assert.ok(done.length > 0, 'some refreshes were in flight');

      // Restarted on the same database: each answered rotation was committed (its child works);
      // each unanswered one either never ran or is inside its grace period; none is lost.
      serve = started();
      await serve.waitFor('Tessera is listening', START_MS);
      for (const r of results) {
        const next = await refresh(r.status === 200 ? r.child! : r.token);
        assert.equal(
          next.status,
          200,
          `${r.status === 200 ? 'child of an answered' : 'an unanswered'} refresh`,
        );
        await next.arrayBuffer();
      }
      console.log(
        `# ${done.length} of ${results.length} refreshes answered, ${results.filter((r) => r.status === 200 && r.at >= signalledAt).length} of them after SIGTERM`,
      );
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exitWithin(STOP_MS), 0);
    } finally {
      await serve.kill();
    }
  });

  describe('a port in use', () => {
    let blocker: Server;
    let port: number;
    before(async () => {
      port = await freePort();
      blocker = createServer().listen(port, '127.0.0.1');
      await new Promise((resolve) => blocker.once('listening', resolve));
    });
    after(async () => {
      await new Promise((resolve) => blocker.close(resolve));
    });

    for (const command of ['serve', 'demo']) {
      it(`${command} fails at once with exit 1 and leaves no database or key behind`, async () => {
        const db = join(dir, `busy-${command}`, 'tessera.db');
        const run = new CliProcess([command, '--port', String(port), '--db', db], baseEnv);
        const code = await run.exitWithin(START_MS);
        assert.equal(code, 1, run.stderr);
        assert.match(run.stderr, new RegExp(`error: port ${port} on 127\\.0\\.0\\.1 is in use`));
        assert.match(run.stderr, /hint: .*--port/);
        assert.ok(!existsSync(db) && !existsSync(`${db}.key`), 'no database file or master key');
        assert.ok(!existsSync(join(dir, `busy-${command}`)), 'not even its folder');
      });
    }

    it('with --json the failure is one JSON object on stdout', async () => {
      const run = new CliProcess(
        ['serve', '--json', '--port', String(port), '--db', join(dir, 'j.db')],
        baseEnv,
      );
      assert.equal(await run.exitWithin(START_MS), 1);
      assert.equal(JSON.parse(run.stdout).error, 'port_in_use');
    });
  });
});
