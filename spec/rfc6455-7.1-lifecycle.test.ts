/**
 * RFC 6455 §7.1: the connection's life in the sans-I/O core, for someone
 * driving `strictws/protocol` with their own I/O: the close code to report
 * (§7.1.5, §7.1.6), the end of the stream, failing the connection (§7.1.7),
 * messages accepted before our Close (§5.5.1), pausing between messages,
 * and fragmented sends (§5.4).
 */
import { describe, expect, it } from 'vitest';
import { PerMessageDeflate } from '../src/protocol/index.js';
import {
  OP,
  binary,
  close,
  closeBody,
  closeWrite,
  openConnection,
  ping,
  summarize,
  text,
} from './helpers.js';

describe('RFC 6455 §7.1.5, §7.1.6: the close code to report (closeStatus)', () => {
  it('is undefined until the connection is CLOSED', () => {
    const { connection } = openConnection();
    expect(connection.closeStatus).toBeUndefined();
    connection.close(1000);
    expect(connection.closeStatus).toBeUndefined();
  });

  it("is the peer's code and reason, and 1005 for a close frame without a code", () => {
    const a = openConnection();
    a.connection.receive(close(4001, 'bye'));
    expect(a.connection.closeStatus).toEqual({ code: 4001, reason: 'bye' });
    const b = openConnection();
    b.connection.receive(close());
    expect(b.connection.closeStatus).toEqual({ code: 1005, reason: '' });
  });

  it('is 1006 when the stream ends without a close frame (receiveEnd), and closeTransport follows', () => {
    const { connection, recorder } = openConnection();
    connection.receiveEnd();
    expect(connection.state).toBe('CLOSED');
    expect(connection.closeStatus).toEqual({ code: 1006, reason: '' });
    expect(summarize(recorder.events)).toEqual(['closeTransport']);
  });

  it('is 1006 after our close when the peer never answers (abort): no closeTransport, nothing written', () => {
    const { connection, recorder } = openConnection();
    connection.close(1001);
    recorder.clear();
    connection.abort();
    expect(connection.closeStatus).toEqual({ code: 1006, reason: '' });
    expect(recorder.events).toEqual([]);
    expect(() => connection.ping()).toThrow();
  });

  it('is the code we failed the connection with, for a protocol error or fail()', () => {
    const a = openConnection();
    a.connection.receive(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    expect(a.connection.closeStatus).toEqual({ code: 1002, reason: '' });
    const b = openConnection();
    b.connection.fail(1011, 'listener threw');
    expect(summarize(b.recorder.events)).toEqual([closeWrite(1011, 'listener threw'), 'closeTransport']);
    expect(b.connection.closeStatus).toEqual({ code: 1011, reason: '' });
    expect(() => b.connection.fail(1004)).toThrow(RangeError);
  });

  it('bytes after the end of the stream are not read', () => {
    const { connection, recorder } = openConnection();
    connection.receiveEnd();
    recorder.clear();
    connection.receive(text('late'));
    expect(recorder.events).toEqual([]);
  });
});

describe('RFC 6455 §5.5.1: messages accepted before our Close go first (reserve / settle)', () => {
  it("the reply to the peer's close waits for a reserved message, and closeTransport after it", () => {
    const { connection, recorder } = openConnection();
    connection.reserve();
    connection.receive(close(1000, 'done'));
    expect(summarize(recorder.events)).toEqual(['close:1000:done']);
    expect(connection.state).toBe('CLOSED');
    connection.send(Buffer.from('echo'), false);
    connection.settle();
    expect(summarize(recorder.events)).toEqual([
      'close:1000:done',
      'write:text:' + Buffer.from('echo').toString('hex'),
      closeWrite(1000, 'done'),
      'closeTransport',
    ]);
  });

  it('close() waits for reserved messages; sending is refused to everything not reserved', () => {
    const { connection, recorder } = openConnection();
    connection.reserve();
    connection.reserve();
    connection.close(1001, Buffer.from('bye'));
    expect(connection.state).toBe('CLOSING');
    expect(connection.sentClose).toEqual({ code: 1001, reason: 'bye' });
    expect(() => connection.reserve()).toThrow(/CLOSING/);
    connection.send(Buffer.from('a'), true);
    connection.settle();
    expect(recorder.written.map((f) => f.opcode)).toEqual([OP.BINARY]);
    connection.send(Buffer.from('b'), true);
    connection.settle();
    expect(recorder.written.map((f) => f.opcode)).toEqual([OP.BINARY, OP.BINARY, OP.CLOSE]);
    expect(recorder.written[2].payload).toEqual(closeBody(1001, 'bye'));
    expect(() => connection.send(Buffer.from('c'), true)).toThrow(/CLOSING/);
  });

  it('the end of the stream (half-close) waits for reserved messages too', () => {
    const { connection, recorder } = openConnection();
    connection.reserve();
    connection.receiveEnd();
    expect(recorder.events).toEqual([]);
    connection.send(Buffer.from('last'), false);
    connection.settle();
    expect(summarize(recorder.events)).toEqual(['write:text:' + Buffer.from('last').toString('hex'), 'closeTransport']);
  });

  it('abort drops what was reserved: nothing more is written', () => {
    const { connection, recorder } = openConnection();
    connection.reserve();
    connection.close(1000);
    connection.abort();
    connection.settle();
    expect(recorder.events).toEqual([]);
    expect(() => connection.send(Buffer.from('x'), false)).toThrow();
  });

  it('a close reason given as bytes must be UTF-8 and fit (RFC 6455 §5.5.1)', () => {
    const { connection, recorder } = openConnection();
    expect(() => connection.close(1000, Buffer.from([0xff]))).toThrow(/UTF-8/);
    expect(() => connection.close(1000, Buffer.alloc(124, 0x61))).toThrow(/123/);
    expect(connection.state).toBe('OPEN');
    connection.close(1000, Buffer.alloc(123, 0x61));
    expect(summarize(recorder.events)).toEqual([closeWrite(1000, 'a'.repeat(123))]);
  });
});

describe('pausing between messages (per-message backpressure)', () => {
  it('pause() in onMessage stops after that message; the rest waits, counted, until resume()', () => {
    const { connection, recorder } = openConnection();
    const original = recorder.onMessage.bind(recorder);
    recorder.onMessage = (data, isBinary) => {
      original(data, isBinary);
      connection.pause();
    };
    const bytes = Buffer.concat([text('one'), text('two'), ping('p'), text('three')]);
    connection.receive(bytes);
    expect(summarize(recorder.events)).toEqual(['text:one']);
    expect(connection.paused).toBe(true);
    expect(connection.pendingBytes).toBe(bytes.length - text('one').length);
    // Bytes that arrive while paused wait too.
    connection.receive(binary('four'));
    expect(summarize(recorder.events)).toEqual(['text:one']);
    connection.resume();
    expect(summarize(recorder.events)).toEqual(['text:one', 'text:two']);
    connection.resume();
    expect(summarize(recorder.events)).toEqual(['text:one', 'text:two', 'write:pong:70', 'ping:70', 'text:three']);
    connection.resume();
    connection.resume();
    expect(summarize(recorder.events).at(-1)).toBe('binary:666f7572');
    expect(connection.pendingBytes).toBe(0);
  });

  it('a protocol error found on resume fails the connection as on receive', () => {
    const { connection, recorder } = openConnection();
    connection.pause();
    connection.receive(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    expect(recorder.events).toEqual([]);
    connection.resume();
    expect(summarize(recorder.events)).toEqual([closeWrite(1002), 'error:RESERVED_OPCODE', 'closeTransport']);
  });

  it('inMessage is true between the first and the last frame of a data message', () => {
    const { connection } = openConnection();
    expect(connection.inMessage).toBe(false);
    connection.receive(text('a', { fin: false }));
    expect(connection.inMessage).toBe(true);
    connection.receive(Buffer.from([0x80, 0x80, 0, 0, 0, 0]));
    expect(connection.inMessage).toBe(false);
  });
});

describe('RFC 6455 §5.4: fragmented sends', () => {
  it('fin false opens a message; continuation frames follow until fin true', () => {
    const { connection, recorder } = openConnection();
    connection.send(Buffer.from('a'), false, true, false);
    connection.ping();
    connection.send(Buffer.from('b'), true, true, false);
    connection.send(Buffer.from('c'), true, true, true);
    connection.send(Buffer.from('d'), true);
    expect(recorder.written.map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [OP.TEXT, false, 'a'],
      [OP.PING, true, ''],
      [OP.CONT, false, 'b'],
      [OP.CONT, true, 'c'],
      [OP.BINARY, true, 'd'],
    ]);
  });

  it('a whole pre-encoded or compressed message may not start inside a fragmented one', () => {
    const deflate = new PerMessageDeflate({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    const { connection } = openConnection({ deflate });
    connection.send(Buffer.from('a'), false, true, false);
    expect(() => connection.sendEncoded(Buffer.from([0x81, 0]))).toThrow(/fragmented/);
    expect(() => connection.sendCompressed(Buffer.from([0]), false)).toThrow(/fragmented/);
  });

  it('with permessage-deflate, a fragmented message goes uncompressed; a whole one compressed', () => {
    const deflate = new PerMessageDeflate(
      { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
      { memLevel: 8, threshold: 0 },
    );
    const { connection, recorder } = openConnection({ deflate });
    const big = Buffer.alloc(2000, 0x61);
    connection.send(big, false, true, false);
    connection.send(big, false, true, true);
    connection.send(big, false);
    connection.send(big, false, false);
    expect(recorder.written.map((f) => [f.opcode, f.fin, f.rsv, f.payload.length < 2000])).toEqual([
      [OP.TEXT, false, 0, false],
      [OP.CONT, true, 0, false],
      [OP.TEXT, true, 0x40, true],
      [OP.TEXT, true, 0, false],
    ]);
  });
});
