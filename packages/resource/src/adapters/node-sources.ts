import type { IncomingHttpHeaders } from 'node:http';
import type { TokenSources } from '../core/extract-token.js';

/** The parts of a Node request the adapters read. */
export interface NodeRequestLike {
  headers: IncomingHttpHeaders;
  /** Node drops repeated Authorization headers from `headers`; `rawHeaders` still has them. */
  rawHeaders: readonly string[];
  url?: string | undefined;
  /** Express: the URL before a router mounted under a prefix stripped it (`req.url` is relative to the mount). */
  originalUrl?: string | undefined;
  method?: string | undefined;
  /** A TLS socket says `encrypted`: the scheme of the request URL. */
  socket?: object | undefined;
}

/** Token sources of a Node request, with the body a framework already parsed (if any). */
export function nodeSources(req: NodeRequestLike, body: unknown): TokenSources {
  const authorization: string[] = [];
  const dpop: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]?.toLowerCase();
    const value = raw[i + 1] ?? '';
    if (name === 'authorization') authorization.push(value);
    else if (name === 'dpop') dpop.push(value);
  }
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  const queryTokens =
    q !== -1 && url.includes('access_token', q)
      ? new URLSearchParams(url.slice(q + 1)).getAll('access_token')
      : [];
  let bodyTokens: string[] = [];
  const type = req.headers['content-type'] ?? '';
  if (
    typeof body === 'object' &&
    body !== null &&
    type.toLowerCase().startsWith('application/x-www-form-urlencoded')
  ) {
    const value = (body as Record<string, unknown>).access_token;
    if (typeof value === 'string') bodyTokens = [value];
    else if (Array.isArray(value)) bodyTokens = value.map(String);
  }
  // The request's own URL, from its Host header, only when that is a bare host[:port]: Node passes
  // `Host: a.example/profile?` through as sent, which would move the path. With the resource
  // server's `origin` option the Host header is not used at all (only `target`).
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http';
  const host = req.headers.host;
  const path = requestPath(url);
  return {
    authorization,
    queryTokens,
    bodyTokens,
    dpop,
    ...(req.method === undefined ? {} : { method: req.method }),
    ...(path === undefined ? {} : { target: path }),
    ...(host === undefined || path === undefined || !isBareHost(host)
      ? {}
      : { url: `${scheme}://${host}${path}` }),
  };
}

const BARE_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?$/;

/** A `Host` value with nothing but a name or IP literal and an optional port. */
export function isBareHost(host: string): boolean {
  return host.length <= 255 && BARE_HOST.test(host);
}

/** The path of a request target (origin-form or absolute-form), without query or fragment. */
function requestPath(target: string): string | undefined {
  if (target === '') return undefined;
  try {
    return new URL(target, 'http://path.invalid').pathname;
  } catch {
    return undefined;
  }
}
