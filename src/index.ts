export * from './server/index.js';
export {
  ProtocolError,
  HandshakeError,
  FrameFailures,
  HandshakeFailures,
  encodeMessage,
  isValidCloseCode,
  requestPath,
  type DeflateOptions,
} from './protocol/index.js';
