import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTessera, createUser, saveClient } from '@tessera/server';
import { openPostgresStores } from '@tessera/store-postgres';
import { freePort, PG_URL, pgSkip, until } from '@tessera/test-support';
import pg from 'pg';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

export { PG_URL, pgSkip };

export const PASSWORD = 'correct horse battery staple';

/** One statement on a connection of its own (to `url`, the test database by default). */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A deployment: a fresh schema with a public client `web` and a user `alice`, and its secret. */
export async function prepareDeployment(): Promise<{
  schema: string;
  secret: string;
  drop(): Promise<void>;
}> {
  const schema = `tessera_inst_${process.pid}_${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const stores = await openPostgresStores({ url: PG_URL!, schema });
  const tessera = await createTessera({
    config: { overrides: { passwordHashCost: 10, logLevel: 'silent' } },
    stores,
    masterSecret: Buffer.from(secret, 'base64url'),
    background: false,
  });
  await saveClient(tessera.ctx, { id: 'web', public: true, defaultScope: 'openid' });
  await createUser(tessera.ctx, { username: 'alice', password: PASSWORD, roles: [] });
  await tessera.close();
  return { schema, secret, drop: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => {}) };
}

/** `tessera serve` as a real process on PostgreSQL. */
export class Instance {
  child: ChildProcess | undefined;
  output = '';
  url = '';

  constructor(
    private readonly env: Record<string, string>,
    readonly name: string,
  ) {}

  async start(): Promise<this> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@tessera/source', BIN, 'serve', '--port', String(port)],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c));
    await until(
      () => {
        if (this.child!.exitCode !== null) throw new Error(`${this.name} exited: ${this.output}`);
        return this.output.includes('Tessera is listening');
      },
      `${this.name} to listen`,
      60_000,
    );
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async login(): Promise<{ refresh_token: string; access_token: string }> {
    const res = await fetch(`${this.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD, client_id: 'web' }),
    });
    if (res.status !== 200) throw new Error(`login at ${this.name}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { refresh_token: string; access_token: string };
  }

  /** POSTs a form to the token endpoint (or another path); answers the status and the JSON body. */
  async post(path: string, form: Record<string, string>): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  refresh(token: string): Promise<{ status: number; body: any }> {
    return this.post('/oauth/token', { grant_type: 'refresh_token', client_id: 'web', refresh_token: token });
  }

  async ready(): Promise<number> {
    return (await fetch(`${this.url}/readyz`)).status;
  }
}
