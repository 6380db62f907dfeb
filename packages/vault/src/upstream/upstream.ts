import { isIP } from 'node:net';
import { importJWK, importPKCS8, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { VaultConfigError } from '../errors.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-failure.js';

/** How the vault authenticates to the upstream's token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** A private key for `private_key_jwt` (and signed request objects): a private JWK, a PKCS#8 PEM, or a CryptoKey. */
export type ClientPrivateKey = JWK | string | CryptoKey;

export interface UpstreamOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` (or `_post` if that is all the upstream lists) with a secret, `none` without. */
  clientAuth?: ClientAuthMethod;
  /** The private key for `private_key_jwt`. */
  key?: ClientPrivateKey;
  /** Its key id (`kid`), if the JWK does not carry one. */
  keyId?: string;
  /** Its JWS algorithm; default from the JWK's `alg`, else ES256 for EC P-256, RS256 for RSA, EdDSA for Ed25519. */
  keyAlg?: string;
  requestTimeoutMs: number;
}

/** The token endpoint's JSON, as openid-client returns it. */
export type UpstreamTokens = oidc.TokenEndpointResponse;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function importKey(key: ClientPrivateKey, alg: string | undefined): Promise<CryptoKey> {
  if (typeof key === 'string') {
    if (!alg) throw new VaultConfigError('keyAlg is required with a PEM key (e.g. ES256, RS256, EdDSA)');
    return importPKCS8(key, alg);
  }
  if ('d' in key || 'kty' in key) {
    const jwk = key as JWK;
    if (typeof jwk.d !== 'string')
      throw new VaultConfigError('key: the JWK must be a private key (it has no "d")');
    const use =
      alg ??
      jwk.alg ??
      (jwk.kty === 'EC' && jwk.crv === 'P-256'
        ? 'ES256'
        : jwk.kty === 'RSA'
          ? 'RS256'
          : jwk.kty === 'OKP'
            ? 'EdDSA'
            : undefined);
    if (!use) throw new VaultConfigError('keyAlg is required for this key type');
    const imported = await importJWK(jwk, use);
    if (!(imported instanceof CryptoKey))
      throw new VaultConfigError('key: expected an asymmetric private key');
    return imported;
  }
  return key as CryptoKey;
}

/** Discovery did not succeed; `transient` when the upstream was unreachable or unavailable (not misconfigured). */
export class DiscoveryFailed extends Error {
  constructor(
    message: string,
    readonly failure: UpstreamFailure,
    readonly transient: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The upstream authorization server, through openid-client: discovery, client authentication,
 * refresh, revocation and the authorization-code flow. The vault never speaks OAuth itself.
 */
export class Upstream {
  private constructor(
    readonly config: oidc.Configuration,
    readonly issuer: string,
    readonly signingKey: { key: CryptoKey; kid?: string } | undefined,
  ) {}

  /**
   * Checks the options and imports the key (a bad one is a `VaultConfigError` here), and
   * returns the discovery to run: RFC 8414 metadata first, then OpenID Connect discovery,
   * whichever the upstream serves. Plain http is accepted only for loopback issuers.
   */
  static async prepare(options: UpstreamOptions): Promise<(now: number) => Promise<Upstream>> {
    let url: URL;
    try {
      url = new URL(options.issuer);
    } catch {
      throw new VaultConfigError(`issuer: "${options.issuer}" is not a URL`);
    }
    const insecure = url.protocol === 'http:';
    if (insecure && !isLoopback(url.hostname)) {
      throw new VaultConfigError(
        `issuer: ${options.issuer} must use https (plain http is allowed only on loopback)`,
      );
    }
    if (url.protocol !== 'https:' && !insecure) throw new VaultConfigError('issuer: must be an https URL');
    if (!options.clientId) throw new VaultConfigError('clientId is required');

    let signingKey: { key: CryptoKey; kid?: string } | undefined;
    if (options.key !== undefined) {
      const key = await importKey(options.key, options.keyAlg);
      const kid =
        options.keyId ??
        (typeof options.key === 'object' && 'kid' in options.key ? options.key.kid : undefined);
      signingKey = kid ? { key, kid } : { key };
    }
    const method = options.clientAuth;
    if (method === 'private_key_jwt' && !signingKey) {
      throw new VaultConfigError(
        'clientAuth "private_key_jwt" needs key: a private JWK, a PKCS#8 PEM or a CryptoKey',
      );
    }
    if ((method === 'client_secret_basic' || method === 'client_secret_post') && !options.clientSecret) {
      throw new VaultConfigError(`clientAuth "${method}" needs clientSecret`);
    }
    if (method === undefined && !options.clientSecret && !signingKey) {
      // A public client is allowed, but only when asked for: a forgotten secret must not silently downgrade.
      throw new VaultConfigError(
        'clientSecret is required (or clientAuth: "private_key_jwt" with key, or clientAuth: "none")',
      );
    }

    const execute = insecure ? [oidc.allowInsecureRequests] : [];
    const timeout = Math.max(1, Math.ceil(options.requestTimeoutMs / 1000));
    const attempt = async (algorithm: 'oauth2' | 'oidc') =>
      oidc.discovery(url, options.clientId, options.clientSecret, undefined, { algorithm, execute, timeout });
    return async (now) => {
      let config: oidc.Configuration;
      try {
        config = await attempt('oauth2');
      } catch (first) {
        try {
          config = await attempt('oidc');
        } catch (second) {
          const a = classifyUpstreamError(first, now);
          const b = classifyUpstreamError(second, now);
          // Not there, or not answering: try again later. Both documents refused: misconfigured.
          const transient = [a, b].find((f) => f.kind === 'network' || f.kind === 'unavailable');
          throw new DiscoveryFailed(
            `discovery failed at ${options.issuer} (neither RFC 8414 nor OpenID Connect metadata): ${(first as Error).message}`,
            transient ?? a,
            transient !== undefined,
            { cause: first },
          );
        }
      }
      const metadata = config.serverMetadata();
      const supported = metadata.token_endpoint_auth_methods_supported;
      const chosen: ClientAuthMethod =
        method ??
        (signingKey && !options.clientSecret
          ? 'private_key_jwt'
          : supported &&
              !supported.includes('client_secret_basic') &&
              supported.includes('client_secret_post')
            ? 'client_secret_post'
            : 'client_secret_basic');
      const auth =
        chosen === 'private_key_jwt'
          ? oidc.PrivateKeyJwt(requireKey(signingKey))
          : chosen === 'client_secret_post'
            ? oidc.ClientSecretPost(options.clientSecret)
            : chosen === 'none'
              ? oidc.None()
              : oidc.ClientSecretBasic(options.clientSecret);
      const clientMetadata: Partial<oidc.ClientMetadata> = { client_id: options.clientId };
      if (options.clientSecret) clientMetadata.client_secret = options.clientSecret;
      const configured = new oidc.Configuration(metadata, options.clientId, clientMetadata, auth);
      if (insecure) oidc.allowInsecureRequests(configured);
      configured.timeout = timeout;
      return new Upstream(configured, metadata.issuer, signingKey);
    };
  }

  /** RFC 6749 §6. */
  refresh(refreshToken: string): Promise<UpstreamTokens> {
    return oidc.refreshTokenGrant(this.config, refreshToken);
  }

  /** RFC 7009. */
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    return oidc.tokenRevocation(this.config, token, { token_type_hint: hint });
  }

  get metadata(): oidc.ServerMetadata {
    return this.config.serverMetadata();
  }
}

/** The key `private_key_jwt` signs with; the options were checked for it before discovery. */
function requireKey(key: { key: CryptoKey; kid?: string } | undefined): { key: CryptoKey; kid?: string } {
  if (key === undefined) throw new TypeError('clientAuth "private_key_jwt" needs key');
  return key;
}
