/**
 * RFC 6455 §5.5.1 (Close frames), §7 (closing the connection) and §7.4
 * (status codes).
 */
import { describe, expect, it } from 'vitest';
import {
  ABNORMAL_CLOSURE,
  NO_STATUS_RECEIVED,
  encodeClosePayload,
  isValidCloseCode,
  parseClosePayload,
} from '../src/protocol/index.js';
import {
  OP,
  binary,
  close,
  closeBody,
  closeWrite,
  everyByte,
  expectFailure,
  frame,
  openConnection,
  ping,
  receiveAll,
  summarize,
  text,
} from './helpers.js';

/** §7.4.1, §7.4.2 and the IANA registry: the codes that may appear in a Close frame. */
const SENDABLE = (code: number) =>
  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
const ALL_CODES = Array.from({ length: 65536 }, (_, code) => code);

describe('RFC 6455 §7.4: status codes', () => {
  it('isValidCloseCode classifies every code from 0 to 65535', () => {
    const wrong = ALL_CODES.filter((code) => isValidCloseCode(code) !== SENDABLE(code));
    expect(wrong).toEqual([]);
  });

  it('the boundaries are as §7.4 says', () => {
    const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
    expect(valid.map(isValidCloseCode)).toEqual(valid.map(() => true));
    expect(invalid.map(isValidCloseCode)).toEqual(invalid.map(() => false));
    expect(SENDABLE(1005) || SENDABLE(1006) || SENDABLE(1015)).toBe(false);
    expect([NO_STATUS_RECEIVED, ABNORMAL_CLOSURE]).toEqual([1005, 1006]);
  });

  it('a close frame with each code from 0 to 65535: valid → echoed, invalid → 1002 INVALID_CLOSE_CODE', () => {
    const wrong: Array<{ code: number; events: string[] }> = [];
    for (const code of ALL_CODES) {
      const events = summarize(receiveAll(close(code)).events);
      const expected = SENDABLE(code)
        ? [closeWrite(code), `close:${code}:`, 'closeTransport']
        : [closeWrite(1002), 'error:INVALID_CLOSE_CODE', 'closeTransport'];
      if (events.join() !== expected.join()) wrong.push({ code, events });
    }
    expect(wrong).toEqual([]);
  });
});

describe('RFC 6455 §5.5.1: the close body', () => {
  it('an empty close is answered with an empty close and reported as 1005', () => {
    const { connection, recorder } = openConnection();
    connection.receive(close());
    expect(summarize(recorder.events)).toEqual([closeWrite(), `close:${NO_STATUS_RECEIVED}:`, 'closeTransport']);
    expect(recorder.written[0].payload.length).toBe(0);
    expect(connection.peerClose).toEqual({ code: 1005, reason: '' });
    expect(connection.sentClose).toEqual({ code: 1005, reason: '' });
  });

  it('a 1-byte body → 1002 INVALID_CLOSE_PAYLOAD', () => {
    for (const body of [[0x03], [0x00], [0xff]]) {
      expectFailure(receiveAll(frame({ opcode: OP.CLOSE, payload: Buffer.from(body) })), 'INVALID_CLOSE_PAYLOAD');
    }
  });

  it('a reason that is not UTF-8 → 1007 INVALID_UTF8', () => {
    for (const reason of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0xe2, 0x82]]) {
      expectFailure(receiveAll(close(1000, Buffer.from(reason))), 'INVALID_UTF8');
    }
  });

  it('a UTF-8 reason is reported, and echoed with the code', () => {
    const { connection, recorder } = openConnection();
    const reason = 'gone — ✓ 😀';
    connection.receive(close(4000, reason));
    expect(summarize(recorder.events)).toEqual([closeWrite(4000, reason), `close:4000:${reason}`, 'closeTransport']);
    expect(connection.peerClose).toEqual({ code: 4000, reason });
    expect(connection.sentClose).toEqual({ code: 4000, reason });
    expect(connection.state).toBe('CLOSED');
  });

  it('a close frame split byte by byte is the same close', () => {
    const bytes = close(1001, 'split');
    expect(summarize(receiveAll(bytes, {}, everyByte(bytes)).events)).toEqual([closeWrite(1001, 'split'), 'close:1001:split', 'closeTransport']);
  });
});

describe('RFC 6455 §1.4 / §5.5.1: nothing is processed after the peer\'s close', () => {
  const afterClose: Array<[string, Buffer]> = [
    ['a text message', text('after')],
    ['a ping', ping('after')],
    ['a second close', close(1000)],
    ['a protocol violation', frame({ opcode: 0x3 })],
    ['garbage', Buffer.from([0xff, 0xff, 0xff, 0xff])],
  ];

  it.each(afterClose)('%s in the same chunk as the close is ignored', (_, after) => {
    const recorder = receiveAll(Buffer.concat([close(1000), after]));
    expect(summarize(recorder.events)).toEqual([closeWrite(1000), 'close:1000:', 'closeTransport']);
  });

  it.each(afterClose)('%s in a later chunk is ignored', (_, after) => {
    const { connection, recorder } = openConnection();
    connection.receive(close(1000));
    connection.receive(after);
    expect(summarize(recorder.events)).toEqual([closeWrite(1000), 'close:1000:', 'closeTransport']);
  });

  it('messages before the close in the same chunk are delivered', () => {
    const recorder = receiveAll(Buffer.concat([text('before'), binary('b'), close(1000), text('after')]));
    expect(summarize(recorder.received)).toEqual(['text:before', 'binary:62', 'close:1000:', 'closeTransport']);
  });

  it('a close in the middle of a fragmented message ends it; the rest is ignored', () => {
    const recorder = receiveAll(Buffer.concat([text('par', { fin: false }), close(1001), frame({ opcode: OP.CONT, payload: 'tial' })]));
    expect(summarize(recorder.received)).toEqual(['close:1001:', 'closeTransport']);
  });
});

describe('RFC 6455 §7.1.2: the server starts the closing handshake', () => {
  it('close(code, reason) writes a close frame and waits in CLOSING', () => {
    const { connection, recorder } = openConnection();
    connection.close(1001, 'going away');
    expect(connection.state).toBe('CLOSING');
    expect(connection.sentClose).toEqual({ code: 1001, reason: 'going away' });
    expect(recorder.written).toEqual([{ fin: true, rsv: 0, opcode: OP.CLOSE, masked: false, payload: closeBody(1001, 'going away') }]);
    expect(recorder.received).toEqual([]);
  });

  it('close() without a code writes an empty close', () => {
    const { connection, recorder } = openConnection();
    connection.close();
    expect(summarize(recorder.events)).toEqual([closeWrite()]);
    expect(connection.sentClose).toEqual({ code: NO_STATUS_RECEIVED, reason: '' });
  });

  it('the peer\'s close then completes the handshake: closeTransport, no second close frame', () => {
    const { connection, recorder } = openConnection();
    connection.close(1000);
    connection.receive(Buffer.concat([text('in flight'), close(1000, 'ok')]));
    // After our Close, messages are still read (framing rules hold) but not delivered.
    expect(summarize(recorder.events)).toEqual([closeWrite(1000), 'close:1000:ok', 'closeTransport']);
    expect(connection.state).toBe('CLOSED');
  });

  it('a protocol error while CLOSING reports the failure without a second close frame', () => {
    const { connection, recorder } = openConnection();
    connection.close(1000);
    recorder.clear();
    connection.receive(close(1005));
    expectFailure(recorder, 'INVALID_CLOSE_CODE', { closeWritten: false });
    expect(connection.sentClose).toEqual({ code: 1000, reason: '' });
  });

  it('a second close() does nothing', () => {
    const { connection, recorder } = openConnection();
    connection.close(1000);
    connection.close(1001);
    expect(summarize(recorder.events)).toEqual([closeWrite(1000)]);
    connection.receive(close(1000));
    connection.close(1000);
    expect(summarize(recorder.events)).toEqual([closeWrite(1000), 'close:1000:', 'closeTransport']);
  });

  const unsendable = [0, 999, 1004, 1006, 1015, 1016, 2000, 2999, 5000, 65535, 70000, -1, 1000.5, Number.NaN];
  it.each(unsendable)('close(%s) throws RangeError and writes nothing', (code) => {
    const { connection, recorder } = openConnection();
    expect(() => connection.close(code)).toThrow(RangeError);
    expect(recorder.events).toEqual([]);
    expect(connection.state).toBe('OPEN');
  });

  it('close() refuses a reason without a code, or one over 123 bytes', () => {
    const { connection, recorder } = openConnection();
    expect(() => connection.close(undefined, 'why')).toThrow(RangeError);
    expect(() => connection.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(() => connection.close(1000, '€'.repeat(41) + 'x')).toThrow(RangeError); // 124 bytes
    expect(recorder.events).toEqual([]);
    connection.close(1000, '€'.repeat(41)); // 123 bytes
    expect(recorder.written[0].payload.length).toBe(125);
  });
});

describe('close payload codec', () => {
  it('encodeClosePayload: code big-endian, then the UTF-8 reason', () => {
    expect(encodeClosePayload(1000, 'ok').toString('hex')).toBe('03e86f6b');
    expect(encodeClosePayload(4999).toString('hex')).toBe('1387');
    expect(encodeClosePayload().length).toBe(0);
  });

  it('parseClosePayload reads what encodeClosePayload writes', () => {
    expect(parseClosePayload(encodeClosePayload(3000, 'é'))).toEqual({ code: 3000, reason: 'é' });
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: NO_STATUS_RECEIVED, reason: '' });
    expect(() => parseClosePayload(Buffer.from([0x03]))).toThrow(expect.objectContaining({ code: 'INVALID_CLOSE_PAYLOAD' }));
    expect(() => parseClosePayload(closeBody(1006))).toThrow(expect.objectContaining({ code: 'INVALID_CLOSE_CODE' }));
    expect(() => parseClosePayload(closeBody(1000, Buffer.from([0x80])))).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }));
  });
});
