/**
 * Every failure the protocol core can report. Each has a stable `code` string
 * and the wire consequence it maps to: a close code (RFC 6455 §7.4.1) for a
 * connection that is open, or an HTTP status for a handshake (§4.2.2).
 */

/** Failures after the handshake, each mapped to the close code we send. */
export const FrameFailures = {
  // RFC 6455 §5.1: a server MUST close on an unmasked client frame.
  UNMASKED_FRAME: 1002,
  // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them.
  RESERVED_BITS: 1002,
  // RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved.
  RESERVED_OPCODE: 1002,
  // RFC 6455 §5.5: control frames MUST NOT be fragmented.
  FRAGMENTED_CONTROL_FRAME: 1002,
  // RFC 6455 §5.5: control frames MUST have a payload of 125 bytes or less.
  CONTROL_FRAME_TOO_LONG: 1002,
  // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
  LENGTH_OUT_OF_RANGE: 1002,
  // RFC 6455 §5.2: the minimal number of bytes MUST be used to encode the length.
  NON_MINIMAL_LENGTH: 1002,
  // RFC 6455 §5.4: a continuation frame with no message to continue.
  UNEXPECTED_CONTINUATION: 1002,
  // RFC 6455 §5.4: fragments of one message MUST NOT be interleaved with another.
  EXPECTED_CONTINUATION: 1002,
  // RFC 6455 §5.5.1: a close body of 1 byte cannot hold a status code.
  INVALID_CLOSE_PAYLOAD: 1002,
  // RFC 6455 §7.4: a status code that is reserved or not defined.
  INVALID_CLOSE_CODE: 1002,
  // RFC 7692 §6: RSV1 only on the first frame of a compressed data message.
  UNEXPECTED_COMPRESSION_BIT: 1002,
  // RFC 6455 §8.1: text payloads and close reasons MUST be valid UTF-8.
  INVALID_UTF8: 1007,
  // RFC 7692 §6.2: the compressed payload could not be inflated.
  INVALID_COMPRESSED_DATA: 1007,
  // RFC 6455 §10.4: a cap on fragments per message (policy).
  TOO_MANY_FRAGMENTS: 1008,
  // RFC 6455 §10.4: a frame or message over the configured maximum.
  MESSAGE_TOO_BIG: 1009,
} as const;

export type FrameFailureCode = keyof typeof FrameFailures;

/** A protocol violation by the peer: the connection is failed (RFC 6455 §7.1.7). */
export class ProtocolError extends Error {
  readonly code: FrameFailureCode;
  readonly closeCode: number;

  constructor(code: FrameFailureCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = FrameFailures[code];
  }
}

/** Failures of the opening handshake, each mapped to the HTTP status we answer with. */
export const HandshakeFailures = {
  // RFC 9112 §3: a request line or header line that does not parse.
  MALFORMED_REQUEST: 400,
  // RFC 6455 §4.2.1 item 1: the method MUST be GET.
  METHOD_NOT_ALLOWED: 405,
  // RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher.
  HTTP_VERSION_NOT_SUPPORTED: 505,
  // RFC 6455 §4.2.1 item 2 and RFC 9112 §3.2: exactly one Host header field.
  MISSING_HOST: 400,
  // RFC 9112 §3.2: a Host that is not uri-host [":" port] (RFC 3986 §3.2.2).
  INVALID_HOST: 400,
  // RFC 9112 §3.2: a GET's target in neither origin-form nor absolute-form.
  INVALID_TARGET: 400,
  // RFC 9112 §6.3 items 3 and 5: an invalid Content-Length, or one with Transfer-Encoding.
  INVALID_MESSAGE_LENGTH: 400,
  // RFC 6455 §4.1: the upgrade request has no content (what follows its head is frames).
  UNEXPECTED_CONTENT: 400,
  // RFC 6455 §4.2.1 item 3: Upgrade containing "websocket".
  UPGRADE_REQUIRED: 426,
  // RFC 6455 §4.2.1 item 4: Connection containing the token "Upgrade".
  INVALID_CONNECTION_HEADER: 400,
  // RFC 6455 §4.2.1 item 5: one Sec-WebSocket-Key, base64 of 16 bytes.
  INVALID_KEY: 400,
  // RFC 6455 §4.2.2: a version we do not speak gets 426 and the versions we do.
  UNSUPPORTED_VERSION: 426,
  // RFC 6455 §4.1 item 9 / §11.3.4: Sec-WebSocket-Protocol is a list of tokens.
  INVALID_PROTOCOL_HEADER: 400,
  // RFC 6455 §9.1: a Sec-WebSocket-Extensions value that does not conform to its ABNF.
  INVALID_EXTENSIONS_HEADER: 400,
  // RFC 6455 §10.2: the server may refuse origins it does not accept.
  FORBIDDEN_ORIGIN: 403,
  // RFC 6455 §4.2.1: the resource name is not served here.
  NOT_FOUND: 404,
  // RFC 9110 §15.5.9: the request head did not arrive within the handshake timeout.
  HANDSHAKE_TIMEOUT: 408,
  // RFC 9110 §15.6.4: the server's connection cap (maxConnections) is reached; sent with Retry-After.
  TOO_MANY_CONNECTIONS: 503,
  // RFC 9110 §15.5.15: our cap on the request line.
  REQUEST_LINE_TOO_LONG: 414,
  // RFC 6585 §5: our caps on header count and header bytes.
  HEADERS_TOO_LARGE: 431,
  // RFC 8441 §4 and RFC 9113 §8.3.1: extended CONNECT needs :scheme, :path and :authority.
  MISSING_PSEUDO_HEADER: 400,
  // RFC 8441 §4: a CONNECT stream is a WebSocket only with ":protocol: websocket".
  NOT_WEBSOCKET_CONNECT: 400,
} as const;

export type HandshakeFailureCode = keyof typeof HandshakeFailures;

/** A rejected opening handshake: answer with `status` and `headers`, then close. */
export class HandshakeError extends Error {
  readonly code: HandshakeFailureCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The request was a HEAD: the answer has no content (RFC 9110 §9.3.2). */
  readonly headRequest: boolean;

  constructor(code: HandshakeFailureCode, message: string, headers: Record<string, string> = {}, headRequest = false) {
    super(message);
    this.name = 'HandshakeError';
    this.code = code;
    this.status = HandshakeFailures[code];
    this.headers = headers;
    this.headRequest = headRequest;
  }
}

/**
 * Misuse of the API: a bad option or call argument. Thrown synchronously to
 * the caller, so nothing goes on the wire and there is no close code or HTTP
 * status (no `closeCode`, no `status`). The checks of a hook's result
 * (handleProtocols, authenticate, handleRequest, 'headers') throw inside the
 * server, which answers 500 as for any failed hook and emits 'handshakeError'.
 */
export const UsageFailures = {
  // An option value of the wrong type or out of range, or options that do not go together.
  INVALID_OPTION: 'invalid option value',
  // An option key we do not take, unknown or refused (always an OptionError).
  UNKNOWN_OPTION: 'unknown or refused option',
  // A call argument (or property value) of the wrong type or value.
  INVALID_ARGUMENT: 'invalid argument',
  // RFC 6455 §5.5.1, §7.4: a close code we may not send, or a reason that is not UTF-8 or too long.
  INVALID_CLOSE: 'close code or reason that may not be sent',
  // RFC 6455 §5.5: a ping or pong payload over 125 bytes.
  CONTROL_PAYLOAD_TOO_LARGE: 'control frame payload over 125 bytes',
  // RFC 9110 §5.1, §5.5: a response header that is not a token name with a field value.
  INVALID_HEADER: 'invalid response header',
  // A hook returned something it may not (e.g. a subprotocol the client did not offer).
  INVALID_HOOK_RESULT: 'invalid hook result',
  // A `ws` call form we do not support (onmessage and the like).
  UNSUPPORTED: 'unsupported call form',
  // A call the connection's state does not allow: a send once closing (RFC 6455 §5.5.1), a whole
  // message or frame inside a fragmented one (§5.4), a compressed send without permessage-deflate,
  // a second handleUpgrade on one socket.
  INVALID_STATE: 'call not allowed in the current state',
} as const;

export type UsageFailureCode = keyof typeof UsageFailures;

/** A TypeError with a stable code (UsageFailures); `instanceof TypeError` holds. */
export class ArgumentTypeError extends TypeError {
  constructor(readonly code: UsageFailureCode, message: string) {
    super(message);
  }
}

/** A RangeError with a stable code (UsageFailures); `instanceof RangeError` holds. */
export class ArgumentRangeError extends RangeError {
  constructor(readonly code: UsageFailureCode, message: string) {
    super(message);
  }
}

/** An Error with a stable code (UsageFailures) for a call the state does not allow. */
export class StateError extends Error {
  readonly code = 'INVALID_STATE';
}

/** An option key we do not take: a TypeError with code UNKNOWN_OPTION, naming the key. */
export class OptionError extends ArgumentTypeError {
  declare readonly code: 'UNKNOWN_OPTION';

  constructor(message: string) {
    super('UNKNOWN_OPTION', message);
    this.name = 'OptionError';
  }
}
