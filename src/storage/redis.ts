/**
 * Redis connections (ioredis) for the BullMQ queue and shared request statistics. Commands
 * fail fast while Redis is away instead of queueing without bound; the client keeps
 * reconnecting in the background, so the service recovers by itself when Redis returns.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { describeError } from '#src/storage/database.js';
import { StartupError } from '#src/startup-error.js';

/** Redis cannot be reached at start-up. */
export class RedisUnavailableError extends StartupError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/** The URL with any password hidden. */
export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** Options for a client. `blocking` clients (BullMQ workers) must retry forever. */
export function redisOptions(blocking: boolean): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 5000,
    // Keep trying to come back, a little slower each time, never slower than every 2 s.
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...(blocking
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  };
}

/** Connects and waits until Redis answers; a clear RedisUnavailableError otherwise. */
export async function connectRedis(
  url: string,
  onError: (error: Error) => void,
  blocking = false,
): Promise<Redis> {
  const client = new Redis(url, redisOptions(blocking));
  // ioredis emits 'error' on every failed reconnect; without a listener it logs to stderr.
  let first: Error | undefined;
  client.on('error', (error: Error) => {
    first ??= error;
    onError(error);
  });
  try {
    await Promise.race([
      client.connect(),
      new Promise((_resolve, reject) =>
        setTimeout(() => {
          reject(first ?? new Error('no answer within 5 s'));
        }, 5000).unref(),
      ),
    ]);
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new RedisUnavailableError(
      `cannot reach Redis at ${redactRedisUrl(url)}: ${describeError(first ?? error)}`,
      { cause: error },
    );
  }
  return client;
}
