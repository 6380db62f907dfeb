import { ENDPOINTS, encodeBasicCredentials } from '@tessera/protocol';
import { inspectStore, loadConfig, type TesseraConfig } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';
import { checkRedis } from '../redis-check.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

interface DoctorOptions {
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  passwordStdin?: boolean;
  config?: string;
  db?: string;
  databaseUrl?: string;
  databaseSchema?: string;
  redisUrl?: string;
  json?: boolean;
  timeout: string;
}

interface Check {
  name: string;
  /** `skipped`: not run (no credentials given); neither a pass nor a failure. */
  status: 'ok' | 'fail' | 'skipped';
  detail: string;
}

const MARK: Record<Check['status'], string> = { ok: 'ok  ', fail: 'FAIL', skipped: 'skip' };

const REQUIRED_METADATA = [
  'issuer',
  'token_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'jwks_uri',
];

/**
 * `tessera doctor`: checks a running server from the outside, as a client would: discovery,
 * JWKS, health, and (given credentials) a full token round trip: sign in, refresh, a grace
 * retry that must return the same tokens, revocation, and a refresh that must then fail. With a
 * Redis configured (`TESSERA_REDIS_URL`, `--redis-url`) it checks that too.
 */
export function doctorCommand(program: Command, io: CliIO): void {
  program
    .command('doctor')
    .description(
      'check a running server and its database: discovery, JWKS, health, the store, and a token round trip',
    )
    .option('--issuer <url>', 'the server to check (default: the configured issuer)')
    .option('--client-id <id>', 'a client for the round trip (a public client, or with --client-secret)')
    .option('--client-secret <secret>', 'its secret, for a confidential client')
    .option('--username <name>', 'a user to sign in as (with --password-stdin)')
    .option('--password-stdin', "read the user's password from standard input")
    .option('--timeout <ms>', 'timeout of each request', '5000')
    .option('--redis-url <url>', 'the Redis the instances share, to check too (default: TESSERA_REDIS_URL)')
    .addOption(configOption())
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .option('--json', 'print JSON')
    .action(async (opts: DoctorOptions) => {
      const config = loadConfig({
        flags: {
          db: opts.db,
          databaseUrl: opts.databaseUrl,
          databaseSchema: opts.databaseSchema,
          ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
        },
        env: io.env,
        ...(opts.config ? { file: opts.config } : {}),
      });
      const issuer = (opts.issuer ?? config.issuer).replace(/\/+$/, '');
      if ((opts.username === undefined) !== (opts.passwordStdin !== true)) {
        throw new CliError('--username and --password-stdin go together', EXIT.usage);
      }
      if (opts.username !== undefined && opts.clientId === undefined) {
        throw new CliError('the round trip needs --client-id', EXIT.usage);
      }
      const timeout = Number(opts.timeout);
      if (!Number.isInteger(timeout) || timeout < 100)
        throw new CliError('--timeout: milliseconds, at least 100', EXIT.usage);
      const password = opts.passwordStdin ? (await io.readStdin()).replace(/\r?\n$/, '') : undefined;
      const named =
        opts.db !== undefined || config.databaseUrl !== undefined || io.env.TESSERA_DB !== undefined;
      const checks = [
        await databaseCheck(config, named),
        ...(await runChecks(issuer, { ...opts, password, timeoutMs: timeout })),
      ];
      if (config.redisUrl !== undefined) {
        const url = config.redisUrl;
        try {
          checks.push({
            name: 'redis',
            status: 'ok',
            detail: await checkRedis(url, config.redisPrefix, timeout),
          });
        } catch (err) {
          checks.push({ name: 'redis', status: 'fail', detail: (err as Error).message });
        }
      }
      const ok = checks.every((c) => c.status !== 'fail');
      print(io, opts.json === true, { issuer, ok, checks }, () =>
        [
          `tessera doctor: ${issuer}`,
          ...checks.map((c) => `  ${MARK[c.status]} ${c.name}: ${c.detail}`),
        ].join('\n'),
      );
      if (!ok) throw new CliError('some checks failed', EXIT.failed);
    });
}

/**
 * The store the configuration names (SQLite, or PostgreSQL with `--database-url`), read without
 * changing it: reachable, and its schema version against this code's. A default SQLite path with
 * no file there is skipped, not failed (the server may run elsewhere).
 */
async function databaseCheck(config: Readonly<TesseraConfig>, named: boolean): Promise<Check> {
  const report = await inspectStore(config);
  const where = `${report.kind} at ${report.location}`;
  if (!report.reachable) {
    return { name: 'database', status: named ? 'fail' : 'skipped', detail: `${where}: ${report.detail}` };
  }
  const { schemaVersion = 0, latestVersion = 0 } = report;
  const schema =
    schemaVersion === latestVersion
      ? `schema version ${schemaVersion}, current`
      : schemaVersion < latestVersion
        ? `schema version ${schemaVersion} of ${latestVersion} (the next start migrates it)`
        : `schema version ${schemaVersion} is newer than this Tessera (${latestVersion})`;
  return {
    name: 'database',
    status: schemaVersion > latestVersion ? 'fail' : 'ok',
    detail: `${where}: ${report.detail}, ${schema}`,
  };
}

async function runChecks(
  issuer: string,
  opts: DoctorOptions & { password: string | undefined; timeoutMs: number },
): Promise<Check[]> {
  const checks: Check[] = [];
  const check = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, status: 'ok', detail: await fn() });
      return true;
    } catch (err) {
      checks.push({ name, status: 'fail', detail: (err as Error).message });
      return false;
    }
  };
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
    return {
      status: res.status,
      body: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined,
    };
  };
  const clientAuth: Record<string, string> =
    opts.clientSecret === undefined
      ? {}
      : {
          authorization: encodeBasicCredentials(opts.clientId ?? '', opts.clientSecret),
        };
  const post = async (path: string, form: Record<string, string>) => {
    const res = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...clientAuth },
      body: new URLSearchParams(
        opts.clientSecret === undefined ? { ...form, client_id: opts.clientId ?? '' } : form,
      ),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined,
    };
  };

  let metadata: Record<string, unknown> | undefined;
  const discovered = await check('discovery', async () => {
    const { status, body } = await get(`${issuer}${ENDPOINTS.metadata}`);
    if (status !== 200 || !body) throw new Error(`HTTP ${status}`);
    if (body.issuer !== issuer) throw new Error(`issuer is ${String(body.issuer)}, expected ${issuer}`);
    const missing = REQUIRED_METADATA.filter((k) => typeof body[k] !== 'string');
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
    metadata = body;
    return 'RFC 8414 metadata is complete';
  });
  if (!discovered || !metadata) return checks;
  const meta = metadata;

  await check('jwks', async () => {
    const { status, body } = await get(String(meta.jwks_uri));
    const keys = body?.keys;
    if (status !== 200 || !Array.isArray(keys) || keys.length < 2)
      throw new Error(`HTTP ${status}, expected current and next keys`);
    return `${keys.length} public keys published`;
  });
  await check('health', async () => {
    const live = await get(`${issuer}/healthz`);
    const ready = await get(`${issuer}/readyz`);
    if (live.status !== 200) throw new Error(`healthz HTTP ${live.status}`);
    if (ready.status !== 200) throw new Error(`readyz HTTP ${ready.status} (store unreachable?)`);
    return 'live and ready';
  });

  if (opts.username === undefined || opts.password === undefined || opts.clientId === undefined) {
    checks.push({
      name: 'round trip',
      status: 'skipped',
      detail: 'give --client-id, --username and --password-stdin to sign in, refresh and revoke',
    });
    return checks;
  }
  const grant = await post(ENDPOINTS.token, {
    grant_type: 'password',
    username: opts.username,
    password: opts.password,
  });
  let tokens: Record<string, unknown> | undefined;
  const signedIn = await check('sign in', async () => {
    if (grant.status === 200 && grant.body) {
      tokens = grant.body;
      return 'password grant at the token endpoint';
    }
    const res = await fetch(`${issuer}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...clientAuth },
      body: JSON.stringify({ username: opts.username, password: opts.password, client_id: opts.clientId }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status !== 200 || typeof body?.refresh_token !== 'string') {
      throw new Error(`HTTP ${res.status} ${String(body?.error_code ?? body?.error ?? '')}`.trim());
    }
    tokens = body;
    return `POST ${ENDPOINTS.login}`;
  });
  if (!signedIn || !tokens) return checks;
  const first = String(tokens.refresh_token);
  let child: Record<string, unknown> | undefined;
  await check('refresh', async () => {
    const res = await post(ENDPOINTS.token, { grant_type: 'refresh_token', refresh_token: first });
    if (res.status !== 200 || typeof res.body?.refresh_token !== 'string')
      throw new Error(`HTTP ${res.status}`);
    if (res.body.refresh_token === first) throw new Error('the refresh token was not rotated');
    child = res.body;
    return 'rotated';
  });
  await check('grace retry', async () => {
    const res = await post(ENDPOINTS.token, { grant_type: 'refresh_token', refresh_token: first });
    if (
      res.status !== 200 ||
      res.body?.refresh_token !== child?.refresh_token ||
      res.body?.access_token !== child?.access_token
    ) {
      throw new Error(`HTTP ${res.status}: a retry within the grace period must return the same tokens`);
    }
    return 'the same tokens again';
  });
  await check('revoke', async () => {
    const res = await post(ENDPOINTS.revocation, { token: String(child?.refresh_token ?? first) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const after = await post(ENDPOINTS.token, {
      grant_type: 'refresh_token',
      refresh_token: String(child?.refresh_token),
    });
    if (after.status !== 400) throw new Error(`a revoked session still refreshed (HTTP ${after.status})`);
    return `session ended (${String(after.body?.error_code ?? after.body?.error)})`;
  });
  return checks;
}
