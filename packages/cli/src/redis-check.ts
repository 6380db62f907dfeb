/**
 * `tessera doctor`'s Redis check: reachable (PING within the timeout), its version, whether it
 * keeps data across a restart, and where the replay store's epoch stands. Loads
 * `@tessera/store-redis` (and ioredis) only when a Redis URL is configured. Never prints the
 * URL's password.
 */
export async function checkRedis(url: string, prefix: string, timeoutMs: number): Promise<string> {
  const { connectRedis, whenReady } = await import('@tessera/store-redis');
  const redis = connectRedis({ url, connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
  try {
    await whenReady(redis, timeoutMs);
    const started = performance.now();
    await redis.ping();
    const pingMs = performance.now() - started;
    const server = await redis.info('server');
    const persistence = await redis.info('persistence');
    const version = /redis_version:(\S+)/.exec(server)?.[1] ?? 'unknown';
    const aof = /aof_enabled:1/.test(persistence);
    const rdb = !aof && (await saveConfigured(redis));
    const epoch = await redis.get(`${prefix}replay-epoch`);
    const epochText =
      epoch === null
        ? 'no replay epoch yet (no instance has started on it)'
        : epoch === '0'
          ? 'replay store complete since its first start'
          : `replay store lost its data at ${new Date(Number(epoch)).toISOString()} (nonces are refused for one nonce TTL after it)`;
    return `Redis ${version}, PING ${pingMs.toFixed(1)} ms, ${aof ? 'AOF on' : rdb ? 'RDB snapshots only' : 'no persistence'}; ${epochText}`;
  } finally {
    redis.disconnect();
  }
}

async function saveConfigured(redis: { config(op: 'GET', key: string): Promise<unknown> }): Promise<boolean> {
  try {
    const answer = (await redis.config('GET', 'save')) as string[];
    return (answer[1] ?? '') !== '';
  } catch {
    return false; // CONFIG may be disabled on managed Redis
  }
}
