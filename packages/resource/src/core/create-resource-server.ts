import {
  ENDPOINTS,
  isTesseraError,
  REVOCATION_FEED_METADATA,
  systemClock,
  TesseraError,
} from '@tessera/protocol';
import { hmacDpopNonces } from '../dpop/dpop-nonces.js';
import { DPOP_ALGS_PARAM, DpopVerifier } from '../dpop/verify-dpop-proof.js';
import { OpaqueTokenValidator } from '../introspection/validate-opaque-token.js';
import { splitCompactJws } from '../jwt/inspect-compact-jws.js';
import { JwksCache, SUPPORTED_ALGORITHMS } from '../jwt/jwks-cache.js';
import { type JwtVerifyContext, verifyAccessToken } from '../jwt/verify-access-token.js';
import { MetadataSource } from '../metadata/authorization-server-metadata.js';
import { upstreamUnavailable } from '../metadata/fetch-json.js';
import { RevocationFeed, type RevocationFeedStatus } from '../revocations/revocation-feed.js';
import { RevocationSet } from '../revocations/revocation-set.js';
import { dpopFailure, failureFrom, invalidRequest, invalidToken, missingToken } from './answers.js';
import type { AuthInfo, AuthResult, RequireAuthOptions } from './auth-result.js';
import { DEFAULTS } from './defaults.js';
import { extractToken, sourcesFromRequest, type TokenSources } from './extract-token.js';
import { silentLogger } from './logger.js';
import { LruCache } from './lru-cache.js';
import type { ResourceServerOptions } from './options.js';
import { checkAccess } from './require-auth.js';

/** Counters of the work done, for metrics and for tests that prove cheap refusals stay cheap. */
export interface ResourceServerStats {
  requests: number;
  accepted: number;
  rejected: number;
  /** JWTs accepted from the verified-token cache. */
  cacheHits: number;
  /** Signature verifications started (one per cache miss that passed every cheaper check). */
  signatureChecks: number;
  jwksFetches: number;
  metadataFetches: number;
  introspections: number;
  introspectionCacheHits: number;
}

/** The resource server's health, for `/readyz` and dashboards. */
export interface ResourceServerStatus {
  revocations: RevocationFeedStatus;
}

/** The Fetch-API core. Adapters (Fastify, Express) are thin wrappers over it. */
export interface ResourceServer {
  /**
   * Authenticates a Fetch `Request` and optionally checks scopes and roles. Never throws for a
   * bad token: the answer says why and carries the RFC 6750 challenge.
   */
  authenticate(request: Request, required?: RequireAuthOptions): Promise<AuthResult>;
  /** The same, from token sources an adapter already extracted (no `Request` built). */
  authenticateSources(sources: TokenSources, required?: RequireAuthOptions): Promise<AuthResult>;
  /** A reusable guard: `const guard = rs.requireAuth({ scopes: ['read'] }); await guard(request)`. */
  requireAuth(required?: RequireAuthOptions): (request: Request) => Promise<AuthResult>;
  /** Starts the revocation feed (also started by the first `authenticate`). Idempotent. */
  start(): void;
  /** Resolves once metadata is loaded and the first revocation snapshot applied. */
  ready(): Promise<void>;
  /** Stops the revocation feed. */
  close(): void;
  status(): ResourceServerStatus;
  stats(): Readonly<ResourceServerStats>;
  /** The frozen, resolved options (secret omitted). */
  readonly config: Readonly<{ issuer: string; audiences: readonly string[]; realm: string | undefined }>;
}

const FORBIDDEN_ALG = /^(none|HS\d+)$/i;

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new TypeError(
      `@tessera/resource: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return v;
}

/**
 * Creates the resource-server core.
 *
 * @example
 * const rs = createResourceServer({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
 * const result = await rs.authenticate(request, { scopes: ['orders:read'] });
 * if (!result.ok) return failureResponse(result);
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(options.issuer);
  } catch {
    throw new TypeError('@tessera/resource: issuer must be an absolute URL');
  }
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new TypeError('@tessera/resource: issuer must be an http(s) URL');
  }
  const issuer = options.issuer;
  const audiences = Object.freeze(
    typeof options.audience === 'string' ? [options.audience] : [...options.audience],
  );
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('@tessera/resource: audience must name at least one non-empty audience');
  }
  const algorithms = Object.freeze([...(options.algorithms ?? DEFAULTS.algorithms)]);
  for (const alg of algorithms) {
    if (FORBIDDEN_ALG.test(alg))
      throw new TypeError(`@tessera/resource: algorithm ${alg} can never be allowed`);
    if (!SUPPORTED_ALGORITHMS.includes(alg))
      throw new TypeError(`@tessera/resource: unsupported algorithm ${alg}`);
  }
  if (algorithms.length === 0) throw new TypeError('@tessera/resource: algorithms must not be empty');
  if ((options.clientId === undefined) !== (options.clientSecret === undefined)) {
    throw new TypeError('@tessera/resource: clientId and clientSecret go together');
  }
  const credentials =
    options.clientId !== undefined && options.clientSecret !== undefined
      ? { clientId: options.clientId, clientSecret: options.clientSecret }
      : undefined;
  const hasCredentials = credentials !== undefined;
  const wantRevocations = options.revocations ?? hasCredentials;
  const wantIntrospection = options.introspection ?? hasCredentials;
  if ((wantRevocations || wantIntrospection) && credentials === undefined) {
    throw new TypeError('@tessera/resource: revocations and introspection need clientId and clientSecret');
  }

  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clockTolerance = positive('clockTolerance', options.clockTolerance, DEFAULTS.clockTolerance, true);
  const maxTokenBytes = positive('maxTokenBytes', options.maxTokenBytes, DEFAULTS.maxTokenBytes);
  const cacheSize = positive('cacheSize', options.cacheSize, DEFAULTS.verifiedCacheSize, true);
  const realm = options.realm;
  const challenge = Object.freeze({ realm });
  const extractOpts = Object.freeze({
    maxTokenBytes,
    allowQueryToken: options.allowQueryToken ?? false,
    allowBodyToken: options.allowBodyToken ?? false,
  });
  const dpopChallenge = Object.freeze({ realm, scheme: 'DPoP' as const, algs: DPOP_ALGS_PARAM });
  const origin = options.origin === undefined ? undefined : publicOrigin(options.origin);
  const dpopNonces =
    options.dpopNonceSecret === undefined
      ? undefined
      : hmacDpopNonces(
          options.dpopNonceSecret,
          positive('dpopNoncePeriodMs', options.dpopNoncePeriodMs, DEFAULTS.dpopNoncePeriodMs),
        );
  const dpop = new DpopVerifier({
    clock,
    windowSeconds: positive('dpopProofWindow', options.dpopProofWindow, DEFAULTS.dpopProofWindow),
    replayCacheSize: positive(
      'dpopReplayCacheSize',
      options.dpopReplayCacheSize,
      DEFAULTS.dpopReplayCacheSize,
    ),
    maxProofBytes: DEFAULTS.maxDpopProofBytes,
    maxJtiLength: DEFAULTS.maxDpopJtiLength,
    nonces: dpopNonces,
  });
  const requiredClaims = Object.freeze([
    ...new Set([...DEFAULTS.requiredClaims, ...(options.requiredClaims ?? [])]),
  ]);

  const counters: ResourceServerStats = {
    requests: 0,
    accepted: 0,
    rejected: 0,
    cacheHits: 0,
    signatureChecks: 0,
    jwksFetches: 0,
    metadataFetches: 0,
    introspections: 0,
    introspectionCacheHits: 0,
  };

  const metadata = new MetadataSource({
    issuer,
    metadataUrl: options.metadataUrl ?? `${issuer.replace(/\/+$/, '')}${ENDPOINTS.metadata}`,
    fetch: fetchImpl,
    clock,
    logger,
    timeoutMs: DEFAULTS.httpTimeoutMs,
    maxBytes: DEFAULTS.maxResponseBytes,
    retryAfterFailureMs: DEFAULTS.retryAfterFailureMs,
    onFetch: () => counters.metadataFetches++,
  });
  const endpoint =
    (
      configured: string | undefined,
      pick: (m: Awaited<ReturnType<MetadataSource['get']>>) => string | undefined,
    ) =>
    async (): Promise<string | undefined> =>
      configured ?? pick(await metadata.get());

  const jwks = new JwksCache({
    jwksUri: async () => {
      const uri = await endpoint(options.jwksUri, (m) => m.jwks_uri)();
      if (uri === undefined) throw upstreamUnavailable('key set (no jwks_uri in metadata)');
      return uri;
    },
    fetch: fetchImpl,
    clock,
    logger,
    cooldownMs: positive('jwksCooldownMs', options.jwksCooldownMs, DEFAULTS.jwksCooldownMs, true),
    maxAgeMs: DEFAULTS.jwksMaxAgeMs,
    retryAfterFailureMs: DEFAULTS.retryAfterFailureMs,
    timeoutMs: DEFAULTS.httpTimeoutMs,
    maxBytes: DEFAULTS.maxResponseBytes,
    onFetch: () => counters.jwksFetches++,
  });

  const jwtContext: JwtVerifyContext = Object.freeze({
    issuer,
    audiences,
    algorithms,
    clockTolerance,
    requiredClaims,
    maxJsonDepth: DEFAULTS.maxJsonDepth,
    clock,
    jwks,
    onSignatureCheck: () => counters.signatureChecks++,
  });

  // Keyed by the canonical signature segment (never a non-canonical spelling: those fail `splitCompactJws`).
  const verified = new LruCache<{ token: string; auth: AuthInfo }>(cacheSize);

  const opaque =
    wantIntrospection && credentials
      ? new OpaqueTokenValidator({
          issuer,
          audiences,
          endpoint: endpoint(options.introspectionEndpoint, (m) => m.introspection_endpoint),
          ...credentials,
          fetch: fetchImpl,
          clock,
          logger,
          cacheSize: DEFAULTS.introspectionCacheSize,
          cacheTtlMs: positive(
            'introspectionCacheTtlMs',
            options.introspectionCacheTtlMs,
            DEFAULTS.introspectionCacheTtlMs,
            true,
          ),
          negativeTtlMs: DEFAULTS.introspectionNegativeTtlMs,
          timeoutMs: DEFAULTS.httpTimeoutMs,
          maxBytes: DEFAULTS.maxResponseBytes,
          onIntrospect: () => counters.introspections++,
          onCacheHit: () => counters.introspectionCacheHits++,
        })
      : undefined;

  const revoked = new RevocationSet();
  const feed =
    wantRevocations && credentials
      ? new RevocationFeed({
          endpoint: endpoint(options.revocationsEndpoint, (m) => m[REVOCATION_FEED_METADATA]),
          ...credentials,
          set: revoked,
          fetch: fetchImpl,
          clock,
          logger,
          reconnectInitialMs: positive(
            'reconnectInitialMs',
            options.reconnectInitialMs,
            DEFAULTS.reconnectInitialMs,
          ),
          reconnectMaxMs: positive('reconnectMaxMs', options.reconnectMaxMs, DEFAULTS.reconnectMaxMs),
          idleTimeoutMs: positive(
            'feedIdleTimeoutMs',
            options.feedIdleTimeoutMs,
            DEFAULTS.feedIdleTimeoutMs,
            true,
          ),
          maxLineBytes: DEFAULTS.maxSseLineBytes,
          maxSnapshotBytes: DEFAULTS.maxSnapshotBytes,
          timeoutMs: DEFAULTS.httpTimeoutMs,
          random: options.random ?? Math.random,
          onStatus: options.onStatus,
          onNotice: options.onRevocation,
        })
      : undefined;

  async function validate(token: string): Promise<AuthInfo> {
    // Fast path: entries are only ever stored under a signature segment that passed the canonical
    // base64url check, and canonical base64url has one spelling per byte string, so the segment
    // string is as good a key as the decoded bytes; the whole token must match what was verified.
    const now = clock.now();
    const hit = verified.get(token.slice(token.lastIndexOf('.') + 1), now);
    if (hit !== undefined && hit.token === token) {
      counters.cacheHits++;
      return hit.auth;
    }
    const dots = countDots(token);
    if (dots === 4)
      throw new TesseraError('access_token_invalid', 'Encrypted (JWE) access tokens are not accepted');
    if (dots !== 2) {
      if (opaque === undefined)
        throw new TesseraError('access_token_invalid', 'The access token is not a JWT');
      return opaque.validate(token);
    }
    let split: ReturnType<typeof splitCompactJws>;
    try {
      split = splitCompactJws(token);
    } catch (e) {
      throw new TesseraError('access_token_invalid', e instanceof Error ? e.message : undefined);
    }
    // A miss, or the same signature under another header or payload (a forgery attempt): verify in full.
    const auth = await verifyAccessToken(token, split, jwtContext);
    verified.set(split.signatureSegment, { token, auth }, auth.exp * 1000, now);
    return auth;
  }

  async function authenticateSources(
    sources: TokenSources,
    required?: RequireAuthOptions,
  ): Promise<AuthResult> {
    counters.requests++;
    feed?.start();
    const result = await decide(sources, required);
    if (result.ok) counters.accepted++;
    else counters.rejected++;
    return result;
  }

  async function decide(sources: TokenSources, required?: RequireAuthOptions): Promise<AuthResult> {
    const extracted = extractToken(sources, extractOpts);
    // A request that tried DPoP (its scheme, or a proof) is answered with a DPoP challenge even
    // when it is refused before its token is read (RFC 9449 §7.1).
    const tried = triedDpop(sources) ? dpopChallenge : challenge;
    switch (extracted.kind) {
      case 'none':
        return missingToken(challenge);
      case 'malformed':
        return invalidRequest(tried, extracted.description);
      case 'invalid':
        return invalidToken(tried, extracted.description);
      case 'dpop':
      case 'token':
        break;
    }
    const scheme = extracted.kind === 'dpop' ? dpopChallenge : challenge;
    let auth: AuthInfo;
    try {
      auth = await validate(extracted.token);
    } catch (e) {
      if (isTesseraError(e))
        return extracted.kind === 'dpop' ? dpopFailure(e, scheme) : failureFrom(e, scheme);
      // Fail closed on anything unforeseen, and say so in the log (never the token).
      logger.error({ err: e instanceof Error ? e.message : String(e) }, 'tessera-resource: unexpected error');
      return invalidToken(scheme, 'The access token could not be validated');
    }
    const jkt = (auth.claims.cnf as { jkt?: string } | undefined)?.jkt;
    if (revoked.isRevoked(auth.sid, auth.jti, clock.now())) {
      // A bound token is answered with the DPoP challenge however it was sent.
      return invalidToken(jkt === undefined ? scheme : dpopChallenge, 'The access token has been revoked');
    }
    if (extracted.kind === 'token' && jkt !== undefined) {
      // RFC 9449 §7.1: a bound token presented as a bearer token is a downgrade.
      return invalidToken(
        dpopChallenge,
        'The access token is DPoP-bound: send it as Authorization: DPoP with a proof',
      );
    }
    if (extracted.kind === 'dpop') {
      if (jkt === undefined) return invalidToken(dpopChallenge, 'The access token is not DPoP-bound');
      const failure = await checkProof(sources, extracted.token, jkt);
      if (failure !== undefined) return failure;
    }
    return required ? checkAccess(auth, required, challenge) : { ok: true, auth };
  }

  /** Whether the request used the DPoP scheme or carried a proof. */
  function triedDpop(sources: TokenSources): boolean {
    return (
      (sources.dpop !== undefined && sources.dpop.length > 0) ||
      sources.authorization.some((value) => /^dpop(?: |$)/i.test(value))
    );
  }

  /** The request's DPoP proof for a token bound to `jkt`; a refusal, or `undefined` when it holds. */
  async function checkProof(sources: TokenSources, token: string, jkt: string) {
    const url = htuOf(sources, origin);
    if (url === undefined || sources.method === undefined) {
      return invalidToken(dpopChallenge, 'The request URL is unknown, so its DPoP proof cannot be checked');
    }
    try {
      await dpop.verify({ proofs: sources.dpop ?? [], token, jkt, method: sources.method, url });
      return undefined;
    } catch (e) {
      if (!isTesseraError(e)) throw e;
      const nonce =
        e.code === 'use_dpop_nonce' && dpopNonces ? await dpopNonces.current(clock.now()) : undefined;
      return dpopFailure(e, dpopChallenge, nonce);
    }
  }

  async function authenticate(request: Request, required?: RequireAuthOptions): Promise<AuthResult> {
    const sources = await sourcesFromRequest(request, extractOpts.allowBodyToken);
    return authenticateSources(sources, required);
  }

  return Object.freeze({
    authenticate,
    authenticateSources,
    requireAuth: (required?: RequireAuthOptions) => (request: Request) => authenticate(request, required),
    start: () => feed?.start(),
    async ready() {
      feed?.start();
      const needsMetadata =
        options.jwksUri === undefined ||
        (wantIntrospection && options.introspectionEndpoint === undefined) ||
        (wantRevocations && options.revocationsEndpoint === undefined);
      if (needsMetadata) await metadata.get();
      await feed?.synced();
    },
    close: () => feed?.stop(),
    status: () => ({
      revocations: feed?.status() ?? {
        state: 'disabled',
        lastEventId: undefined,
        attempts: 0,
        connectedAt: undefined,
        lastEventAt: undefined,
        disconnectedAt: undefined,
        nextAttemptAt: undefined,
        lastError: undefined,
        revoked: revoked.size,
      },
    }),
    stats: () => ({ ...counters }),
    config: Object.freeze({ issuer, audiences, realm }),
  });
}

/** The configured public origin, validated: scheme, host and port only. */
function publicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('@tessera/resource: origin must be an absolute URL');
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname.length > 1 ||
    url.search ||
    url.hash
  ) {
    throw new TypeError(
      '@tessera/resource: origin must be an http(s) origin without path, query or fragment',
    );
  }
  return url.origin;
}

/**
 * The URL a proof's `htu` must name: the public origin (when configured) with the request
 * target's path, never anything from the `Host` header; without `origin`, the request's URL.
 */
function htuOf(sources: TokenSources, origin: string | undefined): string | undefined {
  if (origin === undefined) return sources.url;
  const target = sources.target ?? sources.url;
  if (target === undefined) return undefined;
  try {
    return `${origin}${new URL(target, 'http://path.invalid').pathname}`;
  } catch {
    return undefined;
  }
}

function countDots(token: string): number {
  let n = 0;
  for (let i = 0; i < token.length; i++) if (token.charCodeAt(i) === 0x2e) n++;
  return n;
}
