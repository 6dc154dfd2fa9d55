export { WebSocket, type BinaryType, type Sendable, type SendOptions, type SendCallback } from './websocket.js';
export { WebSocketServer, DEFAULTS, type ServerOptions, type AuthResult, type HeartbeatOptions, type HttpResponse } from './server.js';
export { WebSocketError, RuntimeFailures, type RuntimeFailureCode } from './errors.js';
