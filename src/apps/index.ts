/**
 * The real-time apps behind `strictws echo`, `strictws chat` and
 * `strictws vote`, built only on the public API (src/index.ts).
 * See docs/apps.md.
 */
export { type Backend, type Bus, type Keep, type Store, MissingPackageError, memory, openBackend } from './backend.js';
export { pageHandler, type RequestHandler } from './http.js';
export { REDIS_RANGE } from './redis.js';
export { MAX_REF, SLOW_CLIENT_CAP, type ErrorReply, type RequestErrorCode } from './wire.js';
export * from './chat.js';
export * from './vote.js';
export { echoPage } from './pages/echo.js';
export { chatPage } from './pages/chat.js';
export { votePage } from './pages/vote.js';
export type { Page } from './pages/page.js';
