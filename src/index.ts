export * from './server/index.js';
export {
  ProtocolError,
  HandshakeError,
  FrameFailures,
  HandshakeFailures,
  ArgumentTypeError,
  ArgumentRangeError,
  StateError,
  UsageFailures,
  type UsageFailureCode,
  encodeMessage,
  isValidCloseCode,
  requestPath,
  type DeflateOptions,
} from './protocol/index.js';
