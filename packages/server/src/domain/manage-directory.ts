import { randomBytes, randomUUID } from 'node:crypto';
import { LIMITS } from '../config/limits.js';
import { hashPassword } from '../crypto/password.js';
import { InputError } from '../errors.js';
import { type ClientRecord, GRANT_TYPES, type GrantType, type UserRecord } from '../ports/index.js';
import { hashClientSecret } from './authenticate-client.js';
import type { TesseraContext } from './context.js';
import { parseScope } from './resolve-scope.js';

const USERNAME = /^[\p{L}\p{N}._@+-]{1,128}$/u;
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

export interface CreateUserInput {
  username: string;
  password: string;
  roles?: string[];
}

/** Adds a user with a scrypt password hash. */
export async function createUser(
  ctx: TesseraContext<'directory'>,
  input: CreateUserInput,
): Promise<UserRecord> {
  if (!USERNAME.test(input.username)) {
    throw new InputError('username: 1 to 128 letters, digits or . _ @ + -');
  }
  if (input.password.length < LIMITS.minPasswordLength || input.password.length > LIMITS.maxPasswordLength) {
    throw new InputError(`password: ${LIMITS.minPasswordLength} to ${LIMITS.maxPasswordLength} characters`);
  }
  const user: UserRecord = {
    id: randomUUID(),
    username: input.username,
    passwordHash: await hashPassword(input.password, ctx.config.passwordHashCost),
    roles: [...new Set(input.roles ?? [])],
    disabled: false,
    createdAt: ctx.clock.now(),
  };
  await ctx.stores.directory.createUser(user);
  return user;
}

export interface CreateClientInput {
  id: string;
  name?: string;
  /** Public clients (SPAs, mobile) have no secret. */
  public: boolean;
  /** For confidential clients: the secret, or `undefined` to generate one. */
  secret?: string | undefined;
  grantTypes?: string[];
  allowedScopes?: string[];
  defaultScope?: string;
  accessTokenTtl?: number | null;
  refreshGracePeriod?: number | null;
  refreshIdleTtl?: number | null;
  refreshAbsoluteTtl?: number | null;
  requireNonce?: boolean;
  introspectAny?: boolean;
  /** `jwt`, `opaque`, `paseto` or a registered custom format; omitted: the server's default. */
  accessTokenFormat?: string | null;
  /** Browser cookie mode: the refresh token lives only in an HttpOnly cookie. Public clients only. */
  cookieMode?: boolean;
  /** Every token request must carry a DPoP proof; the client's sessions are bound to its key. */
  dpop?: boolean;
  /** DPoP proofs must carry a server nonce (`DPoP-Nonce`, `use_dpop_nonce`). */
  dpopNonce?: boolean;
}

/**
 * Adds or replaces a client. For a confidential client without a given secret, a 256-bit one is
 * generated; the secret is returned once and only its hash is stored.
 */
export async function saveClient(
  ctx: TesseraContext<'directory'>,
  input: CreateClientInput,
): Promise<{ client: ClientRecord; secret: string | undefined }> {
  if (!CLIENT_ID.test(input.id)) throw new InputError('client id: 1 to 128 of A-Z a-z 0-9 . _ ~ -');
  if (input.public && input.secret !== undefined) throw new InputError('a public client has no secret');
  if (input.secret !== undefined && input.secret.length < LIMITS.minClientSecretLength) {
    throw new InputError(
      `secret: at least ${LIMITS.minClientSecretLength} characters (or omit it to have one generated)`,
    );
  }
  const grantTypes = (input.grantTypes ?? ['refresh_token']) as GrantType[];
  for (const g of grantTypes) {
    if (!GRANT_TYPES.includes(g))
      throw new InputError(`grant type "${g}": expected ${GRANT_TYPES.join(', ')}`);
  }
  if (input.cookieMode && !input.public) {
    throw new InputError('cookie mode is for public (browser) clients');
  }
  if (input.public && grantTypes.includes('client_credentials')) {
    throw new InputError('a public client cannot use client_credentials');
  }
  for (const [name, v] of Object.entries({
    accessTokenTtl: input.accessTokenTtl,
    refreshGracePeriod: input.refreshGracePeriod,
    refreshIdleTtl: input.refreshIdleTtl,
    refreshAbsoluteTtl: input.refreshAbsoluteTtl,
  })) {
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0)) {
      throw new InputError(`${name}: a whole number of seconds`);
    }
  }
  if (input.accessTokenFormat && !ctx.formats.has(input.accessTokenFormat)) {
    throw new InputError(
      `token format "${input.accessTokenFormat}": expected one of ${[...ctx.formats.keys()].join(', ')}`,
    );
  }
  const secret = input.public ? undefined : (input.secret ?? randomBytes(32).toString('base64url'));
  const client: ClientRecord = {
    id: input.id,
    name: input.name ?? input.id,
    public: input.public,
    secretHash: secret === undefined ? null : hashClientSecret(ctx, secret),
    grantTypes,
    allowedScopes: (input.allowedScopes ?? []).flatMap(parseScope),
    defaultScope: parseScope(input.defaultScope ?? '').join(' '),
    accessTokenTtl: input.accessTokenTtl ?? null,
    refreshGracePeriod: input.refreshGracePeriod ?? null,
    refreshIdleTtl: input.refreshIdleTtl ?? null,
    refreshAbsoluteTtl: input.refreshAbsoluteTtl ?? null,
    requireNonce: input.requireNonce ?? false,
    introspectAny: input.introspectAny ?? false,
    accessTokenFormat: input.accessTokenFormat ?? null,
    cookieMode: input.cookieMode ?? false,
    ...(input.dpop ? { dpop: true } : {}),
    ...(input.dpopNonce ? { dpopNonce: true } : {}),
    createdAt: ctx.clock.now(),
  };
  await ctx.stores.directory.saveClient(client);
  return { client, secret };
}
