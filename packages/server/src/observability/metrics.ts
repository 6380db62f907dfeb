import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics: one prefix, `_total` counters, histograms in seconds, and no
 * user, session or IP labels (unbounded cardinality, and personal data).
 */
export interface Metrics {
  registry: Registry;
  refreshes: Counter<'result'>;
  tokensIssued: Counter<'grant'>;
  logins: Counter<'result'>;
  revocations: Counter<'reason'>;
  reuseDetected: Counter<string>;
  graceReuses: Counter<string>;
  requestDuration: Histogram<'route' | 'status'>;
  signingKeyAge: Gauge<string>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const registers = [registry];
  return {
    registry,
    refreshes: new Counter({
      name: 'tessera_refresh_total',
      help: 'Refresh requests by result (rotated, grace, or the error code)',
      labelNames: ['result'],
      registers,
    }),
    tokensIssued: new Counter({
      name: 'tessera_tokens_issued_total',
      help: 'Access tokens issued by grant',
      labelNames: ['grant'],
      registers,
    }),
    logins: new Counter({
      name: 'tessera_login_total',
      help: 'Password logins by result',
      labelNames: ['result'],
      registers,
    }),
    revocations: new Counter({
      name: 'tessera_session_revocations_total',
      help: 'Sessions ended by revocation, by reason',
      labelNames: ['reason'],
      registers,
    }),
    reuseDetected: new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Rotated refresh tokens presented after their grace period (possible theft)',
      registers,
    }),
    graceReuses: new Counter({
      name: 'tessera_refresh_grace_reuse_total',
      help: 'Rotated refresh tokens presented again within the grace period (harmless retries)',
      registers,
    }),
    requestDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    signingKeyAge: new Gauge({
      name: 'tessera_signing_key_age_seconds',
      help: 'Age of the current signing key',
      registers,
    }),
  };
}
