import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS } from '@tessera/protocol';
import type { RotationFaultPoint as FaultPoint } from '@tessera/server/testing';
import Database from 'better-sqlite3';
import { createTessera, createUser, loadConfig, saveClient } from '../../src/index.js';
import { freePort, PASSWORD } from '../helpers/test-server.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
/** `tessera serve` with stores that kill the process at one point of a rotation. */
const FAULTY = join(ROOT, 'packages/server/test/crash/serve-with-fault.ts');

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

/**
 * Starts `tessera serve` as a real process (from source) and waits until it listens; with a
 * `fault`, the same server whose every rotation kills it (SIGKILL) at that point.
 */
async function serve(db: string, secret: string, port: number, fault?: FaultPoint): Promise<Running> {
  const command = fault
    ? [FAULTY, fault, db, String(port)]
    : [BIN, 'serve', '--db', db, '--port', String(port)];
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tessera/source', ...command], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TESSERA_SECRET: secret,
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_PASSWORD_HASH_COST: '10',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Tessera is listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited early: ${stderr}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

async function refresh(
  url: string,
  refreshToken: string,
): Promise<{ status: number; body: any } | 'connection lost'> {
  try {
    const res = await fetch(`${url}${ENDPOINTS.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: refreshToken,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await res.json() };
  } catch {
    return 'connection lost';
  }
}

function inspect(db: string) {
  const conn = new Database(db, { readonly: true });
  try {
    const integrity = conn.pragma('integrity_check', { simple: true });
    const families = conn.prepare('SELECT id, generation, status FROM families').all() as {
      id: string;
      generation: number;
      status: string;
    }[];
    // Every token issued, from the lineage; the current one is its family's, the others rotated.
    const tokens = conn
      .prepare(`SELECT l.hash, l.generation, CASE WHEN f.token_hash = l.hash THEN 'active' ELSE 'rotated' END
        AS status FROM lineage l JOIN families f ON f.id = l.family_id ORDER BY l.generation`)
      .all() as {
      hash: string;
      generation: number;
      status: string;
    }[];
    const graceAnswers = (
      conn.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'token.grace_reuse'").get() as { n: number }
    ).n;
    return { integrity, families, tokens, graceAnswers };
  } finally {
    conn.close();
  }
}

describe('crash safety: SIGKILL inside a rotation (a rotation is one transaction)', () => {
  let dir: string;
  const secret = randomBytes(32).toString('base64url');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function scenario(point: FaultPoint) {
    const db = join(dir, `${point}.db`);
    const seed = await createTessera({
      config: loadConfig({ env: {}, overrides: { db, logLevel: 'silent', passwordHashCost: 10 } }),
      masterSecret: Buffer.from(secret, 'base64url'),
      background: false,
    });
    await saveClient(seed.ctx, { id: 'web', public: true });
    await createUser(seed.ctx, { username: 'alice', password: PASSWORD });
    await seed.close();

    const port = await freePort();
    const faulty = await serve(db, secret, port, point);
    const login = await fetch(`${faulty.url}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
    }).then((r) => r.json() as Promise<{ refresh_token: string }>);

    const lost = await refresh(faulty.url, login.refresh_token);
    assert.equal(lost, 'connection lost', 'the server died mid-rotation');
    assert.equal(await faulty.exited, 'SIGKILL');

    const restarted = await serve(db, secret, port);
    try {
      const retry = await refresh(restarted.url, login.refresh_token);
      assert.notEqual(retry, 'connection lost');
      if (retry === 'connection lost') return;
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      const again = await refresh(restarted.url, login.refresh_token);
      assert.notEqual(again, 'connection lost');
      if (again === 'connection lost') return;
      // Within grace, every further retry gets the identical child.
      assert.equal(again.body.refresh_token, retry.body.refresh_token);
      assert.equal(again.body.access_token, retry.body.access_token);
      const next = await refresh(restarted.url, retry.body.refresh_token);
      assert.equal(next !== 'connection lost' && next.status, 200);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
    const state = inspect(db);
    assert.equal(state.integrity, 'ok');
    assert.equal(state.families.length, 1, 'no lost or duplicated family');
    assert.equal(state.families[0]!.status, 'active');
    assert.deepEqual(
      state.tokens.map((t) => [t.generation, t.status]),
      [
        [0, 'rotated'],
        [1, 'rotated'],
        [2, 'active'],
      ],
      'one token per generation: nothing duplicated',
    );
    // Before commit nothing survived, so the first retry rotated and only the second was a grace answer;
    // after commit the child survived, so both retries were answered from the grace box.
    assert.equal(state.graceAnswers, point === 'before-commit' ? 1 : 2);
  }

  it('killed inside the transaction before commit: the old state survives and a retry rotates normally', async () => {
    await scenario('before-commit');
  });

  it('killed after commit, before the answer: a retry within grace gets the child that was committed', async () => {
    await scenario('after-commit');
  });
});
