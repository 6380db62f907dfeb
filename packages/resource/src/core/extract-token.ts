/**
 * Finds the one access token of a request (RFC 6750 §2). Works on plain strings so the Fetch
 * core and the Node adapters share it without building a `Request` per call.
 */

/** Every place a token could have been sent, as the adapter saw them. */
export interface TokenSources {
  /** Every `Authorization` header value (more than one is refused). */
  authorization: readonly string[];
  /** Every `access_token` query parameter. */
  queryTokens: readonly string[];
  /** Every `access_token` form-body parameter (only for form-encoded bodies). */
  bodyTokens: readonly string[];
  /** Every `DPoP` header value (RFC 9449); more than one is refused. */
  dpop?: readonly string[];
  /** The request method, for a DPoP proof's `htm`. */
  method?: string;
  /**
   * The request URL (scheme, authority, path, query), for a DPoP proof's `htu` when no `origin`
   * is configured. Node adapters build it only from a `Host` that is a bare `host[:port]`.
   */
  url?: string;
  /**
   * The request target's path as the router sees it (Express: `originalUrl`, so a router mounted
   * under a prefix keeps the prefix). With `origin` configured, `htu` is `origin` plus this path,
   * and the `Host` header is never read.
   */
  target?: string;
}

/** Where the token was found. */
export type TokenLocation = 'header' | 'query' | 'body';

export type Extracted =
  | { kind: 'none' }
  | { kind: 'token'; token: string; location: TokenLocation }
  /** The request is malformed: answer 400 `invalid_request`. */
  | { kind: 'malformed'; description: string }
  /** A token is present but unusable without parsing (oversized, bad characters): 401. */
  | { kind: 'invalid'; description: string }
  /** `Authorization: DPoP …` (RFC 9449), handled by the caller. */
  | { kind: 'dpop'; token: string };

export interface ExtractOptions {
  maxTokenBytes: number;
  allowQueryToken: boolean;
  allowBodyToken: boolean;
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const AUTH_HEADER = /^([A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*)(?: +(.*))?$/s;

/** Picks the single token or says precisely why the request is refused. */
export function extractToken(sources: TokenSources, opts: ExtractOptions): Extracted {
  if (sources.authorization.length > 1) {
    return { kind: 'malformed', description: 'More than one Authorization header' };
  }
  let headerToken: { token: string; scheme: 'bearer' | 'dpop' } | undefined;
  const header = sources.authorization[0];
  if (header !== undefined && header !== '') {
    // The size cap comes before any regular expression sees the value.
    if (header.length > opts.maxTokenBytes + 16) {
      return { kind: 'invalid', description: 'The access token is larger than allowed' };
    }
    const match = AUTH_HEADER.exec(header);
    if (match === null) return { kind: 'malformed', description: 'Malformed Authorization header' };
    const scheme = (match[1] ?? '').toLowerCase();
    const credentials = match[2];
    if (scheme === 'bearer' || scheme === 'dpop') {
      if (credentials === undefined || credentials === '') {
        return { kind: 'malformed', description: 'The Authorization header carries no token' };
      }
      if (/[\s,]/.test(credentials)) {
        return { kind: 'malformed', description: 'Malformed Authorization header' };
      }
      headerToken = { token: credentials, scheme };
    }
    // Another scheme (Basic, Digest, ...) carries no bearer token: treated as absent.
  }

  const ways =
    (headerToken ? 1 : 0) +
    (sources.queryTokens.length > 0 ? 1 : 0) +
    (sources.bodyTokens.length > 0 ? 1 : 0);
  if (ways > 1) {
    return { kind: 'malformed', description: 'The access token was sent in more than one way' };
  }
  if (sources.queryTokens.length > 1 || sources.bodyTokens.length > 1) {
    return { kind: 'malformed', description: 'The access_token parameter was sent more than once' };
  }

  const [queryToken] = sources.queryTokens;
  const [bodyToken] = sources.bodyTokens;
  let token: string;
  let location: TokenLocation;
  if (headerToken) {
    token = headerToken.token;
    location = 'header';
  } else if (queryToken !== undefined) {
    // RFC 6750 §2.3: URLs end up in logs and Referer headers; off unless the deployer opts in.
    if (!opts.allowQueryToken) {
      return { kind: 'malformed', description: 'Access tokens in the query string are not accepted' };
    }
    token = queryToken;
    location = 'query';
  } else if (bodyToken !== undefined) {
    if (!opts.allowBodyToken) {
      return { kind: 'malformed', description: 'Access tokens in the request body are not accepted' };
    }
    token = bodyToken;
    location = 'body';
  } else {
    return { kind: 'none' };
  }

  if (token.length > opts.maxTokenBytes) {
    return { kind: 'invalid', description: 'The access token is larger than allowed' };
  }
  if (token === '' || !B64TOKEN.test(token)) {
    return { kind: 'invalid', description: 'The access token contains characters that are not allowed' };
  }
  if (headerToken?.scheme === 'dpop') return { kind: 'dpop', token };
  return { kind: 'token', token, location };
}

/** Reads the token sources of a Fetch `Request` (the body only when asked and form-encoded). */
export async function sourcesFromRequest(request: Request, readBody: boolean): Promise<TokenSources> {
  const auth = request.headers.get('authorization');
  // Fetch joins repeated headers with ", "; a JWS has no comma, so a comma means two proofs.
  const proof = request.headers.get('dpop');
  const dpop = proof === null ? [] : proof.split(',').map((p) => p.trim());
  // Fetch joins repeated headers with ", "; a comma never appears in a b64token, so a
  // repeated Authorization header surfaces as a malformed one.
  const authorization = auth === null ? [] : [auth];
  const url = request.url;
  const queryTokens = url.includes('access_token') ? new URL(url).searchParams.getAll('access_token') : [];
  let bodyTokens: string[] = [];
  if (readBody && request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null) {
    const type = request.headers.get('content-type') ?? '';
    if (type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      const text = await request.clone().text();
      bodyTokens = new URLSearchParams(text).getAll('access_token');
    }
  }
  return { authorization, queryTokens, bodyTokens, dpop, method: request.method, url: request.url };
}
