/**
 * The vote board: a fixed list of options with counts; every client sees
 * every count change live. Counts live in the backend (a Redis hash with
 * --redis), so every process agrees on them.
 */
import { WebSocket } from '../index.js';
import { type Backend, reportFailure } from './backend.js';
import { type ErrorReply, type RequestErrorCode, broadcast, error, isError, readRequest, send } from './wire.js';

/** Client to server: one vote for the option with this id. Every click counts (a live board, not a ballot). */
export interface VoteRequest {
  type: 'vote';
  option: string;
  /** Any request may carry a ref (1 to 64 characters); the answer to it carries the same. */
  ref?: string;
}

export interface VoteOption {
  /** The option's text, as given to --options; also its id. */
  id: string;
  count: number;
}

/** Server to client: every option with its count, in order; on connect and after votes. */
export interface StateEvent {
  type: 'state';
  options: VoteOption[];
}

/**
 * The acknowledgement of a vote, to the voter: it is counted (with --redis:
 * in Redis, and announced to every process in the same step), and `count`
 * is the option's count right after it.
 */
export interface CountedEvent {
  type: 'counted';
  option: string;
  count: number;
  ref?: string;
}

export type VoteErrorCode = RequestErrorCode | 'unknown-option' | 'unavailable';

export type VoteEvent = StateEvent | CountedEvent | ErrorReply<VoteErrorCode>;

export const VOTE_LIMITS = {
  /** Largest request in bytes; a larger one gets a "too-large" error. */
  requestBytes: 1024,
  /** Largest WebSocket message the server reads at all; past it the server closes with 1009. */
  maxPayload: 64 * 1024,
  /** Most options, and the longest option text. */
  options: 32,
  option: 64,
} as const;

export const DEFAULT_OPTIONS = ['yes', 'no', 'maybe'] as const;

/** Redis keys and channels (see docs/apps.md). */
export const VOTE_KEYS = {
  channel: 'strictws:vote',
  counts: 'strictws:vote:counts',
} as const;

/** What travels on the channel between processes: an option's count after one vote (Store.increment). */
interface CountChange {
  field: string;
  count: number;
}

/** Options from a comma-separated list such as "a,b,c". Throws RangeError when the list is unusable. */
export function parseOptions(list: string): string[] {
  const options = list.split(',').map((option) => option.trim());
  if (options.some((option) => option === '')) throw new RangeError(`empty option in "${list}"`);
  if (options.length > VOTE_LIMITS.options) throw new RangeError(`at most ${VOTE_LIMITS.options} options`);
  const long = options.find((option) => option.length > VOTE_LIMITS.option);
  if (long) throw new RangeError(`option "${long.slice(0, 20)}..." is longer than ${VOTE_LIMITS.option} characters`);
  const twice = options.find((option, i) => options.indexOf(option) !== i);
  if (twice) throw new RangeError(`option "${twice}" is given twice`);
  return options;
}

export interface VoteOptions {
  backend: Backend;
  options?: readonly string[];
  warn?: (message: string) => void;
}

export interface VoteApp {
  onConnection(ws: WebSocket): void;
}

export async function createVote({ backend, options = DEFAULT_OPTIONS, warn = () => {} }: VoteOptions): Promise<VoteApp> {
  const clients = new Set<WebSocket>();
  /** This process's copy of the counts. Counts only grow, so the larger value is the newer one. */
  const counts = new Map(options.map((option) => [option, 0]));
  const merge = (fresh: Record<string, number>): void => {
    for (const [option, count] of Object.entries(fresh)) {
      if (counts.has(option) && count > counts.get(option)!) counts.set(option, count);
    }
  };
  const state = (): string =>
    JSON.stringify({ type: 'state', options: [...counts].map(([id, count]) => ({ id, count })) } satisfies StateEvent);

  // Many votes in one turn of the event loop make one broadcast.
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    broadcast(clients, state());
  };
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  await backend.subscribe(VOTE_KEYS.channel, (json) => {
    let change: CountChange;
    try {
      change = JSON.parse(json) as CountChange;
    } catch {
      return warn('vote: ignored a message on the channel that is not JSON');
    }
    if (typeof change?.field !== 'string' || typeof change.count !== 'number') return;
    merge({ [change.field]: change.count });
    schedule();
  });
  // Subscribed first, then read: no vote falls in between.
  merge(await backend.counts(VOTE_KEYS.counts));
  // Changes announced while this process was not subscribed are in the counts.
  backend.onResume(() => {
    backend.counts(VOTE_KEYS.counts).then(
      (fresh) => (merge(fresh), schedule()),
      (cause: Error) => warn(`vote: reading the counts after an outage failed: ${cause.message}`),
    );
  });

  /** Count one vote and announce it in one step; answered once, never retried (docs/apps.md, "Redis outages"). */
  async function vote(ws: WebSocket, option: string, ref: string | undefined): Promise<void> {
    let count: number;
    try {
      count = await backend.increment(VOTE_KEYS.counts, option, VOTE_KEYS.channel);
    } catch (cause) {
      reportFailure(warn, 'vote: a vote was not counted', cause as Error);
      return send(ws, error('unavailable', 'the vote was not counted, try again', ref));
    }
    send(ws, { type: 'counted', option, count, ref } satisfies CountedEvent);
  }

  function onConnection(ws: WebSocket): void {
    clients.add(ws);
    ws.once('close', () => clients.delete(ws));
    // Fresh counts for the newcomer, in case this process missed a change while Redis was away.
    backend
      .counts(VOTE_KEYS.counts)
      .then(merge, (cause: Error) => reportFailure(warn, 'vote: reading the counts failed', cause))
      .finally(() => send(ws, state()));

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const request = readRequest(data, isBinary, VOTE_LIMITS.requestBytes);
      if (isError(request)) return send(ws, request);
      const { ref } = request;
      if (request.type !== 'vote') {
        return send(ws, error('bad-request', `unknown request type ${JSON.stringify(request.type).slice(0, 40)}: use "vote"`, ref));
      }
      if (typeof request.option !== 'string') return send(ws, error('bad-request', '"option" must be a string', ref));
      if (!counts.has(request.option)) {
        const known = [...counts.keys()].join(', ');
        return send(ws, error('unknown-option', `no option ${JSON.stringify(request.option.slice(0, 64))}; the options are ${known}`, ref));
      }
      void vote(ws, request.option, ref);
    });
  }

  return { onConnection };
}
