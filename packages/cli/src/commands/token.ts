import { OPAQUE_ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX } from '@tessera/protocol';
import { type ClientRecord, introspectToken } from '@tessera/server';
import type { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type CliIO, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

interface Decoded {
  format: string;
  header?: unknown;
  claims?: Record<string, unknown>;
}

/**
 * `tessera token inspect`: decode a token and say whether this server considers it active. The
 * issuer a JWT or PASETO token names is the one it is checked against, unless the configuration
 * sets another; then the answer says so instead of calling the token inactive without a reason.
 */
export function tokenCommand(program: Command, io: CliIO): void {
  const token = program.command('token').description('inspect tokens');
  token
    .command('inspect')
    .description('decode a token and check it against the database (the token is never printed)')
    .argument('[token]', 'the token; omit to read it from standard input')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (arg: string | undefined, opts: CommonOptions) => {
      const value = (arg ?? (await io.readStdin())).trim();
      const decoded = decode(value);
      const named = typeof decoded.claims?.iss === 'string' ? decoded.claims.iss : undefined;
      const { result, issuer, now } = await withServer(
        io,
        opts,
        async (t) => ({
          result: await introspectToken(t.ctx, { token: value, client: INSPECTOR }),
          issuer: t.ctx.config.issuer,
          now: t.ctx.clock.now(),
        }),
        named === undefined ? {} : { issuer: named.replace(/\/+$/, '') },
      );
      const issuerDiffers = named !== undefined && named.replace(/\/+$/, '') !== issuer;
      const exp = expiry(decoded.claims);
      const reason = result.active
        ? undefined
        : issuerDiffers
          ? `issued by ${named}, but this configuration's issuer is ${issuer} (set TESSERA_ISSUER or --config as the server has it)`
          : exp !== undefined && exp * 1000 <= now
            ? `expired at ${new Date(exp * 1000).toISOString()}`
            : 'unknown, revoked or forged';
      const report = {
        ...decoded,
        active: result.active,
        ...(named !== undefined
          ? { issuer: { token: named, configured: issuer, matches: !issuerDiffers } }
          : {}),
        ...(reason ? { reason } : {}),
        ...(result.active ? { introspection: result } : {}),
      };
      print(io, opts.json === true, report, () =>
        [
          `format:  ${decoded.format}`,
          ...(decoded.header ? [`header:  ${JSON.stringify(decoded.header)}`] : []),
          ...(decoded.claims ? [`claims:  ${JSON.stringify(decoded.claims, null, 2)}`] : []),
          ...(issuerDiffers
            ? [`issuer:  the token names ${named}; this configuration's issuer is ${issuer}`]
            : []),
          `active:  ${result.active}${reason ? ` (${reason})` : ''}`,
        ].join('\n'),
      );
    });
}

function expiry(claims: Record<string, unknown> | undefined): number | undefined {
  const exp = claims?.exp;
  if (typeof exp === 'number') return exp;
  if (typeof exp === 'string' && !Number.isNaN(Date.parse(exp))) return Math.floor(Date.parse(exp) / 1000);
  return undefined;
}

function decode(value: string): Decoded {
  if (value.startsWith(REFRESH_TOKEN_PREFIX)) return { format: 'tessera refresh token (opaque)' };
  if (value.startsWith(OPAQUE_ACCESS_TOKEN_PREFIX)) return { format: 'tessera access token (opaque)' };
  if (value.startsWith('v4.public.')) return decodePaseto(value);
  try {
    return { format: 'JWT', header: decodeProtectedHeader(value), claims: decodeJwt(value) };
  } catch {
    return { format: 'unknown' };
  }
}

/** PASETO v4.public: the payload is the JSON message followed by a 64-byte Ed25519 signature. */
function decodePaseto(value: string): Decoded {
  const [, , body, footer] = value.split('.');
  try {
    const bytes = Buffer.from(body ?? '', 'base64url');
    if (bytes.length <= 64) return { format: 'unknown' };
    const claims = JSON.parse(bytes.subarray(0, bytes.length - 64).toString('utf8')) as Record<
      string,
      unknown
    >;
    const header = footer ? JSON.parse(Buffer.from(footer, 'base64url').toString('utf8')) : undefined;
    return { format: 'PASETO v4.public', ...(header ? { header } : {}), claims };
  } catch {
    return { format: 'unknown' };
  }
}

/** The CLI inspects as a resource server would: any client's tokens, nothing stored. */
const INSPECTOR: ClientRecord = {
  id: '__cli__',
  name: 'tessera CLI',
  public: false,
  secretHash: null,
  grantTypes: [],
  allowedScopes: [],
  defaultScope: '',
  accessTokenTtl: null,
  refreshGracePeriod: null,
  refreshIdleTtl: null,
  refreshAbsoluteTtl: null,
  requireNonce: false,
  introspectAny: true,
  createdAt: 0,
};
