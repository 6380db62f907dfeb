import { StoreUnavailableError } from '@tessera/server';
import { Redis, type RedisOptions } from 'ioredis';

/** How the Tessera Redis adapters reach Redis. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Never logged. */
  url: string;
  /** Longest wait for one command before it fails (ms); default 1000. */
  commandTimeoutMs?: number;
  /** Longest wait for the TCP connection (ms); default 2000. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts (ms); default 2000. */
  maxReconnectDelayMs?: number;
}

export const CONNECTION_DEFAULTS = {
  commandTimeoutMs: 1000,
  connectTimeoutMs: 2000,
  maxReconnectDelayMs: 2000,
} as const;

/**
 * One ioredis connection as the adapters want it: commands fail at once while Redis is
 * unreachable (no offline queue, nothing re-sent after a reconnect, one bounded timeout per
 * command), and it reconnects by itself forever, with a capped backoff. A failed command is a
 * `StoreUnavailableError` to the caller (see `unavailable`).
 */
export function connectRedis(options: RedisConnectionOptions): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? CONNECTION_DEFAULTS.maxReconnectDelayMs;
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? CONNECTION_DEFAULTS.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
    // Reconnect after a failover turned the node read-only.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  };
  const redis = new Redis(options.url, redisOptions);
  // ioredis emits 'error' on every failed attempt; the adapters report outages through their
  // callers (a 503, a warning), so an unhandled 'error' must not crash the process.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new StoreUnavailableError(`Redis is not reachable (waited ${timeoutMs} ms)`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/**
 * A Redis failure as the server's `StoreUnavailableError` (answered 503 `temporarily_unavailable`,
 * retryable). The message names what failed, never the URL (it may hold a password).
 */
export function unavailable(what: string, err: unknown): StoreUnavailableError {
  const reason = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : String(err);
  return new StoreUnavailableError(`Redis ${what} failed: ${reason}`, { cause: err });
}
