/** Runtime failures, each with a stable code (protocol failures are ProtocolError). */
export const RuntimeFailures = {
  // A send while the connection is not OPEN (RFC 6455 §5.5.1: nothing after close).
  NOT_OPEN: 'the connection is not open',
  // More than `maxBufferedAmount` bytes queued for a peer that does not read.
  SEND_BUFFER_LIMIT: 'the peer is not reading; send buffer limit exceeded',
  // No pong (nor any other frame) within the heartbeat timeout.
  HEARTBEAT_TIMEOUT: 'the peer did not answer a ping in time',
  // A data message was started and not finished within `messageTimeout` (closed with 1008).
  MESSAGE_TIMEOUT: 'the peer did not finish a message in time',
  // A 'message', 'ping' or 'pong' listener threw (closed with 1011); the exception is the cause.
  LISTENER_ERROR: 'a listener threw',
  // The socket failed (ECONNRESET, EPIPE ...).
  SOCKET_ERROR: 'the socket failed',
} as const;

export type RuntimeFailureCode = keyof typeof RuntimeFailures;

export class WebSocketError extends Error {
  readonly code: RuntimeFailureCode;
  /** The close code we sent for it, if a close frame went out. */
  readonly closeCode: number | undefined;

  constructor(code: RuntimeFailureCode, closeCode?: number, cause?: unknown) {
    super(RuntimeFailures[code], cause === undefined ? undefined : { cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = closeCode;
  }
}
