import { isTesseraError, TesseraError, type TokenResponse } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import type { ClientRecord } from '../ports/index.js';
import { authenticateUser } from './authenticate-user.js';
import type { TesseraContext } from './context.js';
import { issueSession } from './issue-session.js';
import type { LoginThrottle } from './login-throttle.js';
import { resolveScope } from './resolve-scope.js';

export interface SignInInput {
  /** The client the session is for, already resolved and allowed to start sessions. */
  client: ClientRecord;
  username: string;
  password: string;
  /** The requested scope; omitted: the client's default. */
  scope?: string | undefined;
  /** `login` (`POST /api/auth/login`) or `password` (the RFC 6749 password grant). */
  grant: 'login' | 'password';
  userAgent?: string | undefined;
  ip?: string | undefined;
  /** Thumbprint of the key of a verified DPoP proof: the session is bound to it. */
  dpopJkt?: string | undefined;
}

/**
 * Starts a session from a username and password: the scope is resolved first (a bad scope is
 * refused before any password is checked), then the user is authenticated (throttled per
 * username), then the session is issued.
 *
 * Wrong credentials answer `invalid_credentials` (401) at the first-party login; the password
 * grant answers them `invalid_grant` (400), as RFC 6749 §5.2 says for the token endpoint.
 */
export async function signIn(
  ctx: TesseraContext<'sessions' | 'directory' | 'events'>,
  throttle: LoginThrottle,
  input: SignInInput,
): Promise<TokenResponse> {
  const { client, grant } = input;
  const wrongCredentials = () =>
    grant === 'password'
      ? new TesseraError('invalid_grant', 'Invalid username or password')
      : new TesseraError('invalid_credentials');
  // Sizes before anything else: no lookup for a megabyte username, no hash of a huge password.
  if (input.username.length > LIMITS.maxUsernameLength || input.password.length > LIMITS.maxPasswordLength)
    throw wrongCredentials();
  const scope = resolveScope(client, input.scope);
  const user = await authenticateUser(ctx, throttle, {
    username: input.username,
    password: input.password,
    clientId: client.id,
    ip: input.ip,
  }).catch((err: unknown) => {
    if (isTesseraError(err) && err.code === 'invalid_credentials') throw wrongCredentials();
    throw err;
  });
  return issueSession(ctx, {
    client,
    user,
    scope,
    grant,
    userAgent: input.userAgent,
    ip: input.ip,
    dpopJkt: input.dpopJkt,
  });
}
