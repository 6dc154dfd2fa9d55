/**
 * The chat room: clients join with a name, get the recent history, then
 * every message and every join and leave, live. The JSON schema is below
 * and in docs/apps.md.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from '../index.js';
import { type Backend, reportFailure } from './backend.js';
import { type ErrorReply, type RequestErrorCode, SLOW_CLIENT_CAP, broadcast, error, isError, readRequest, send } from './wire.js';

// Client to server.

/** Join the room, once, before saying anything. Without a name you are called by your id. */
export interface JoinRequest {
  type: 'join';
  name?: string;
  /** Any request may carry a ref (1 to 64 characters); the answer to it carries the same. */
  ref?: string;
}

/** Say something to everyone in the room. Answered by a SentEvent once it is stored, or an error. */
export interface SayRequest {
  type: 'say';
  text: string;
  ref?: string;
}

export type ChatRequest = JoinRequest | SayRequest;

// Server to client.

export interface ChatUser {
  /** Unique in the room, across processes: "user-1", "user-2", ... */
  id: string;
  /** What the user asked to be called (not unique), or the id. */
  name: string;
}

/** A message someone said; the history is made of these. */
export interface ChatMessage {
  type: 'message';
  /** Unique message id. */
  id: string;
  from: ChatUser;
  text: string;
  /** When the server took it, ISO 8601. */
  time: string;
}

/** The answer to a join: who you are and the recent messages, oldest first. */
export interface WelcomeEvent {
  type: 'welcome';
  you: ChatUser;
  history: ChatMessage[];
  ref?: string;
}

/**
 * The acknowledgement of a say: the message `id` is stored in the history
 * and published (with --redis: its MULTI/EXEC has committed). Its `message`
 * event may come before or after this.
 */
export interface SentEvent {
  type: 'sent';
  id: string;
  ref?: string;
}

/** Someone joined (you too, right after your welcome) or left. */
export interface PresenceEvent {
  type: 'joined' | 'left';
  user: ChatUser;
  time: string;
}

export type ChatErrorCode = RequestErrorCode | 'not-joined' | 'already-joined' | 'unavailable';

export type ChatEvent = WelcomeEvent | SentEvent | ChatMessage | PresenceEvent | ErrorReply<ChatErrorCode>;

export const CHAT_LIMITS = {
  /** Largest request in bytes; a larger one gets a "too-large" error. */
  requestBytes: 4096,
  /** Longest message text, in characters (UTF-16 code units). */
  text: 2000,
  /** Longest name, in characters. */
  name: 32,
  /** Largest WebSocket message the server reads at all; past it the server closes with 1009. */
  maxPayload: 64 * 1024,
  /** Messages kept for late joiners, by default. */
  history: 100,
} as const;

/** Most messages --history may keep. */
export const MAX_HISTORY = 1000;

/**
 * The per-client send-queue cap for a room that keeps `history` messages:
 * SLOW_CLIENT_CAP plus room for the welcome, which carries the whole history
 * at once. A stored message is never larger than the request that said it.
 */
export function chatCap(history: number): number {
  return SLOW_CLIENT_CAP + history * (CHAT_LIMITS.requestBytes + 512);
}

/** Redis keys and channels (see docs/apps.md). */
export const CHAT_KEYS = {
  channel: 'strictws:chat',
  history: 'strictws:chat:history',
  users: 'strictws:chat:users',
} as const;

export interface ChatOptions {
  backend: Backend;
  /** How many messages a joining user gets first (default 100); 0 keeps none. */
  history?: number;
  /** Where backend failures are reported. */
  warn?: (message: string) => void;
}

export interface ChatApp {
  /** Give this to the server's 'connection' event. */
  onConnection(ws: WebSocket): void;
}

// Control characters other than tab and newline have no place in a name or a message.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

export async function createChat({ backend, history = CHAT_LIMITS.history, warn = () => {} }: ChatOptions): Promise<ChatApp> {
  /** Joined clients of this process: every event goes to them. */
  const members = new Set<WebSocket>();
  /** Clients waiting for their history; the events that came meanwhile are kept for them. */
  const joining = new Map<WebSocket, string[]>();
  /** Ids of the last messages this process delivered, oldest first: what a catch-up skips. */
  const delivered = new Set<string>();
  /** While catching up after an outage, live events wait here. */
  let holding: string[] | undefined;

  /** Give one event from the channel (or from the history, after an outage) to everyone here, once. */
  const deliver = (event: string): void => {
    const id = parseEvent(event)?.id;
    if (id !== undefined) {
      if (delivered.has(id)) return;
      delivered.add(id);
      if (delivered.size > history) delivered.delete(delivered.values().next().value!);
    }
    for (const held of joining.values()) held.push(event);
    broadcast(members, event);
  };

  await backend.subscribe(CHAT_KEYS.channel, (event) => (holding ? holding.push(event) : deliver(event)));

  // Messages published while this process was not subscribed are in the history: deliver the ones missed, in order.
  backend.onResume(() => {
    if (history === 0 || holding) return;
    const held: string[] = (holding = []);
    const catchUp = (past: string[]): void => {
      holding = undefined;
      for (const event of [...past, ...held]) deliver(event);
    };
    backend.recent(CHAT_KEYS.history, history).then(catchUp, (cause: Error) => {
      warn(`chat: catching up after an outage failed: ${cause.message}`);
      catchUp([]);
    });
  });

  /** Publish a message or a presence event; resolves once the backend took it. */
  const publish = (event: ChatMessage | PresenceEvent): Promise<void> => {
    const keep = event.type === 'message' ? { key: CHAT_KEYS.history, max: history } : undefined;
    return backend.publish(CHAT_KEYS.channel, JSON.stringify(event), keep);
  };
  const announce = (event: PresenceEvent): void => {
    publish(event).catch((cause: Error) => reportFailure(warn, `chat: announcing "${event.type}" failed`, cause));
  };

  function onConnection(ws: WebSocket): void {
    let state: 'new' | 'joining' | 'joined' = 'new';
    let user: ChatUser | undefined;

    async function join(request: JoinRequest): Promise<void> {
      state = 'joining';
      // Hold live events from now on, before the history is read: nothing falls in between.
      joining.set(ws, []);
      const [number, past] = await Promise.all([backend.next(CHAT_KEYS.users), backend.recent(CHAT_KEYS.history, history)]);
      const held = joining.get(ws);
      joining.delete(ws);
      if (!held || ws.readyState !== WebSocket.OPEN) return;
      const id = `user-${number}`;
      user = { id, name: request.name?.trim() || id };
      const messages = past.map(parseEvent).filter((event) => event?.type === 'message') as ChatMessage[];
      send(ws, { type: 'welcome', you: user, history: messages, ref: request.ref } satisfies WelcomeEvent);
      // Events published while the history was read may be in it already.
      const seen = new Set(messages.map((message) => message.id));
      for (const event of held) {
        if (!seen.has(parseEvent(event)?.id ?? '')) send(ws, event);
      }
      state = 'joined';
      members.add(ws);
      announce({ type: 'joined', user, time: new Date().toISOString() });
    }

    function say(request: SayRequest, from: ChatUser): void {
      const message: ChatMessage = { type: 'message', id: randomUUID(), from, text: request.text, time: new Date().toISOString() };
      // Answered once, after the backend's answer; never retried (docs/apps.md, "Redis outages").
      publish(message).then(
        () => send(ws, { type: 'sent', id: message.id, ref: request.ref } satisfies SentEvent),
        (cause: Error) => {
          reportFailure(warn, 'chat: a message was not sent', cause);
          send(ws, error('unavailable', 'the message was not sent, try again', request.ref));
        },
      );
    }

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const request = readRequest(data, isBinary, CHAT_LIMITS.requestBytes);
      if (isError(request)) return send(ws, request);
      const problem = check(request);
      if (problem) return send(ws, { ...problem, ref: request.ref });
      const valid = request as unknown as ChatRequest;
      if (valid.type === 'join') {
        if (state !== 'new') return send(ws, error('already-joined', 'you have joined already', valid.ref));
        join(valid).catch((cause: Error) => {
          joining.delete(ws);
          if (state === 'joining') state = 'new';
          reportFailure(warn, 'chat: join failed', cause);
          send(ws, error('unavailable', 'the room is unavailable, try again', valid.ref));
        });
        return;
      }
      if (state !== 'joined' || !user) return send(ws, error('not-joined', 'send {"type":"join"} first', valid.ref));
      say(valid, user);
    });

    ws.on('close', () => {
      joining.delete(ws);
      if (members.delete(ws) && user) announce({ type: 'left', user, time: new Date().toISOString() });
    });
  }

  return { onConnection };
}

/** An event from the channel or the history; undefined if something else wrote garbage there. */
function parseEvent(json: string): { type?: string; id?: string } | undefined {
  try {
    return JSON.parse(json) as { type?: string; id?: string };
  } catch {
    return undefined;
  }
}

/** Check a request against the schema; undefined when it is valid. */
function check(request: { type: string; [field: string]: unknown }): ErrorReply<ChatErrorCode> | undefined {
  if (request.type === 'join') {
    const { name } = request;
    if (name === undefined) return undefined;
    if (typeof name !== 'string' || name.trim() === '' || name.length > CHAT_LIMITS.name || CONTROL.test(name)) {
      return error('bad-request', `"name" must be 1 to ${CHAT_LIMITS.name} characters, with no control characters`);
    }
    return undefined;
  }
  if (request.type === 'say') {
    const { text } = request;
    if (typeof text !== 'string' || text.trim() === '' || CONTROL.test(text)) {
      return error('bad-request', '"text" must be a non-empty string with no control characters but tab and newline');
    }
    if (text.length > CHAT_LIMITS.text) {
      return error('too-large', `"text" may be at most ${CHAT_LIMITS.text} characters, this one has ${text.length}`);
    }
    return undefined;
  }
  return error('bad-request', `unknown request type ${JSON.stringify(request.type).slice(0, 40)}: use "join" or "say"`);
}
