export * from './server/index.js';
export {
  ProtocolError,
  HandshakeError,
  FrameFailures,
  HandshakeFailures,
  encodeMessage,
  isValidCloseCode,
  type DeflateOptions,
} from './protocol/index.js';
