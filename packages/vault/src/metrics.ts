import { Counter, Gauge, Histogram, Registry as PromRegistry, type Registry } from 'prom-client';
import type { ConnectionState } from './store/vault-store.js';

/**
 * Prometheus metrics of the vault: `tessera_vault_` prefix, `_total` counters, seconds, and no
 * user or connection labels (unbounded cardinality, and personal data).
 */
export interface VaultMetrics {
  registry: Registry;
  refreshes: Counter<'result'>;
  refreshDuration: Histogram<string>;
  coalesced: Counter<string>;
  leaseWaits: Counter<string>;
  leaseTakeovers: Counter<string>;
  lostResponseRetries: Counter<string>;
  reauthenticationRequired: Counter<string>;
  revocations: Counter<'result'>;
  decryptionFailures: Counter<'reason'>;
  rekeyed: Counter<string>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  // Two vaults on one registry (e.g. one per upstream) share the metric instead of failing to register.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createVaultMetrics(
  registry: Registry = new PromRegistry(),
  countByState?: () => Promise<Record<ConnectionState, number>>,
): VaultMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers }));
  if (countByState) {
    reuse(
      registry,
      'tessera_vault_connections',
      () =>
        new Gauge<'state'>({
          name: 'tessera_vault_connections',
          help: 'Stored connections by state',
          labelNames: ['state'],
          registers,
          async collect() {
            for (const [state, n] of Object.entries(await countByState())) this.set({ state }, n);
          },
        }),
    );
  }
  return {
    registry,
    refreshes: counter(
      'tessera_vault_refresh_total',
      'Upstream refreshes by result (refreshed, invalid_grant, deferred, rejected, fenced, store_error)',
      ['result'],
    ),
    refreshDuration: reuse(
      registry,
      'tessera_vault_refresh_duration_seconds',
      () =>
        new Histogram({
          name: 'tessera_vault_refresh_duration_seconds',
          help: 'Time of an upstream refresh, lease to commit',
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    coalesced: counter(
      'tessera_vault_coalesced_total',
      'Callers that shared a refresh already running in this process',
    ),
    leaseWaits: counter(
      'tessera_vault_lease_waits_total',
      'Waits for a refresh another instance was running',
    ),
    leaseTakeovers: counter(
      'tessera_vault_lease_takeovers_total',
      'Leases taken over after their holder let them expire',
    ),
    lostResponseRetries: counter(
      'tessera_vault_lost_response_retries_total',
      'Refreshes retried with the same refresh token after the answer was lost',
    ),
    reauthenticationRequired: counter(
      'tessera_vault_reauthentication_required_total',
      'Connections whose grant the upstream refused (the user must sign in again)',
    ),
    revocations: counter('tessera_vault_revocations_total', 'Sign-outs by upstream revocation result', [
      'result',
    ]),
    decryptionFailures: counter(
      'tessera_vault_decryption_failures_total',
      'Values that could not be decrypted',
      ['reason'],
    ),
    rekeyed: counter('tessera_vault_rekeyed_total', 'Connections re-encrypted under the current key'),
  };
}
