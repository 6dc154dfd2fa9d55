/** Serving a page over plain HTTP, next to the WebSocket endpoint on the same port. */
import type { IncomingMessage } from 'node:http';
import { type HttpResponse, requestPath } from '../index.js';
import type { Page } from './pages/page.js';

/** Answers a plain request, or returns undefined to leave it to the server (426). */
export type RequestHandler = (request: IncomingMessage) => HttpResponse | undefined;

/** Serve `page` on GET and HEAD of "/" (any query). Anything else is left to the server. */
export function pageHandler(page: Page): RequestHandler {
  return (request) => {
    if (requestPath(request.url ?? '') !== '/' || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined;
    return {
      status: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': page.csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      },
      body: page.html,
    };
  };
}
