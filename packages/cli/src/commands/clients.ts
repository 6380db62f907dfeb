import { parseDuration, requestableScopes, saveClient } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

interface AddOptions extends CommonOptions {
  id: string;
  name?: string;
  public?: boolean;
  secret?: string;
  grant: string[];
  scope: string[];
  defaultScope?: string;
  accessTokenTtl?: string;
  refreshGracePeriod?: string;
  refreshIdleTtl?: string;
  refreshAbsoluteTtl?: string;
  requireNonce?: boolean;
  resourceServer?: boolean;
  tokenFormat?: string;
  cookie?: boolean;
  dpop?: boolean;
  dpopNonce?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new CliError(`--${name}: ${(err as Error).message}, got "${value}"`, EXIT.usage);
  }
}

/** `tessera clients add|list`. */
export function clientsCommand(program: Command, io: CliIO): void {
  const clients = program.command('clients').description('manage OAuth clients');
  clients
    .command('add')
    .description(
      'add or replace a client; a confidential client without --secret gets a generated one, shown once',
    )
    .requiredOption('--id <id>', 'client_id')
    .option('--name <name>', 'display name')
    .option('--public', 'a public client (SPA, mobile app): no secret')
    .option('--secret <secret>', 'the client secret (at least 16 characters)')
    .option(
      '--grant <type>',
      'allowed grant: refresh_token (default), password, client_credentials (repeatable)',
      collect,
      [],
    )
    .option(
      '--scope <scope>',
      'a scope the client may request besides its default scope (repeatable; without it: only the default scope)',
      collect,
      [],
    )
    .option(
      '--default-scope <scope>',
      'scope granted when a request names none, and always requestable (default: none)',
    )
    .option('--access-token-ttl <duration>', 'override the access-token lifetime (e.g. 15m)')
    .option('--refresh-grace-period <duration>', 'override the grace period (e.g. 5m)')
    .option('--refresh-idle-ttl <duration>', 'override the refresh-token idle lifetime (e.g. 14d)')
    .option('--refresh-absolute-ttl <duration>', 'override the session lifetime (e.g. 30d)')
    .option('--require-nonce', 'refresh requests must carry a nonce')
    .option('--resource-server', 'may introspect tokens of every client and read the revocation feed')
    .option(
      '--token-format <format>',
      'access-token format: jwt, opaque, paseto (default: the server default)',
    )
    .option(
      '--cookie',
      'browser cookie mode (public clients): the refresh token lives only in an HttpOnly cookie',
    )
    .option(
      '--dpop',
      'DPoP (RFC 9449): every token request must carry a proof; sessions are bound to its key',
    )
    .option('--dpop-nonce', 'DPoP proofs must carry a server nonce (answered use_dpop_nonce with DPoP-Nonce)')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      const grants = opts.grant.length > 0 ? opts.grant : ['refresh_token'];
      const { client, secret } = await withServer(io, opts, (t) =>
        saveClient(t.ctx, {
          id: opts.id,
          public: opts.public === true,
          secret: opts.secret,
          grantTypes: grants,
          allowedScopes: opts.scope,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.defaultScope ? { defaultScope: opts.defaultScope } : {}),
          accessTokenTtl: duration('access-token-ttl', opts.accessTokenTtl) ?? null,
          refreshGracePeriod: duration('refresh-grace-period', opts.refreshGracePeriod) ?? null,
          refreshIdleTtl: duration('refresh-idle-ttl', opts.refreshIdleTtl) ?? null,
          refreshAbsoluteTtl: duration('refresh-absolute-ttl', opts.refreshAbsoluteTtl) ?? null,
          requireNonce: opts.requireNonce === true,
          introspectAny: opts.resourceServer === true,
          ...(opts.tokenFormat ? { accessTokenFormat: opts.tokenFormat } : {}),
          cookieMode: opts.cookie === true,
          dpop: opts.dpop === true,
          dpopNonce: opts.dpopNonce === true,
        }),
      );
      const scopes = requestableScopes(client);
      const shown = {
        id: client.id,
        public: client.public,
        grantTypes: client.grantTypes,
        cookieMode: client.cookieMode === true,
        dpop: client.dpop === true,
        dpopNonce: client.dpopNonce === true,
        // What the client may request; anything else is refused with invalid_scope.
        scopes,
        defaultScope: client.defaultScope,
        ...(secret ? { secret } : {}),
      };
      print(io, opts.json === true, shown, () =>
        [
          `saved ${client.public ? 'public' : 'confidential'} client ${client.id} (grants: ${client.grantTypes.join(', ')}${client.cookieMode ? '; cookie mode' : ''}${client.dpop ? '; DPoP required' : ''}${client.dpopNonce ? '; DPoP nonce' : ''})`,
          scopes.length === 0
            ? 'scopes: none (it may request no scope; add --scope or --default-scope to allow some)'
            : `scopes it may request: ${scopes.join(' ')}${client.defaultScope ? ` (granted when it names none: ${client.defaultScope})` : ' (granted when it names none: no scope)'}`,
          ...(secret && opts.secret === undefined ? [`client secret (shown once): ${secret}`] : []),
        ].join('\n'),
      );
    });
  clients
    .command('list')
    .description('list clients')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      const list = await withServer(io, opts, (t) => t.ctx.stores.directory.listClients());
      const rows = list.map(({ secretHash: _, ...c }) => c);
      print(io, opts.json === true, rows, () =>
        rows.length === 0
          ? 'no clients'
          : rows
              .map((c) => `${c.id}\t${c.public ? 'public' : 'confidential'}\t${c.grantTypes.join(',')}`)
              .join('\n'),
      );
    });
}
