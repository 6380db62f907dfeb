import { type FamilyRecord, LIMITS, revokeFamily, type Tessera } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

interface ListOptions extends CommonOptions {
  user?: string;
  client?: string;
  status?: string;
  limit: string;
}

interface RevokeOptions extends CommonOptions {
  user?: string;
  client?: string;
  reason?: string;
}

const STATUSES = ['active', 'revoked', 'expired'];

function row(f: FamilyRecord, username: string | null, now: number) {
  return {
    id: f.id,
    user: f.userId,
    username,
    client: f.clientId,
    // A session past its absolute expiry that cleanup has not marked yet is over all the same.
    status: f.status === 'active' && f.expiresAt <= now ? 'expired' : f.status,
    started: new Date(f.createdAt).toISOString(),
    lastRefresh: f.lastRefreshAt === null ? null : new Date(f.lastRefreshAt).toISOString(),
    expires: new Date(f.expiresAt).toISOString(),
    rotations: f.generation,
    endReason: f.endReason,
    endedBy: f.endedBy,
    endNote: f.endNote,
  };
}

/** A user named by username or by id; exit 1 with a hint when there is none. */
async function findUser(t: Tessera, nameOrId: string) {
  const { directory } = t.ctx.stores;
  const user = (await directory.findUserByUsername(nameOrId)) ?? (await directory.findUserById(nameOrId));
  if (!user) {
    throw new CliError(
      `no user "${nameOrId}"`,
      EXIT.failed,
      'tessera users list shows every user',
      'user_not_found',
    );
  }
  return user;
}

/** Rows as aligned text columns under a header. */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [headers, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `tessera sessions list|revoke`. */
export function sessionsCommand(program: Command, io: CliIO): void {
  const sessions = program.command('sessions').description('list and revoke sessions (token families)');
  sessions
    .command('list')
    .description('list sessions, newest first')
    .option('--user <name>', 'only this user (username or id)')
    .option('--client <id>', 'only this client')
    .option('--status <status>', 'active, revoked or expired')
    .option('--limit <n>', `at most this many (at most ${LIMITS.listMax})`, String(LIMITS.listDefault))
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: ListOptions) => {
      if (opts.status !== undefined && !STATUSES.includes(opts.status)) {
        throw new CliError(`--status: expected one of ${STATUSES.join(', ')}`, EXIT.usage);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError('--limit: a positive whole number', EXIT.usage);
      const rows = await withServer(io, opts, async (t) => {
        const user = opts.user ? await findUser(t, opts.user) : undefined;
        const list = await t.ctx.stores.sessions.listFamilies({
          limit,
          ...(user ? { userId: user.id } : {}),
          ...(opts.client ? { clientId: opts.client } : {}),
          ...(opts.status ? { status: opts.status as FamilyRecord['status'] } : {}),
        });
        const names = new Map<string, string | null>();
        for (const f of list) {
          if (!names.has(f.userId)) {
            names.set(f.userId, (await t.ctx.stores.directory.findUserById(f.userId))?.username ?? null);
          }
        }
        const now = t.ctx.clock.now();
        return list.map((f) => row(f, names.get(f.userId) ?? null, now));
      });
      print(io, opts.json === true, rows, () =>
        rows.length === 0
          ? 'no sessions'
          : table(
              ['SESSION', 'USER', 'CLIENT', 'STATUS', 'END REASON', 'STARTED', 'LAST REFRESH', 'ROTATIONS'],
              rows.map((r) => [
                r.id,
                r.username ?? r.user,
                r.client,
                r.status,
                r.endReason === null ? '-' : r.endNote ? `${r.endReason} (${r.endNote})` : r.endReason,
                r.started.slice(0, 19).replace('T', ' '),
                r.lastRefresh?.slice(0, 19).replace('T', ' ') ?? '-',
                String(r.rotations),
              ]),
            ),
      );
    });
  sessions
    .command('revoke')
    .description('end a session (by id), or every active session of a user or a client')
    .argument('[id]', 'session id (the sid claim)')
    .option('--user <name>', 'every active session of this user (username or id)')
    .option('--client <id>', 'every active session of this client')
    .option(
      '--reason <reason>',
      'why, in your words: kept with the session (its end reason is admin_revoked)',
    )
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, opts: RevokeOptions) => {
      const targets = [id, opts.user, opts.client].filter((v) => v !== undefined);
      if (targets.length !== 1)
        throw new CliError('give exactly one of: a session id, --user, --client', EXIT.usage);
      const revoked = await withServer(io, opts, async (t) => {
        const user = opts.user ? await findUser(t, opts.user) : undefined;
        const ended: string[] = [];
        if (id) {
          const family = await t.ctx.stores.sessions.findFamily(id);
          if (!family)
            throw new CliError(`no session with id ${id}`, EXIT.failed, undefined, 'session_not_found');
          if (await revokeFamily(t.ctx, family, 'admin_revoked', 'admin', { by: 'cli', note: opts.reason }))
            ended.push(family.id);
        } else {
          // Page by page: a listing returns at most LIMITS.listMax, and each page ends what it lists.
          for (;;) {
            const page = await t.ctx.stores.sessions.listFamilies({
              status: 'active',
              limit: LIMITS.listMax,
              ...(user ? { userId: user.id } : {}),
              ...(opts.client ? { clientId: opts.client } : {}),
            });
            let progress = 0;
            for (const f of page) {
              if (await revokeFamily(t.ctx, f, 'admin_revoked', 'admin', { by: 'cli', note: opts.reason })) {
                ended.push(f.id);
                progress++;
              }
            }
            if (page.length < LIMITS.listMax || progress === 0) break;
          }
        }
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
        revoked.length > 0
          ? `revoked ${revoked.length} session(s)`
          : id
            ? `nothing to revoke: session ${id} had already ended`
            : `nothing to revoke: ${opts.user ? `user ${opts.user}` : `client ${opts.client}`} has no active sessions`,
      );
    });
}
