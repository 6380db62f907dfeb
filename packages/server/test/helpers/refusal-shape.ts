import assert from 'node:assert/strict';
import {
  ERROR_CODES,
  isKnownErrorCode,
  isSessionEndReason,
  OPAQUE_ACCESS_TOKEN_PREFIX,
  REFRESH_TOKEN_PREFIX,
} from '@tessera/protocol';

/** An HTTP answer as the checks below read it: status, lower-case headers, the raw body. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

/** Anything that looks like a token Tessera hands out: a refresh token, an opaque or PASETO access token, a JWT. */
const TOKEN_SHAPES = [
  new RegExp(`${REFRESH_TOKEN_PREFIX}[A-Za-z0-9_-]{8}`),
  new RegExp(`${OPAQUE_ACCESS_TOKEN_PREFIX}[A-Za-z0-9_-]{8}`),
  /v4\.public\.[A-Za-z0-9_-]{8}/,
  /eyJ[A-Za-z0-9_-]{4,}\.eyJ/,
];

/**
 * The property every refusal must have: the documented shape `{error, error_description,
 * error_code, retryable}` and nothing else, `error`, `status` and `retryable` as the one table
 * says for `error_code`, `Retry-After` exactly when retryable, `Cache-Control: no-store`, JSON; it
 * repeats none of `sent` (what the client chose), and carries no token, in the body or in a cookie.
 * Returns the failure as a sentence, or `undefined` when the answer is right, so a sweep can
 * collect every failure before it reports.
 */
export function refusalProblem(res: Answer, sent: readonly string[] = []): string | undefined {
  try {
    assertRefusal(res, sent);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/** {@link refusalProblem} as an assertion. */
export function assertRefusal(res: Answer, sent: readonly string[] = []): void {
  assert.ok(res.status >= 400 && res.status <= 599, `status ${res.status} is not a refusal`);
  assert.match(String(res.headers['content-type']), /^application\/json/, 'content type is JSON');
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`the body is not JSON: ${res.text.slice(0, 120)}`);
  }
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), 'the body is an object');
  const b = body as Record<string, unknown>;
  const members = ['error', 'error_code', 'error_description', 'retryable'];
  // A fifth only when the session had ended: why, from the one list.
  if ('session_end_reason' in b) {
    assert.ok(isSessionEndReason(b.session_end_reason), `session_end_reason ${String(b.session_end_reason)}`);
    members.push('session_end_reason');
  }
  assert.deepEqual(
    Object.keys(b).sort(),
    members,
    `exactly the four members (and an end reason): ${res.text.slice(0, 200)}`,
  );
  assert.ok(isKnownErrorCode(b.error_code), `error_code ${String(b.error_code)} is in the table`);
  const def = ERROR_CODES[b.error_code];
  assert.equal(res.status, def.status, `status of ${b.error_code}`);
  assert.equal(b.error, def.error, `error of ${b.error_code}`);
  assert.equal(b.retryable, def.retryable, `retryable of ${b.error_code}`);
  assert.equal(typeof b.error_description, 'string', 'error_description is a string');
  assert.ok((b.error_description as string).length > 0, 'error_description is not empty');
  assert.match(String(res.headers['cache-control']), /no-store/, 'Cache-Control: no-store');
  if (def.retryable)
    assert.match(String(res.headers['retry-after']), /^[1-9]\d*$/, 'Retry-After when retryable');
  else assert.equal(res.headers['retry-after'], undefined, 'no Retry-After when not retryable');
  for (const value of sent) {
    if (value.length >= 6)
      assert.ok(!res.text.includes(value), `the body repeats input ${JSON.stringify(value.slice(0, 40))}`);
  }
  for (const shape of TOKEN_SHAPES) assert.doesNotMatch(res.text, shape, 'the body carries a token');
  const cookies = [res.headers['set-cookie'] ?? []].flat().map(String);
  for (const c of cookies) {
    // A refusal may clear the session cookie, never set one.
    assert.match(c, /^[^=]+=;/, `a refusal sets a cookie: ${c.slice(0, 40)}`);
  }
}
