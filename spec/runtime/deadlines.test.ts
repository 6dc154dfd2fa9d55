/**
 * The shared deadline lists behind the handshake, close and message
 * timeouts (src/server/deadlines.ts): each key expires once its duration has
 * passed since it was set, in the order set, with one timer for all of them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/server/deadlines.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Deadlines', () => {
  it('expires each key once its duration has passed since it was set, oldest first, never early', () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(1_000, (key) => expired.push(key));
    deadlines.add('a');
    vi.advanceTimersByTime(300);
    deadlines.add('b');
    vi.advanceTimersByTime(699);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(299);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'b']);
    expect(deadlines.size).toBe(0);
  });

  it('a deleted key never expires; setting a key again restarts its duration', () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(100, (key) => expired.push(key));
    deadlines.add('gone');
    deadlines.add('again');
    deadlines.add('kept');
    deadlines.delete('gone');
    vi.advanceTimersByTime(50);
    deadlines.add('again');
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['kept']);
    expect(deadlines.has('again')).toBe(true);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['kept', 'again']);
  });

  it('uses one timer however many keys it holds, and none once empty', () => {
    const deadlines = new Deadlines<number>(1_000, () => undefined);
    const before = vi.getTimerCount();
    for (let i = 0; i < 1_000; i++) deadlines.add(i);
    expect(vi.getTimerCount()).toBe(before + 1);
    for (let i = 0; i < 1_000; i++) deadlines.delete(i);
    expect(vi.getTimerCount()).toBe(before);
  });

  it('a key set while others expire, and an expiry that throws, do not stop the rest', () => {
    const expired: number[] = [];
    const deadlines = new Deadlines<number>(10, (key) => {
      expired.push(key);
      if (key === 1) deadlines.add(100);
      if (key === 2) throw new Error('listener failed');
    });
    for (let i = 1; i <= 3; i++) deadlines.add(i);
    expect(() => vi.advanceTimersByTime(10)).toThrow('listener failed');
    expect(expired).toEqual([1, 2]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([1, 2, 3]);
    vi.advanceTimersByTime(9);
    expect(expired).toEqual([1, 2, 3, 100]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
