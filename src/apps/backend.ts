/**
 * What the apps share between processes, behind one small interface: a
 * message bus (publish/subscribe) and a store (counters, hashes of counts and
 * bounded lists). The apps are written once against `Backend`; `memory()`
 * runs everything in this process, `connectRedis()` (./redis.ts) shares it
 * through Redis so that several processes can serve one room.
 */

/** Where a published message is also kept: the list `key`, trimmed to its last `max` entries. */
export interface Keep {
  key: string;
  max: number;
}

export interface Bus {
  /**
   * Deliver `message` to every subscriber of `channel` in every process,
   * this one included, in one order for all. With `keep`, the message is
   * also appended to a bounded list in the same atomic step, so that the
   * list and the live stream never disagree on order.
   */
  publish(channel: string, message: string, keep?: Keep): Promise<void>;
  /** Call `listener` with every message published on `channel` from now on. */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  /**
   * Call `listener` each time the backend is back after an outage, once
   * subscriptions hold again. Messages published while this process was not
   * subscribed were not delivered to it: a listener catches up from the store.
   */
  onResume(listener: () => void): void;
}

export interface Store {
  /** The last `max` entries of the list `key`, oldest first. */
  recent(key: string, max: number): Promise<string[]>;
  /** Add one to the counter `key` and return its new value (1 the first time). */
  next(key: string): Promise<number>;
  /**
   * Add one to `field` of the hash `key` and return its new value. With
   * `channel`, the change is also published there as the JSON
   * `{"field":…,"count":…}` in the same atomic step: a change that is
   * counted is announced, and one that is announced is counted.
   */
  increment(key: string, field: string, channel?: string): Promise<number>;
  /** Every field of the hash `key` with its count. */
  counts(key: string): Promise<Record<string, number>>;
}

/**
 * Every method of a backend either takes effect and resolves, or rejects
 * (Redis unreachable): a rejected call is never retried behind the caller's
 * back. The one ambiguous case is a connection that breaks after the request
 * was written and before its answer came: Redis may have applied it.
 */
export interface Backend extends Bus, Store {
  /** "memory" or "redis", for logs. */
  readonly kind: string;
  /** Let go of connections; pending publishes are sent first. */
  close(): Promise<void>;
}

/** An optional package the command needs is not installed; the message says what to install. */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
  readonly code = 'MISSING_PACKAGE';
}

/**
 * The backend is away (Redis not connected) and the call was not attempted.
 * The outage itself is reported once (see connectRedis), so callers need not
 * log each refused call.
 */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  readonly code = 'BACKEND_UNAVAILABLE';
}

/** Report a failed backend call through `warn`, unless it only says the backend is away. */
export function reportFailure(warn: (message: string) => void, what: string, cause: Error): void {
  if (!(cause instanceof UnavailableError)) warn(`${what}: ${cause.message}`);
}

/** Everything in this process: for one server without --redis, and for tests. */
export function memory(): Backend {
  const listeners = new Map<string, Array<(message: string) => void>>();
  const lists = new Map<string, string[]>();
  const counters = new Map<string, number>();
  const hashes = new Map<string, Map<string, number>>();
  // Delivered at once, in publish order, as Redis would deliver it a moment later.
  const deliver = (channel: string, message: string): void => {
    for (const listener of listeners.get(channel) ?? []) listener(message);
  };
  return {
    kind: 'memory',
    async publish(channel, message, keep) {
      if (keep) {
        const list = lists.get(keep.key) ?? [];
        list.push(message);
        if (list.length > keep.max) list.splice(0, list.length - keep.max);
        lists.set(keep.key, list);
      }
      deliver(channel, message);
    },
    async subscribe(channel, listener) {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
    },
    onResume() {
      // Never away.
    },
    async recent(key, max) {
      return max > 0 ? (lists.get(key) ?? []).slice(-max) : [];
    },
    async next(key) {
      const value = (counters.get(key) ?? 0) + 1;
      counters.set(key, value);
      return value;
    },
    async increment(key, field, channel) {
      const hash = hashes.get(key) ?? new Map<string, number>();
      const value = (hash.get(field) ?? 0) + 1;
      hash.set(field, value);
      hashes.set(key, hash);
      if (channel !== undefined) deliver(channel, JSON.stringify({ field, count: value }));
      return value;
    },
    async counts(key) {
      return Object.fromEntries(hashes.get(key) ?? []);
    },
    async close() {
      listeners.clear();
    },
  };
}

/**
 * The backend a command asked for: Redis at `url`, or memory without one.
 * `notice` hears about outages and recoveries after the start.
 */
export async function openBackend(url: string | undefined, notice: (message: string) => void): Promise<Backend> {
  if (url === undefined) return memory();
  const { connectRedis } = await import('./redis.js');
  return connectRedis(url, notice);
}
