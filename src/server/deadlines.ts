/**
 * Deadlines of one duration, shared by many connections: the handshake
 * timeout, the closing handshake's timeout, the message timeout. Since every
 * entry has the same duration, the order they were set in is the order they
 * fall due, so one timer (for the oldest) serves them all: a connection costs
 * an entry in a Map instead of a Timeout object, and setting or clearing a
 * deadline touches no timer list.
 */

/** A clock in milliseconds that stays a small integer for weeks (Date.now() alone would be a heap number). */
const EPOCH = Date.now();
const now = (): number => Date.now() - EPOCH;

export class Deadlines<K> {
  /** Each key's deadline on `now()`'s clock, oldest first. */
  private readonly due = new Map<K, number>();
  private timer: NodeJS.Timeout | undefined = undefined;

  /**
   * @param ms the duration of every deadline.
   * @param expire called for each key whose deadline passed, once it is forgotten.
   */
  constructor(
    private readonly ms: number,
    private readonly expire: (key: K) => void,
  ) {}

  get size(): number {
    return this.due.size;
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  /** Set `key`'s deadline `ms` from now (moving it to the end if it had one). */
  add(key: K): void {
    this.due.delete(key);
    this.due.set(key, now() + this.ms);
    if (this.timer === undefined) this.arm(this.ms);
  }

  /** Forget `key`'s deadline, if it has one. */
  delete(key: K): void {
    if (!this.due.delete(key) || this.due.size > 0 || this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    // An `add` inside `expire` may have armed it already: one timer at a time.
    if (this.timer !== undefined) clearTimeout(this.timer);
    // Unref'd, as a connection's own timer would be: it keeps no process alive.
    this.timer = setTimeout(fire, Math.max(ms, 1), this);
    this.timer.unref();
  }

  /** @internal The timer fired: expire what is due, oldest first, and wait for the next. */
  fire(): void {
    this.timer = undefined;
    const time = now();
    for (const [key, deadline] of this.due) {
      if (deadline > time) {
        this.arm(deadline - time);
        return;
      }
      this.due.delete(key);
      try {
        this.expire(key);
      } catch (error) {
        // The others still expire on time: re-arm before the exception goes on.
        if (this.due.size > 0) this.arm(0);
        throw error;
      }
    }
  }
}

function fire<K>(deadlines: Deadlines<K>): void {
  deadlines.fire();
}
