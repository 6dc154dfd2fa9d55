/**
 * The Redis backend: one connection for commands and publishing, one for
 * subscribing, per process. Uses node-redis (`redis`), an optional
 * dependency loaded only when --redis is given.
 */
import type { Backend } from './backend.js';

/** The few node-redis calls used here, typed locally so the optional package is not needed to compile. */
interface RedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(overrides: { name: string }): RedisClient;
  on(event: 'error', listener: (error: Error) => void): unknown;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  multi(): RedisMulti;
  lRange(key: string, start: number, stop: number): Promise<string[]>;
  incr(key: string): Promise<number>;
  hIncrBy(key: string, field: string, by: number): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
  close(): Promise<void>;
  destroy(): void;
}

interface RedisMulti {
  rPush(key: string, value: string): RedisMulti;
  lTrim(key: string, start: number, stop: number): RedisMulti;
  publish(channel: string, message: string): RedisMulti;
  exec(): Promise<unknown[]>;
}

interface RedisModule {
  createClient(options: {
    url: string;
    name: string;
    socket: { reconnectStrategy: (retries: number, cause: Error) => number | Error };
  }): RedisClient;
}

// A variable, so that TypeScript does not look for the optional package's types.
const PACKAGE = 'redis';

async function loadRedis(): Promise<RedisModule> {
  try {
    return (await import(PACKAGE)) as RedisModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('--redis needs the optional package "redis" (node-redis); install it with: npm install redis');
    }
    throw error;
  }
}

/** Tries before giving up at start-up; once connected, reconnection goes on forever. */
const START_RETRIES = 5;

/**
 * Connect to Redis at `url` (e.g. redis://127.0.0.1:6379). Rejects with a
 * clear message when it cannot connect; later connection errors go to `onError`
 * while node-redis reconnects (commands wait in its queue meanwhile).
 */
export async function connectRedis(url: string, onError: (error: Error) => void): Promise<Backend> {
  const { createClient } = await loadRedis();
  let started = false;
  const reconnectStrategy = (retries: number, cause: Error) =>
    !started && retries >= START_RETRIES ? cause : Math.min(100 * 2 ** retries, 2000);
  let client: RedisClient;
  try {
    // Named, so that CLIENT LIST shows which process holds which connection.
    client = createClient({ url, name: `strictws-${process.pid}-commands`, socket: { reconnectStrategy } });
  } catch (error) {
    throw new Error(`--redis ${url}: ${(error as Error).message}`);
  }
  const subscriber = client.duplicate({ name: `strictws-${process.pid}-subscriber` });
  // Without a listener, an 'error' event would end the process.
  client.on('error', (error) => started && onError(error));
  subscriber.on('error', (error) => started && onError(error));
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (error) {
    client.destroy();
    subscriber.destroy();
    throw new Error(`cannot connect to Redis at ${url}: ${(error as Error).message}`);
  }
  started = true;

  return {
    kind: 'redis',
    async publish(channel, message, keep) {
      if (!keep || keep.max <= 0) {
        await client.publish(channel, message);
        return;
      }
      // MULTI/EXEC: the list and the channel see messages in the same order.
      await client.multi().rPush(keep.key, message).lTrim(keep.key, -keep.max, -1).publish(channel, message).exec();
    },
    subscribe(channel, listener) {
      return subscriber.subscribe(channel, listener);
    },
    recent(key, max) {
      return max > 0 ? client.lRange(key, -max, -1) : Promise.resolve([]);
    },
    next(key) {
      return client.incr(key);
    },
    increment(key, field) {
      return client.hIncrBy(key, field, 1);
    },
    async counts(key) {
      const hash = await client.hGetAll(key);
      return Object.fromEntries(Object.entries(hash).map(([field, value]) => [field, Number(value)]));
    },
    async close() {
      // close() waits for queued commands, which never end while Redis is away.
      const timer = setTimeout(() => (client.destroy(), subscriber.destroy()), 2000);
      await Promise.allSettled([client.close(), subscriber.close()]);
      clearTimeout(timer);
    },
  };
}
