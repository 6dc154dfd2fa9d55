/**
 * RFC 6455 §5.5.1 and §7.4: the Close frame body and its status codes.
 */
import { ArgumentRangeError, ProtocolError } from './errors.js';
import { isValidUtf8 } from './utf8.js';

/** RFC 6455 §7.1.5: the code reported when a close frame had no status code. */
export const NO_STATUS_RECEIVED = 1005;
/** RFC 6455 §7.1.5: the code reported when the connection closed without a close frame. */
export const ABNORMAL_CLOSURE = 1006;

/**
 * RFC 6455 §7.4.1 and §7.4.2 with the IANA registry: codes an endpoint may
 * put on the wire. 1004-1006 and 1015 are reserved and never sent; 0-999 are
 * unused; 1016-2999 are for future RFCs; 3000-4999 are for libraries and
 * applications; 5000 and above are not defined.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

export interface CloseBody {
  code: number;
  reason: string;
}

/** Parse a received close payload (already unmasked and at most 125 bytes). */
export function parseClosePayload(payload: Buffer): CloseBody {
  if (payload.length === 0) return { code: NO_STATUS_RECEIVED, reason: '' };
  // RFC 6455 §5.5.1: if there is a body, its first two bytes are the code.
  if (payload.length === 1) {
    throw new ProtocolError('INVALID_CLOSE_PAYLOAD', 'close frame body of 1 byte');
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    throw new ProtocolError('INVALID_CLOSE_CODE', `invalid close code ${code}`);
  }
  if (payload.length === 2) return { code, reason: '' };
  const reason = payload.subarray(2);
  // RFC 6455 §5.5.1: the reason is UTF-8 encoded data.
  if (!isValidUtf8(reason)) {
    throw new ProtocolError('INVALID_UTF8', 'close reason is not valid UTF-8');
  }
  return { code, reason: reason.toString('utf8') };
}

/**
 * Build a close payload to send. `reason` is text, or bytes that must be
 * UTF-8 (RFC 6455 §5.5.1). Throws a RangeError for a code we may not send, or
 * a reason that is not UTF-8 or does not fit a control frame (§5.5).
 */
export function encodeClosePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  const reasonLength = typeof reason === 'string' ? Buffer.byteLength(reason) : reason.length;
  if (code === undefined || code === NO_STATUS_RECEIVED) {
    if (reasonLength !== 0) throw new ArgumentRangeError('INVALID_CLOSE', 'a close reason needs a status code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new ArgumentRangeError('INVALID_CLOSE', `close code ${code} may not be sent (RFC 6455 §7.4)`);
  }
  if (reasonLength > 123) {
    throw new ArgumentRangeError('INVALID_CLOSE', `close reason is ${reasonLength} bytes; at most 123 fit (RFC 6455 §5.5)`);
  }
  const body = Buffer.allocUnsafe(2 + reasonLength);
  body.writeUInt16BE(code, 0);
  if (typeof reason === 'string') {
    body.write(reason, 2, 'utf8');
  } else {
    if (!isValidUtf8(reason)) throw new ArgumentRangeError('INVALID_CLOSE', 'close reason is not valid UTF-8 (RFC 6455 §5.5.1)');
    body.set(reason, 2);
  }
  return body;
}
