import { TesseraError } from '@tessera/protocol';
import { dummyPasswordHash, verifyPassword } from '../crypto/password.js';
import type { UserRecord } from '../ports/index.js';
import { recordEvents, type TesseraContext } from './context.js';
import type { LoginThrottle } from './login-throttle.js';

/**
 * Checks a username and password. Wrong username and wrong password take the same time and
 * give the same answer, so neither is revealed.
 */
export async function authenticateUser(
  ctx: TesseraContext<'directory' | 'events'>,
  throttle: LoginThrottle,
  input: { username: string; password: string; clientId: string; ip?: string | undefined },
): Promise<UserRecord> {
  const key = input.username.normalize('NFC').toLowerCase();
  const now = ctx.clock.now();
  const wait = await throttle.retryAfter(key, now);
  if (wait > 0) {
    ctx.metrics.logins.inc({ result: 'throttled' });
    throw new TesseraError('rate_limited', 'Too many failed sign-in attempts; try again later', {
      retryAfter: wait,
    });
  }
  const user = await ctx.stores.directory.findUserByUsername(input.username);
  // An unknown user costs one password hash too, so timing does not tell which part was wrong.
  const ok = await verifyPassword(
    input.password,
    user?.passwordHash ?? (await dummyPasswordHash(ctx.config.passwordHashCost)),
  );
  if (!user || !ok || user.disabled) {
    await throttle.fail(key, now);
    ctx.metrics.logins.inc({ result: 'failed' });
    await recordEvents(ctx, [
      {
        at: now,
        type: 'login.failed',
        userId: user?.id ?? null,
        clientId: input.clientId,
        reason: !user ? 'unknown_user' : user.disabled ? 'disabled' : 'bad_password',
        data: input.ip ? { ip: input.ip } : {},
      },
    ]);
    throw new TesseraError('invalid_credentials');
  }
  await throttle.succeed(key);
  ctx.metrics.logins.inc({ result: 'succeeded' });
  await recordEvents(ctx, [
    {
      at: now,
      type: 'login.succeeded',
      userId: user.id,
      clientId: input.clientId,
      data: input.ip ? { ip: input.ip } : {},
    },
  ]);
  return user;
}
