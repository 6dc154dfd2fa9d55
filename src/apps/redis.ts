/**
 * The Redis backend: one connection for commands and publishing, one for
 * subscribing, per process. Uses node-redis (`redis`), an optional peer
 * dependency loaded only when --redis is given.
 *
 * Outages (docs/apps.md, "Redis outages"): commands are never queued while
 * a connection is down (`disableOfflineQueue`, and a readiness check before
 * MULTI, which node-redis would queue anyway), so a request fails at once
 * and is never sent later behind its caller's back. node-redis reconnects
 * with backoff and resubscribes by itself; `onResume` listeners run once
 * both connections are ready again.
 */
import { type Backend, MissingPackageError, UnavailableError } from './backend.js';

/** The few node-redis calls used here, typed locally so the optional package is not needed to compile. */
interface RedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(overrides: { name: string }): RedisClient;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  multi(): RedisMulti;
  sendCommand(args: string[]): Promise<unknown>;
  lRange(key: string, start: number, stop: number): Promise<string[]>;
  incr(key: string): Promise<number>;
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
    disableOfflineQueue: boolean;
    socket: { reconnectStrategy: (retries: number, cause: Error) => number | Error };
  }): RedisClient;
}

/** The node-redis versions this backend is written and tested against (package.json peerDependencies). */
export const REDIS_RANGE = '^6.3.1';

// A variable, so that TypeScript does not look for the optional package's types.
const PACKAGE = 'redis';

/** node-redis, or a MissingPackageError that says what to install. */
async function loadRedis(): Promise<RedisModule> {
  try {
    return (await import(PACKAGE)) as RedisModule;
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(`'${PACKAGE}'`)) {
      throw new MissingPackageError(`--redis needs the "redis" package: npm install redis@${REDIS_RANGE}`);
    }
    throw error;
  }
}

/** Tries before giving up at start-up; once connected, reconnection goes on forever. */
const START_RETRIES = 5;

/** HINCRBY and the PUBLISH of its result in one atomic step (a script runs whole or not at all). */
const INCREMENT_AND_PUBLISH = `local count = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PUBLISH', ARGV[2], cjson.encode({field = ARGV[1], count = count}))
return count`;

/** An error's message; a refused connection to a name with several addresses has only `errors`. */
function describe(error: Error): string {
  const inner = (error as Error & { errors?: Error[] }).errors?.[0];
  return error.message || inner?.message || (error as NodeJS.ErrnoException).code || error.name;
}

/**
 * Connect to Redis at `url` (e.g. redis://127.0.0.1:6379). Rejects with a
 * clear message when it cannot connect. Later, `notice` hears once per
 * outage that the connection was lost, and again when it is back.
 */
export async function connectRedis(url: string, notice: (message: string) => void): Promise<Backend> {
  const { createClient } = await loadRedis();
  let started = false;
  const reconnectStrategy = (retries: number, cause: Error) =>
    !started && retries >= START_RETRIES ? cause : Math.min(100 * 2 ** retries, 2000);
  let client: RedisClient;
  try {
    // Named, so that CLIENT LIST shows which process holds which connection.
    client = createClient({ url, name: `strictws-${process.pid}-commands`, disableOfflineQueue: true, socket: { reconnectStrategy } });
  } catch (error) {
    throw new Error(`--redis ${url}: ${(error as Error).message}`);
  }
  const subscriber = client.duplicate({ name: `strictws-${process.pid}-subscriber` });

  const resumed: Array<() => void> = [];
  /** When the current outage began, or undefined while both connections are ready. */
  let lostAt: number | undefined;
  // Without an 'error' listener, node-redis's 'error' events would end the process.
  const onError = (error: Error): void => {
    if (!started || lostAt !== undefined) return;
    lostAt = Date.now();
    notice(`connection lost (${describe(error)}); requests are answered "unavailable" until it is back`);
  };
  const onReady = (): void => {
    if (lostAt === undefined || !client.isReady || !subscriber.isReady) return;
    notice(`reconnected after ${Date.now() - lostAt} ms`);
    lostAt = undefined;
    for (const listener of resumed) listener();
  };
  for (const connection of [client, subscriber]) {
    connection.on('error', onError);
    connection.on('ready', onReady);
  }
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (error) {
    client.destroy();
    subscriber.destroy();
    throw new Error(`cannot connect to Redis at ${url}: ${describe(error as Error)}`);
  }
  started = true;

  /** The commands connection, if it is up; otherwise the caller learns at once. */
  const ready = (): RedisClient => {
    if (!client.isReady) throw new UnavailableError('Redis is not connected');
    return client;
  };

  return {
    kind: 'redis',
    async publish(channel, message, keep) {
      if (!keep || keep.max <= 0) {
        await ready().publish(channel, message);
        return;
      }
      // MULTI/EXEC: the list and the channel see messages in the same order.
      await ready().multi().rPush(keep.key, message).lTrim(keep.key, -keep.max, -1).publish(channel, message).exec();
    },
    subscribe(channel, listener) {
      return subscriber.subscribe(channel, listener);
    },
    onResume(listener) {
      resumed.push(listener);
    },
    async recent(key, max) {
      return max > 0 ? ready().lRange(key, -max, -1) : [];
    },
    async next(key) {
      return ready().incr(key);
    },
    async increment(key, field, channel) {
      const args = channel === undefined ? ['HINCRBY', key, field, '1'] : ['EVAL', INCREMENT_AND_PUBLISH, '1', key, field, channel];
      return Number(await ready().sendCommand(args));
    },
    async counts(key) {
      const hash = await ready().hGetAll(key);
      return Object.fromEntries(Object.entries(hash).map(([field, value]) => [field, Number(value)]));
    },
    async close() {
      // close() waits for commands already sent; a Redis that hangs would hold it forever.
      const timer = setTimeout(() => (client.destroy(), subscriber.destroy()), 2000);
      await Promise.allSettled([client.close(), subscriber.close()]);
      clearTimeout(timer);
    },
  };
}
