/**
 * The WHATWG WebSocket client in browser_client.js, as an InteropClient.
 * Chromium runs the script in a page; undici's WebSocket runs the very same
 * script in a node:vm context. Only JSON crosses (binary as base64).
 */
import { fileURLToPath } from 'node:url';
import { type InteropClient, type Session, type WireMessage, fromWire, toWire } from './cases.js';

export const BROWSER_CLIENT = fileURLToPath(new URL('./browser_client.js', import.meta.url));

/** Calls window.interop[op](args) wherever the script runs. */
export type ScriptCall = <T>(op: string, args: object) => Promise<T>;

export function scriptClient(call: ScriptCall, dispose: () => Promise<void> = async () => {}): InteropClient {
  return {
    async exchange(url, messages, expected) {
      const received = await call<WireMessage[]>('exchange', { url, messages: messages.map(toWire), expected });
      return received.map(fromWire);
    },
    closeWith: (url, code, reason) => call('closeWith', { url, code, reason }),
    async untilClosed(url, messages) {
      const session = await call<{ received: WireMessage[]; close: Session['close'] }>('untilClosed', {
        url,
        messages: messages.map(toWire),
      });
      return { received: session.received.map(fromWire), close: session.close };
    },
    extensions: (url) => call<string>('extensions', { url }),
    subprotocol: (url, protocols) => call<string>('subprotocol', { url, protocols }),
    dispose,
  };
}
