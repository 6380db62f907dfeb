import { TesseraError } from '@tessera/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Request parameters: string values only, each at most once. */
export type Params = Readonly<Record<string, string>>;

/**
 * Replaces Fastify's body parsers with strict ones: only form-urlencoded and JSON,
 * at most `bodyLimit` bytes (checked before parsing), no duplicated parameter, string values
 * only; anything else gets a clear `invalid_request`, `payload_too_large` or `unsupported_media_type`.
 */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (_req, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseJsonParams(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** Parses a form body. RFC 6749 §3.1: a parameter without a value counts as omitted. */
export function parseForm(body: string): Params {
  const out: Record<string, string> = Object.create(null);
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name))
      throw new TesseraError('duplicate_parameter', `${nameOf(name)} was sent more than once`);
    seen.add(name);
    if (value !== '') out[name] = value;
  }
  return out;
}

/** Parses a flat JSON object of string values, refusing duplicate keys (JSON.parse would keep the last). */
export function parseJsonParams(body: string): Params {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new TesseraError('invalid_request', 'The body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TesseraError('invalid_request', 'The body must be a JSON object');
  }
  const duplicate = findDuplicateKey(body);
  if (duplicate !== undefined) {
    throw new TesseraError('duplicate_parameter', `${nameOf(duplicate)} was sent more than once`);
  }
  const out: Record<string, string> = Object.create(null);
  for (const [name, v] of Object.entries(value)) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v !== 'string') throw new TesseraError('invalid_request', `${nameOf(name)} must be a string`);
    out[name] = v;
  }
  return out;
}

/** Finds a key that appears twice in one object of a valid JSON text. */
export function findDuplicateKey(text: string): string | undefined {
  const stack: ({ keys: Set<string>; expectKey: boolean } | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}

/** The parameters the endpoints read: the only names an error message may repeat. */
const KNOWN_PARAMETERS = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'refresh_token',
  'username',
  'password',
  'scope',
  'nonce',
  'token',
  'token_type_hint',
]);

/** How an error names a parameter: by its name when it is one of ours, else not at all (nothing the client chose is repeated). */
function nameOf(name: string): string {
  return KNOWN_PARAMETERS.has(name) ? `The parameter "${name}"` : 'A parameter';
}

/** The value of a required parameter, or a clear `invalid_request`. */
export function required(params: Params | undefined, name: string): string {
  const value = params?.[name];
  if (value === undefined) throw new TesseraError('invalid_request', `The parameter "${name}" is required`);
  return value;
}

/** Refuses a request whose body is missing (no content type or an empty body). */
export function bodyOf(body: unknown): Params {
  if (body === undefined || body === null) {
    throw new TesseraError(
      'invalid_request',
      'The request has no body; send application/x-www-form-urlencoded or JSON',
    );
  }
  return body as Params;
}

/** The two body types the server reads. */
export type BodyType = 'application/x-www-form-urlencoded' | 'application/json';

/**
 * The media type of a `Content-Type` header without its parameters, in lower case: media types
 * are case-insensitive (RFC 9110 §8.3.1), so `Application/JSON; charset=UTF-8` is JSON.
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/** The parameters of a body that must be of `type`; any other type is `unsupported_media_type`. */
export function bodyOfType(request: FastifyRequest, type: BodyType): Params {
  if (mediaTypeOf(request.headers['content-type']) !== type) {
    throw new TesseraError('unsupported_media_type', `This endpoint takes ${type}`);
  }
  return bodyOf(request.body);
}
