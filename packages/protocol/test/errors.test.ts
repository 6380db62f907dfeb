import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, errorFromResponse, isKnownErrorCode, TesseraError } from '../src/index.js';

describe('the error table', () => {
  it('declares the codes SPEC §3.6 requires', () => {
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
        assert.ok(def.status === 429 || def.status >= 500 || code === 'use_dpop_nonce', code);
    }
  });

  it('uses the message SPEC §3.3 rule 4 prescribes for reuse', () => {
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
  });
});
