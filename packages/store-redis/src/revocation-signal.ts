import type { RevocationSignal } from '@tessera/server';
import type { Redis } from 'ioredis';

/**
 * The `RevocationSignal` over Redis pub/sub: `publish` sends one message on the channel
 * `<prefix>revocations`, and every instance subscribed to it (through its own subscriber
 * connection, as pub/sub needs) wakes its revocation feed, which then reads the notices from the
 * durable store. The message carries nothing but the publishing instance's id: the database
 * stays the truth, so a message lost while Redis is down costs only the wait for the feed's poll.
 * Local listeners are called at once, without the round trip.
 */
export class RedisRevocationSignal implements RevocationSignal {
  readonly #publisher: Redis;
  readonly #channel: string;
  readonly #listeners = new Set<() => void>();
  readonly #instance = Math.random().toString(36).slice(2, 10);

  /** `channel`: `revocations` by default; the dashboard's event tail uses `events`. */
  constructor(publisher: Redis, subscriber: Redis, options: { prefix: string; channel?: string }) {
    this.#publisher = publisher;
    this.#channel = `${options.prefix}${options.channel ?? 'revocations'}`;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel && message !== this.#instance) this.#wake();
    });
    // Subscribed on every (re)connection: without an offline queue a SUBSCRIBE sent before the
    // connection is ready fails, and ioredis only resubscribes what had succeeded. While Redis
    // was away notices may have been written: wake the feeds once it is back.
    const subscribe = () => {
      subscriber.subscribe(this.#channel).then(
        () => this.#wake(),
        () => {},
      );
    };
    subscriber.on('ready', subscribe);
    if (subscriber.status === 'ready') subscribe();
  }

  publish(): void {
    this.#wake();
    this.#publisher.publish(this.#channel, this.#instance).catch(() => {
      // Redis is down: the other instances read the notice at their next poll.
    });
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #wake(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
