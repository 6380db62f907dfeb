import { type FamilyRecord, revokeFamily } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';
import { type CommonOptions, withServer } from '../open-server.js';
import { configOption, dbOption } from '../setting-options.js';

interface ListOptions extends CommonOptions {
  user?: string;
  client?: string;
  status?: string;
  limit: string;
}

interface RevokeOptions extends CommonOptions {
  user?: string;
  client?: string;
  reason: string;
}

const STATUSES = ['active', 'revoked', 'expired'];

function row(f: FamilyRecord) {
  return {
    id: f.id,
    user: f.userId,
    client: f.clientId,
    status: f.status,
    started: new Date(f.createdAt).toISOString(),
    lastRefresh: f.lastRefreshAt === null ? null : new Date(f.lastRefreshAt).toISOString(),
    expires: new Date(f.expiresAt).toISOString(),
    rotations: f.generation,
    endReason: f.endReason,
  };
}

/** `tessera sessions list|revoke`. */
export function sessionsCommand(program: Command, io: CliIO): void {
  const sessions = program.command('sessions').description('list and revoke sessions (token families)');
  sessions
    .command('list')
    .description('list sessions, newest first')
    .option('--user <id>', 'only this user id')
    .option('--client <id>', 'only this client')
    .option('--status <status>', 'active, revoked or expired')
    .option('--limit <n>', 'at most this many', '100')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: ListOptions) => {
      if (opts.status !== undefined && !STATUSES.includes(opts.status)) {
        throw new CliError(`--status: expected one of ${STATUSES.join(', ')}`, EXIT.usage);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError('--limit: a positive whole number', EXIT.usage);
      const list = await withServer(io, opts, (t) =>
        t.ctx.stores.tokens.listFamilies({
          limit,
          ...(opts.user ? { userId: opts.user } : {}),
          ...(opts.client ? { clientId: opts.client } : {}),
          ...(opts.status ? { status: opts.status as FamilyRecord['status'] } : {}),
        }),
      );
      const rows = list.map(row);
      print(io, opts.json === true, rows, () =>
        rows.length === 0
          ? 'no sessions'
          : rows
              .map((r) => `${r.id}\t${r.user}\t${r.client}\t${r.status}\trotations ${r.rotations}`)
              .join('\n'),
      );
    });
  sessions
    .command('revoke')
    .description('end a session (by id), or every active session of a user or a client')
    .argument('[id]', 'session id (the sid claim)')
    .option('--user <id>', 'every active session of this user id')
    .option('--client <id>', 'every active session of this client')
    .option('--reason <reason>', 'recorded with the revocation', 'admin')
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, opts: RevokeOptions) => {
      const targets = [id, opts.user, opts.client].filter((v) => v !== undefined);
      if (targets.length !== 1)
        throw new CliError('give exactly one of: a session id, --user, --client', EXIT.usage);
      const revoked = await withServer(io, opts, async (t) => {
        const families = id
          ? [await t.ctx.stores.tokens.findFamily(id)].filter((f): f is FamilyRecord => f !== null)
          : await t.ctx.stores.tokens.listFamilies({
              status: 'active',
              limit: 10_000,
              ...(opts.user ? { userId: opts.user } : {}),
              ...(opts.client ? { clientId: opts.client } : {}),
            });
        if (id && families.length === 0) throw new CliError(`no session with id ${id}`);
        const ended: string[] = [];
        for (const f of families) if (await revokeFamily(t.ctx, f, opts.reason, 'admin')) ended.push(f.id);
        await t.ctx.stores.events.append([
          {
            at: t.ctx.clock.now(),
            type: 'admin.action',
            reason: opts.reason,
            data: { action: 'sessions.revoke', via: 'cli', sessions: ended.length },
          },
        ]);
        return ended;
      });
      print(io, opts.json === true, { revoked }, () =>
        revoked.length === 0 ? 'nothing to revoke (already ended)' : `revoked ${revoked.length} session(s)`,
      );
    });
}
