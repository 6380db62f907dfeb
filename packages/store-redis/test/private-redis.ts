import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@tessera/test-support';
import { Redis } from 'ioredis';

/**
 * A `redis-server` of the test's own, on a free loopback port, without persistence: stopping it
 * loses everything, like a restart of a Redis that keeps nothing on disk. The machine's Redis is
 * never touched.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port), empty; resolves once it answers PING. */
  async start(): Promise<void> {
    const bin = process.env.TESSERA_TEST_REDIS_SERVER ?? 'redis-server';
    const child = spawn(
      bin,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`${bin} exited with ${code}`)));
    });
    await Promise.race([this.#waitForPing(), failed]);
  }

  /** Stops the server (SIGKILL: nothing is saved, connections drop at once). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }

  async #waitForPing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
    throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
  }
}
