/**
 * Frame-once broadcast (`encodeMessage` + `sendFrame`, issue #14 item 3):
 * the frames written to a client in one tick reach its stream in one writev,
 * in order, and are counted in `bufferedAmount` meanwhile, so highWaterMark
 * and maxBufferedAmount see them.
 */
import { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WebSocket, encodeMessage } from '../../src/index.js';
import { OP, takeFrames } from '../support/frames.js';

/** A Duplex that records each write call (`_write` one chunk, `_writev` several) and never reads. */
class Recorder extends Duplex {
  calls: Buffer[][] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.calls.push([chunk]);
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.calls.push(chunks.map((c) => c.chunk));
    done();
  }
  bytes(): Buffer {
    return Buffer.concat(this.calls.flat());
  }
}

const OPTIONS = { highWaterMark: 1024, closeTimeout: 1000, messageTimeout: 1000 };

describe('sendFrame batches the frames of one tick (issue #14 item 3)', () => {
  it('writes them, and a send() between them, in one writev, in order, counted in bufferedAmount until then', async () => {
    const stream = new Recorder();
    const ws = new WebSocket(stream, { ...OPTIONS, maxBufferedAmount: 1 << 20 });
    const frames = ['one', 'two', 'three'].map((text) => encodeMessage(Buffer.from(text), false));
    expect(ws.sendFrame(frames[0])).toBe(true);
    expect(ws.send('between')).toBe(true);
    expect(ws.sendFrame(frames[1])).toBe(true);
    expect(ws.sendFrame(frames[2])).toBe(true);
    const sent = frames[0].length + frames[1].length + frames[2].length + 2 + 'between'.length;
    expect(stream.calls).toEqual([]);
    expect(ws.bufferedAmount).toBe(sent);
    await tick();
    expect(stream.calls.length).toBe(1);
    expect(ws.bufferedAmount).toBe(0);
    const { frames: out } = takeFrames(stream.bytes());
    expect(out.map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [OP.TEXT, 'one'],
      [OP.TEXT, 'between'],
      [OP.TEXT, 'two'],
      [OP.TEXT, 'three'],
    ]);
    ws.terminate();
  });

  it('returns false at highWaterMark within the tick, and emits drain once the batch is written', async () => {
    const stream = new Recorder();
    const ws = new WebSocket(stream, { ...OPTIONS, maxBufferedAmount: 1 << 20 });
    const frame = encodeMessage(Buffer.alloc(400, 'x'), false);
    const drained = new Promise<void>((resolve) => ws.once('drain', resolve));
    expect([ws.sendFrame(frame), ws.sendFrame(frame), ws.sendFrame(frame)]).toEqual([true, true, false]);
    await drained;
    expect(ws.bufferedAmount).toBe(0);
    expect(takeFrames(stream.bytes()).frames.length).toBe(3);
    ws.terminate();
  });

  it('emits no drain when the stream drains after sends that all returned true', async () => {
    // The stream's own mark is tiny, so the batch makes it emit 'drain'; ours is not reached.
    const stream = new Recorder({ writableHighWaterMark: 16 });
    const ws = new WebSocket(stream, { ...OPTIONS, highWaterMark: 1 << 20, maxBufferedAmount: 1 << 20 });
    let drains = 0;
    ws.on('drain', () => drains++);
    const streamDrained = new Promise<void>((resolve) => stream.once('drain', resolve));
    const frame = encodeMessage(Buffer.alloc(400, 'x'), false);
    expect([ws.sendFrame(frame), ws.sendFrame(frame), ws.sendFrame(frame)]).toEqual([true, true, true]);
    await streamDrained;
    await tick();
    expect(drains).toBe(0);
    ws.terminate();
  });

  it('closes with 1008 SEND_BUFFER_LIMIT once a tick\'s frames pass maxBufferedAmount, after the frames accepted', async () => {
    const stream = new Recorder();
    const ws = new WebSocket(stream, { ...OPTIONS, maxBufferedAmount: 1000 });
    const errors: string[] = [];
    ws.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? error.message));
    const frame = encodeMessage(Buffer.alloc(400, 'x'), false);
    expect([ws.sendFrame(frame), ws.sendFrame(frame)]).toEqual([true, true]);
    expect(ws.sendFrame(frame)).toBe(false); // 1,212 bytes queued: past the cap
    expect(errors).toEqual(['SEND_BUFFER_LIMIT']);
    expect(ws.readyState).not.toBe(WebSocket.OPEN);
    expect(ws.sendFrame(frame)).toBe(false); // not open: nothing queued
    await tick();
    const out = takeFrames(stream.bytes()).frames;
    expect(out.map((f) => f.opcode)).toEqual([OP.TEXT, OP.TEXT, OP.TEXT, OP.CLOSE]);
    expect(out[3].payload.readUInt16BE(0)).toBe(1008);
    ws.terminate();
  });
});
