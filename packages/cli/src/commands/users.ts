import { createUser, hasErrorCode } from '@tessera/server';
import type { Command } from 'commander';
import { CliError, type CliIO, EXIT, print } from '../io.js';
import { type CommonOptions, createOption, withServer } from '../open-server.js';
import { configOption, databaseSchemaOption, databaseUrlOption, dbOption } from '../setting-options.js';

interface AddOptions extends CommonOptions {
  username: string;
  password?: string;
  passwordStdin?: boolean;
  role: string[];
  admin?: boolean;
}

interface SetAdminOptions extends CommonOptions {
  off?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `tessera users add|list`. */
export function usersCommand(program: Command, io: CliIO): void {
  const users = program.command('users').description('manage users');
  users
    .command('add')
    .description('add a user (the password is hashed with scrypt)')
    .requiredOption('--username <name>', 'the user name to sign in with')
    .option('--password <password>', 'the password (visible in the process list; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--role <role>', 'a role (repeatable), e.g. admin', collect, [])
    .option('--admin', 'an administrator: may sign in to the dashboard (/admin) and its API')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
        throw new CliError('give exactly one of --password or --password-stdin', EXIT.usage);
      }
      const password = opts.passwordStdin
        ? (await io.readStdin()).replace(/\r?\n$/, '')
        : (opts.password ?? '');
      const user = await withServer(io, opts, (t) =>
        createUser(t.ctx, {
          username: opts.username,
          password,
          roles: opts.admin ? [...opts.role, 'admin'] : opts.role,
        }).catch((err: Error) => {
          if (hasErrorCode(err, 'ERR_TESSERA_DUPLICATE'))
            throw new CliError(`a user named "${opts.username}" already exists`);
          throw err;
        }),
      );
      print(
        io,
        opts.json === true,
        { id: user.id, username: user.username, roles: user.roles },
        () => `added user ${user.username} (id ${user.id})`,
      );
    });
  users
    .command('set-admin')
    .description('give a user the admin role (the dashboard), or take it away with --off')
    .argument('<user>', 'username or id')
    .option('--off', 'take the admin role away')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (nameOrId: string, opts: SetAdminOptions) => {
      const user = await withServer(io, opts, async (t) => {
        const { directory } = t.ctx.stores;
        const found =
          (await directory.findUserByUsername(nameOrId)) ?? (await directory.findUserById(nameOrId));
        if (!found) {
          throw new CliError(
            `no user "${nameOrId}"`,
            EXIT.failed,
            'tessera users list shows every user',
            'user_not_found',
          );
        }
        const roles = opts.off
          ? found.roles.filter((r) => r !== 'admin')
          : [...new Set([...found.roles, 'admin'])];
        const updated = { ...found, roles };
        await directory.updateUser(updated);
        return updated;
      });
      print(
        io,
        opts.json === true,
        { id: user.id, username: user.username, roles: user.roles },
        () => `${user.username} ${opts.off ? 'is no longer' : 'is now'} an administrator`,
      );
    });
  users
    .command('list')
    .description('list users')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(databaseSchemaOption())
    .addOption(createOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      const list = await withServer(io, opts, (t) => t.ctx.stores.directory.listUsers());
      const rows = list.map((u) => ({
        id: u.id,
        username: u.username,
        roles: u.roles,
        disabled: u.disabled,
      }));
      print(io, opts.json === true, rows, () =>
        rows.length === 0
          ? 'no users'
          : rows.map((u) => `${u.username}\t${u.id}\t${u.roles.join(',')}`).join('\n'),
      );
    });
}
