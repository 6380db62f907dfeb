import * as oidc from 'openid-client';
import { DEFAULTS } from '../defaults.js';
import { SignInFailed, VaultConfigError } from '../errors.js';
import { saveSet } from '../lifecycle/connections.js';
import type { TokenEndpointJson } from '../lifecycle/token-set.js';
import type { ConnectionOptions, SignInResult, StartSignInOptions } from '../token-vault.js';
import { classifyUpstreamError } from '../upstream/upstream-failure.js';
import { checkIds, connectionOf, type VaultContext } from '../vault-context.js';
import { type PendingSignIn, sealSignIn, stateHash, unsealSignIn } from './pending-sign-in.js';

/**
 * The authorization-code flow with PKCE, through openid-client: PAR (RFC 9126) and signed
 * request objects (RFC 9101) when the upstream advertises them; `state` and `nonce` checked.
 */

export async function startSignIn(
  ctx: VaultContext,
  userId: string,
  o: StartSignInOptions = {},
): Promise<{ url: string; state: string }> {
  const { options } = ctx;
  const connection = connectionOf(ctx, o);
  checkIds(userId, connection);
  const upstream = await ctx.discovery.get();
  const metadata = upstream.metadata;
  if (!metadata.authorization_endpoint) {
    throw new VaultConfigError(
      `${ctx.issuer} has no authorization endpoint: sign users in there and pass the tokens to save()`,
    );
  }
  const redirectUri = o.redirectUri ?? options.redirectUri;
  if (!redirectUri) throw new VaultConfigError('startSignIn needs redirectUri (option or per call)');
  const scopes = metadata.scopes_supported;
  const scope =
    o.scope ??
    options.scope ??
    (scopes?.includes('openid')
      ? scopes.includes('offline_access')
        ? 'openid offline_access'
        : 'openid'
      : undefined);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const openid = scope?.split(' ').includes('openid') === true;
  const nonce = openid ? oidc.randomNonce() : undefined;
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  };
  if (scope) params.scope = scope;
  if (nonce) params.nonce = nonce;
  // OpenID Connect grants offline_access only with an explicit consent prompt.
  if (scope?.split(' ').includes('offline_access')) params.prompt = 'consent';
  Object.assign(params, o.params);
  let url: URL;
  const jarAlgs = metadata.request_object_signing_alg_values_supported;
  const signingKey = upstream.signingKey;
  const signRequest =
    signingKey !== undefined &&
    (metadata.require_signed_request_object === true || (Array.isArray(jarAlgs) && jarAlgs.length > 0));
  const par = typeof metadata.pushed_authorization_request_endpoint === 'string';
  if (signRequest) {
    const jar = await oidc.buildAuthorizationUrlWithJAR(upstream.config, params, signingKey);
    url = par ? await oidc.buildAuthorizationUrlWithPAR(upstream.config, jar.searchParams) : jar;
  } else if (par) {
    url = await oidc.buildAuthorizationUrlWithPAR(upstream.config, params);
  } else {
    url = oidc.buildAuthorizationUrl(upstream.config, params);
  }
  const hash = stateHash(state);
  const tx: PendingSignIn = { userId, connection, verifier, redirectUri, openid };
  if (nonce) tx.nonce = nonce;
  await ctx.store.putSignIn(hash, sealSignIn(ctx.keys, hash, tx), ctx.clock.now() + DEFAULTS.signInTtlMs);
  return { url: url.href, state };
}

export async function finishSignIn(
  ctx: VaultContext,
  userId: string,
  callbackUrl: string | URL,
  o?: ConnectionOptions,
): Promise<SignInResult> {
  const raw = typeof callbackUrl === 'string' ? callbackUrl : callbackUrl.href;
  const state = new URL(raw, 'http://callback.invalid').searchParams.get('state');
  if (!state)
    throw new SignInFailed('The callback carries no state: it does not answer a sign-in started here');
  const hash = stateHash(state);
  // Before the pending sign-in is taken: an upstream that is down must not use it up.
  const upstream = await ctx.discovery.get();
  const sealed = await ctx.store.takeSignIn(hash, ctx.clock.now());
  if (!sealed) throw new SignInFailed('Unknown, already used or expired sign-in (start it again)');
  let tx: PendingSignIn;
  try {
    tx = unsealSignIn(ctx.keys, hash, sealed);
  } catch {
    throw new SignInFailed('The stored sign-in cannot be read (keys changed?); start it again');
  }
  if (tx.userId !== userId) throw new SignInFailed('This sign-in was started for another user');
  if (o?.connection !== undefined && o.connection !== tx.connection) {
    throw new SignInFailed('This sign-in was started for another connection');
  }
  const current = new URL(raw, tx.redirectUri);
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    tokens = await oidc.authorizationCodeGrant(
      upstream.config,
      current,
      {
        pkceCodeVerifier: tx.verifier,
        expectedState: state,
        ...(tx.nonce ? { expectedNonce: tx.nonce } : {}),
        idTokenExpected: tx.openid,
      },
      { redirect_uri: tx.redirectUri },
    );
  } catch (err) {
    const f =
      err instanceof oidc.AuthorizationResponseError
        ? { error: err.error }
        : classifyUpstreamError(err, ctx.clock.now());
    throw new SignInFailed(`The upstream did not complete the sign-in: ${f.error}`, { cause: err });
  }
  await saveSet(ctx, userId, tokens as unknown as TokenEndpointJson, { connection: tx.connection });
  const result: SignInResult = { userId, connection: tx.connection };
  if (tokens.scope !== undefined) result.scope = tokens.scope;
  const claims = tokens.claims();
  if (claims) result.claims = { ...claims };
  return result;
}
