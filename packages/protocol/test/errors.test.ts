import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ERROR_CODES,
  errorFromResponse,
  isKnownErrorCode,
  isSessionEndReason,
  type KnownErrorCode,
  SESSION_END_REASONS,
  TesseraError,
} from '../src/index.js';

describe('the error table', () => {
  it('declares the codes every client relies on', () => {
    for (const code of [
      'token_expired',
      'invalid_token',
      'token_reused',
      'token_revoked',
      'invalid_token_state',
      'session_expired',
      'client_mismatch',
      'replay_detected',
      'use_dpop_nonce',
      'invalid_dpop_proof',
      'rotation_in_progress',
      'rate_limited',
      'temporarily_unavailable',
    ]) {
      assert.ok(isKnownErrorCode(code), code);
    }
  });

  it('marks exactly the transient codes as retryable, and never one that ends the session', () => {
    for (const [code, def] of Object.entries(ERROR_CODES)) {
      assert.ok(!(def.retryable && def.endsSession), `${code} is both retryable and session-ending`);
      if (def.retryable)
        // 408: the request did not arrive in time (a slow network); sent again, it may.
        assert.ok(
          def.status === 408 || def.status === 429 || def.status >= 500 || code === 'use_dpop_nonce',
          code,
        );
    }
  });

  it('answers reuse with the documented message', () => {
    assert.equal(
      new TesseraError('token_reused').message,
      'Token has been rotated and grace period has expired',
    );
  });

  it('serialises to the wire body', () => {
    const err = new TesseraError('rate_limited', undefined, { retryAfter: 7 });
    assert.deepEqual(err.toBody(), {
      error: 'temporarily_unavailable',
      error_description: 'Too many requests; retry later',
      error_code: 'rate_limited',
      retryable: true,
    });
    assert.equal(err.retryAfter, 7);
    assert.equal(new TesseraError('token_reused').retryAfter, undefined);
  });
});

describe('new TesseraError', () => {
  it('takes only codes from the table: a typo does not compile, and throws if it gets past the compiler', () => {
    // @ts-expect-error 'token_reusd' is not a code of the table
    assert.throws(() => new TesseraError('token_reusd'), /unknown error code "token_reusd".*fromWire/);
    // The codes form a finite union: were the table typed as a plain record, any string would compile.
    const finite: string extends KnownErrorCode ? false : true = true;
    assert.equal(finite, true);
  });

  it('takes its status, OAuth error and flags from the row', () => {
    for (const [code, def] of Object.entries(ERROR_CODES)) {
      const err = new TesseraError(code as KnownErrorCode);
      assert.deepEqual(
        [err.status, err.error, err.retryable, err.endsSession, err.message],
        [def.status, def.error, def.retryable, def.endsSession, def.message],
        code,
      );
    }
  });
});

describe('TesseraError.fromWire', () => {
  it('keeps a code from the table, with the description and Retry-After it was given', () => {
    const err = TesseraError.fromWire('rotation_in_progress', 'wait', { retryAfter: 3 });
    assert.equal(err.code, 'rotation_in_progress');
    assert.equal(err.message, 'wait');
    assert.equal(err.retryAfter, 3);
  });

  it('maps an unknown code to server_error: retried with backoff, never a sign-out', () => {
    for (const wire of [
      'token_frobbed',
      '',
      42,
      null,
      undefined,
      { code: 'token_reused' },
      'toString',
      '__proto__',
    ]) {
      const err = TesseraError.fromWire(wire, 'from a newer server');
      assert.equal(err.code, 'server_error', String(wire));
      assert.equal(err.retryable, true);
      assert.equal(err.endsSession, false);
      assert.equal(err.message, 'from a newer server');
    }
  });

  it('maps an unknown code to the fallback when one is given', () => {
    const err = TesseraError.fromWire('token_frobbed', undefined, { fallback: 'invalid_grant' });
    assert.equal(err.code, 'invalid_grant');
    assert.equal(err.endsSession, true);
  });
});

describe('session end reasons', () => {
  it('are declared once, with unique values', () => {
    assert.equal(new Set(SESSION_END_REASONS).size, SESSION_END_REASONS.length);
    for (const r of ['logout', 'admin_revoked', 'idle_expired', 'absolute_expired', 'reuse_detected']) {
      assert.ok(isSessionEndReason(r), r);
    }
    assert.equal(isSessionEndReason('token_reused'), false);
  });

  it('ride beside the four members of an error body, and back', () => {
    const err = new TesseraError('token_revoked', undefined, { sessionEndReason: 'admin_revoked' });
    const body = err.toBody();
    assert.deepEqual(Object.keys(body), [
      'error',
      'error_description',
      'error_code',
      'retryable',
      'session_end_reason',
    ]);
    assert.equal(errorFromResponse(400, body).sessionEndReason, 'admin_revoked');
    // Absent when the session did not end: the body keeps its four members.
    assert.deepEqual(Object.keys(new TesseraError('invalid_request').toBody()).length, 4);
    assert.equal(errorFromResponse(400, { error: 'invalid_grant' }).sessionEndReason, undefined);
    // A reason this version does not know is passed on as it came; a non-string is dropped.
    assert.equal(
      errorFromResponse(400, { ...body, session_end_reason: 'moon_phase' }).sessionEndReason,
      'moon_phase',
    );
    assert.equal(errorFromResponse(400, { ...body, session_end_reason: 7 }).sessionEndReason, undefined);
  });
});

describe('errorFromResponse', () => {
  it('round-trips a Tessera body', () => {
    const err = errorFromResponse(400, new TesseraError('token_reused').toBody());
    assert.equal(err.code, 'token_reused');
    assert.equal(err.endsSession, true);
  });

  it('maps a plain OAuth server by status and error', () => {
    assert.equal(errorFromResponse(400, { error: 'invalid_grant' }).endsSession, true);
    assert.equal(errorFromResponse(502, 'bad gateway').retryable, true);
    const limited = errorFromResponse(429, {}, '12');
    assert.equal(limited.code, 'rate_limited');
    assert.equal(limited.retryAfter, 12);
    const dated = errorFromResponse(503, {}, new Date(10_000).toUTCString(), 4_000);
    assert.equal(dated.retryAfter, 6);
    assert.equal(errorFromResponse(401, { error: 'invalid_token' }).code, 'access_token_invalid');
    assert.equal(errorFromResponse(401, {}).code, 'invalid_client');
    assert.equal(errorFromResponse(400, { error: 'something_else' }).code, 'invalid_request');
  });

  it('maps a Tessera body with a code this version does not know by its status and OAuth error', () => {
    const err = errorFromResponse(400, { error: 'invalid_grant', error_code: 'token_frobbed' });
    assert.equal(err.code, 'invalid_grant');
    assert.equal(err.endsSession, true);
    assert.equal(errorFromResponse(503, { error_code: 'store_on_fire' }, '4').retryAfter, 4);
  });
});
