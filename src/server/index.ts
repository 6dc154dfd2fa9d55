export { WebSocket, type BinaryType, type Sendable, type SendOptions, type SendCallback } from './websocket.js';
export { WebSocketServer, DEFAULTS, RETRY_AFTER_SECONDS, type ServerOptions, type AuthResult, type HeartbeatOptions, type HttpResponse } from './server.js';
export { WebSocketError, RuntimeFailures, type RuntimeFailureCode } from './errors.js';
export { OptionError } from './options.js';
