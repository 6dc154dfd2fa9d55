export * from './errors.js';
export * from './mask.js';
export * from './utf8.js';
export * from './close.js';
export * from './frame.js';
export * from './message.js';
export * from './connection.js';
export * from './handshake.js';
