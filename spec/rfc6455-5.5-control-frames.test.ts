/**
 * RFC 6455 §5.5, §5.5.2, §5.5.3: control frames, ping and pong.
 */
import { describe, expect, it } from 'vitest';
import {
  OP,
  close,
  closeWrite,
  expectFailure,
  frame,
  frameHeader,
  openConnection,
  pattern as bytesOf,
  ping,
  pong,
  receiveAll,
  summarize,
} from './helpers.js';

describe('RFC 6455 §5.5: control frame rules', () => {
  const controls: Array<[string, number]> = [
    ['close', OP.CLOSE],
    ['ping', OP.PING],
    ['pong', OP.PONG],
  ];

  it.each(controls)('a %s frame without FIN → 1002, judged from the first byte', (_, opcode) => {
    expectFailure(receiveAll(frame({ opcode, fin: false, payload: '' })), 'FRAGMENTED_CONTROL_FRAME');
    const { connection, recorder } = openConnection();
    connection.receive(Buffer.from([opcode]));
    expectFailure(recorder, 'FRAGMENTED_CONTROL_FRAME');
  });

  it.each(controls)('a %s frame of 126 bytes (16-bit length) → 1002, judged from the second byte', (_, opcode) => {
    expectFailure(receiveAll(frame({ opcode, payload: bytesOf(126) })), 'CONTROL_FRAME_TOO_LONG');
    const { connection, recorder } = openConnection();
    connection.receive(frameHeader({ opcode, length: 126 }).subarray(0, 2));
    expectFailure(recorder, 'CONTROL_FRAME_TOO_LONG');
  });

  it.each(controls)('a %s frame with a 64-bit length → 1002', (_, opcode) => {
    expectFailure(receiveAll(frameHeader({ opcode, length: 70_000 })), 'CONTROL_FRAME_TOO_LONG');
  });

  it('a 125-byte control frame is accepted', () => {
    const payload = bytesOf(125);
    expect(summarize(receiveAll(pong(payload)).events)).toEqual([`pong:${payload.toString('hex')}`]);
    const reason = 'r'.repeat(123);
    expect(summarize(receiveAll(close(1000, reason)).events)).toEqual([closeWrite(1000, reason), `close:1000:${reason}`, 'closeTransport']);
  });
});

describe('RFC 6455 §5.5.2: ping', () => {
  it.each([0, 1, 5, 125])('a ping of %i bytes is answered with a pong carrying the same payload', (n) => {
    const payload = bytesOf(n);
    const recorder = receiveAll(ping(payload));
    const hex = payload.toString('hex');
    expect(summarize(recorder.events)).toEqual([`write:pong:${hex}`, `ping:${hex}`]);
    // The pong is a single unmasked, final frame.
    expect(recorder.written).toEqual([{ fin: true, rsv: 0, opcode: OP.PONG, masked: false, payload }]);
  });

  it('each of several pings gets its own pong, in order', () => {
    const recorder = receiveAll(Buffer.concat(['a', 'b', 'c'].map((p) => ping(p))), {}, [3, 9, 10]);
    expect(recorder.written.map((f) => f.payload.toString())).toEqual(['a', 'b', 'c']);
  });

  it('a ping split across chunks is answered once it is complete', () => {
    const { connection, recorder } = openConnection();
    const bytes = ping('split');
    connection.receive(bytes.subarray(0, 8));
    expect(recorder.events).toEqual([]);
    connection.receive(bytes.subarray(8));
    expect(summarize(recorder.events)).toEqual([`write:pong:${Buffer.from('split').toString('hex')}`, `ping:${Buffer.from('split').toString('hex')}`]);
  });

  it('after we sent a close, pings are still answered (not reported) until the peer\'s close', () => {
    const { connection, recorder } = openConnection();
    connection.close(1000);
    recorder.clear();
    const hex = Buffer.from('late').toString('hex');
    connection.receive(Buffer.concat([ping('late'), pong('p'), ping('late'), close(1000), ping('after')]));
    expect(summarize(recorder.events)).toEqual([`write:pong:${hex}`, `write:pong:${hex}`, 'close:1000:', 'closeTransport']);
    // No data frame went out after our Close, only the pongs (RFC 6455 §5.5.1).
    expect(recorder.written.map((f) => f.opcode)).toEqual([OP.PONG, OP.PONG]);
  });

  it('after the peer\'s close, a ping is neither answered nor reported', () => {
    const { connection, recorder } = openConnection();
    connection.receive(close(1000));
    recorder.clear();
    connection.receive(ping('late'));
    expect(recorder.events).toEqual([]);
    expect(() => connection.ping()).toThrow(/CLOSED/);
  });
});

describe('RFC 6455 §5.5.3: pong', () => {
  it('an unsolicited pong is reported and not answered', () => {
    const recorder = receiveAll(pong('beat'));
    expect(summarize(recorder.events)).toEqual([`pong:${Buffer.from('beat').toString('hex')}`]);
  });
});

describe('sending control frames', () => {
  it('ping() and pong() write unmasked frames, empty by default', () => {
    const { connection, recorder } = openConnection();
    connection.ping();
    connection.ping(Buffer.from('a'));
    connection.pong();
    connection.pong(bytesOf(125));
    expect(summarize(recorder.events)).toEqual(['write:ping:', 'write:ping:61', 'write:pong:', `write:pong:${bytesOf(125).toString('hex')}`]);
  });

  it('refuses a payload over 125 bytes', () => {
    const { connection, recorder } = openConnection();
    expect(() => connection.ping(bytesOf(126))).toThrow(RangeError);
    expect(() => connection.pong(bytesOf(126))).toThrow(RangeError);
    expect(recorder.events).toEqual([]);
  });

  it('refuses data once a close was sent; control frames may still go (RFC 6455 §5.5.1, §5.5.2)', () => {
    const { connection, recorder } = openConnection();
    connection.close();
    connection.ping(Buffer.from('a'));
    connection.pong();
    expect(summarize(recorder.events)).toEqual([closeWrite(), 'write:ping:61', 'write:pong:']);
    expect(() => connection.send(Buffer.from('x'), false)).toThrow(/CLOSING/);
    expect(() => connection.sendEncoded(Buffer.from([0x81, 0]))).toThrow(/CLOSING/);
  });
});
