export * from './server/index.js';
export {
  ProtocolError,
  HandshakeError,
  FrameFailures,
  HandshakeFailures,
  encodeMessage,
  isValidCloseCode,
} from './protocol/index.js';
