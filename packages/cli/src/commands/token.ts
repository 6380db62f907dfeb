import { type ClientRecord, introspectToken } from '@tessera/server';
import type { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type CliIO, print } from '../io.js';
import { type CommonOptions, withServer } from '../open-server.js';
import { configOption, dbOption } from '../setting-options.js';

/** `tessera token inspect`: decode a token and say whether this server considers it active. */
export function tokenCommand(program: Command, io: CliIO): void {
  const token = program.command('token').description('inspect tokens');
  token
    .command('inspect')
    .description('decode a token and check it against the database (the token is never printed)')
    .argument('[token]', 'the token; omit to read it from standard input')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (arg: string | undefined, opts: CommonOptions) => {
      const value = (arg ?? (await io.readStdin())).trim();
      const decoded = decode(value);
      const result = await withServer(io, opts, async (t) => {
        return introspectToken(t.ctx, { token: value, client: INSPECTOR });
      });
      const report = {
        ...decoded,
        active: result.active,
        ...(result.active ? { introspection: result } : {}),
      };
      print(io, opts.json === true, report, () =>
        [
          `format:  ${decoded.format}`,
          ...(decoded.header ? [`header:  ${JSON.stringify(decoded.header)}`] : []),
          ...(decoded.claims ? [`claims:  ${JSON.stringify(decoded.claims, null, 2)}`] : []),
          `active:  ${result.active}${result.active ? '' : ' (unknown, expired, revoked or forged)'}`,
        ].join('\n'),
      );
    });
}

function decode(value: string): { format: string; header?: unknown; claims?: unknown } {
  if (value.startsWith('tsr_')) return { format: 'tessera refresh token (opaque)' };
  try {
    return { format: 'JWT', header: decodeProtectedHeader(value), claims: decodeJwt(value) };
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
