import type { IncomingHttpHeaders } from 'node:http';
import type { TokenSources } from '../core/extract-token.js';

/** The parts of a Node request the adapters read. */
export interface NodeRequestLike {
  headers: IncomingHttpHeaders;
  /** Node drops repeated Authorization headers from `headers`; `rawHeaders` still has them. */
  rawHeaders: readonly string[];
  url?: string | undefined;
  method?: string | undefined;
  /** A TLS socket says `encrypted`: the scheme of the request URL. */
  socket?: object | undefined;
}

/** Token sources of a Node request, with the body a framework already parsed (if any). */
export function nodeSources(req: NodeRequestLike, body: unknown): TokenSources {
  const authorization: string[] = [];
  const dpop: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (name === 'authorization') authorization.push(req.rawHeaders[i + 1]!);
    else if (name === 'dpop') dpop.push(req.rawHeaders[i + 1]!);
  }
  const url = req.url ?? '';
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
  // The request's own URL, from its Host header; behind a proxy the resource server's `origin` option replaces it.
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? 'https' : 'http';
  const host = req.headers.host;
  return {
    authorization,
    queryTokens,
    bodyTokens,
    dpop,
    ...(req.method === undefined ? {} : { method: req.method }),
    ...(host === undefined ? {} : { url: `${scheme}://${host}${url}` }),
  };
}
