/** The decoded parts of `Authorization: Basic …` client authentication. */
export interface BasicCredentials {
  id: string;
  secret: string;
}

/**
 * The `Authorization` header value for `client_secret_basic` (RFC 6749 §2.3.1): the client id
 * and secret are each form-urlencoded, joined by `:`, and the result base64-encoded. The
 * form-encoding step is what lets an id or secret contain `:` or any Unicode character.
 *
 * @example
 * headers.authorization = encodeBasicCredentials('api', secret); // "Basic YXBpOn…"
 */
export function encodeBasicCredentials(id: string, secret: string): string {
  // Form-encoded text is ASCII, so btoa needs no UTF-8 step.
  return `Basic ${btoa(`${formEncode(id)}:${formEncode(secret)}`)}`;
}

/**
 * Reads an `Authorization: Basic …` header as {@link encodeBasicCredentials} writes it, or
 * `undefined` when it is another scheme or malformed (not base64, no `:`, an empty id, or
 * percent-escapes that do not decode).
 */
export function decodeBasicCredentials(authorization: string): BasicCredentials | undefined {
  if (!authorization.startsWith('Basic ')) return undefined;
  let text: string;
  try {
    const binary = atob(authorization.slice(6).trim());
    // Form-encoded credentials are ASCII; raw UTF-8 from a lax client is decoded as such.
    text = NON_ASCII.test(binary) ? utf8.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))) : binary;
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 1) return undefined;
  try {
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** A byte above 0x7f in atob's output (one char per byte). */
const NON_ASCII = /[\x80-\xff]/;
const utf8 = new TextDecoder();

/** application/x-www-form-urlencoded, as URLSearchParams writes it (space as `+`). */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
