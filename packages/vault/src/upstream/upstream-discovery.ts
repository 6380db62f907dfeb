import type { Clock, SetTimer } from '../clock.js';
import { UpstreamUnavailable, VaultConfigError } from '../errors.js';
import { backoffMs } from '../lifecycle/token-set.js';
import type { VaultLogger } from '../token-vault.js';
import { DiscoveryFailed, type Upstream } from './upstream.js';

/**
 * The upstream, discovered once. A vault starts even when the upstream is down (a host app
 * must not crash because its identity provider restarts): discovery is then retried in the
 * background with backoff (1 s doubling to 60 s, jitter, never below `Retry-After`), and on
 * demand by the first call after `retryAt`. Until it succeeds, what needs the upstream fails
 * fast with `UpstreamUnavailable`, one attempt at a time.
 */
export class UpstreamDiscovery {
  private upstream: Upstream | undefined;
  private attempt: Promise<Upstream> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastReason = 'not attempted yet';
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly discover: (now: number) => Promise<Upstream>,
    /** The configured issuer, as given; used until the metadata names it. */
    private readonly configuredIssuer: string,
    private readonly env: {
      clock: Clock;
      setTimer: SetTimer;
      random: () => number;
      log?: VaultLogger | undefined;
    },
  ) {}

  /**
   * The first attempt, at start: a misconfigured upstream (both metadata documents refused) is
   * a `VaultConfigError`; an unreachable or unavailable one is retried later.
   */
  async start(): Promise<void> {
    try {
      await this.get();
    } catch (err) {
      if (
        err instanceof UpstreamUnavailable &&
        err.cause instanceof DiscoveryFailed &&
        !err.cause.transient
      ) {
        this.close();
        throw new VaultConfigError(`issuer: ${err.cause.message}`, { cause: err.cause.cause });
      }
      if (!(err instanceof UpstreamUnavailable)) throw err;
    }
  }

  /** The issuer identifier: the metadata's once discovered, the configured one before. */
  get issuer(): string {
    return this.upstream?.issuer ?? this.configuredIssuer;
  }

  /** The discovered upstream, or `undefined` while it is not. */
  get current(): Upstream | undefined {
    return this.upstream;
  }

  /** The upstream, discovering it if due; `UpstreamUnavailable` while it cannot be. */
  get(): Promise<Upstream> {
    if (this.upstream) return Promise.resolve(this.upstream);
    if (this.attempt) return this.attempt;
    const now = this.env.clock.now();
    if (now < this.retryAt) return Promise.reject(this.unavailable());
    this.attempt = this.run().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /** The error for a caller while the upstream is not discovered. */
  unavailable(): UpstreamUnavailable {
    return new UpstreamUnavailable(this.configuredIssuer, this.retryAt, this.lastReason);
  }

  private async run(): Promise<Upstream> {
    const { clock, random, log } = this.env;
    try {
      const upstream = await this.discover(clock.now());
      this.upstream = upstream;
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      if (this.failures > 0)
        log?.info({ issuer: upstream.issuer, failures: this.failures }, 'upstream discovered');
      return upstream;
    } catch (err) {
      if (!(err instanceof DiscoveryFailed)) throw err;
      this.failures++;
      const f = err.failure;
      this.retryAt =
        clock.now() + backoffMs(this.failures, random(), 'retryAfterS' in f ? f.retryAfterS : undefined);
      this.lastReason = f.description ? `${f.error}: ${f.description}` : f.error;
      log?.warn(
        { issuer: this.configuredIssuer, error: f.error, failures: this.failures, retryAt: this.retryAt },
        'upstream discovery failed; the vault runs on stored tokens and retries',
      );
      this.schedule();
      throw new UpstreamUnavailable(this.configuredIssuer, this.retryAt, this.lastReason, { cause: err });
    }
  }

  /** One background attempt at `retryAt`, so the vault recovers without waiting for a caller. */
  private schedule(): void {
    if (this.closed) return;
    this.cancelTimer?.();
    this.cancelTimer = this.env.setTimer(
      () => {
        this.cancelTimer = undefined;
        this.get().catch(() => {});
      },
      Math.max(0, this.retryAt - this.env.clock.now()),
    );
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
