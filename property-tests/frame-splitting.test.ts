/**
 * Property 1 (RFC 6455 §5.2-§5.5): any sequence of valid, masked client
 * frames decodes to the same events however the byte stream is cut.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { everyByte, receiveAll, summarize } from '../spec/helpers.js';
import { cuts, cutsFor, encodeStream, expectedEvents, frameStream } from './arbitraries.js';
import { assertEqual } from './assert.js';
import { params } from './config.js';

describe('property: frame decoding does not depend on how the stream is cut', () => {
  it('cut and uncut streams give the same events, and the events the frames encode', () => {
    fc.assert(
      fc.property(frameStream, cuts, (stream, rawCuts) => {
        const bytes = Buffer.concat(encodeStream(stream));
        // receiveAll works on fresh copies of the chunks: the decoder unmasks in place.
        const whole = receiveAll(bytes);
        const cut = receiveAll(bytes, {}, cutsFor(rawCuts, bytes.length));
        assertEqual(summarize(cut.events), summarize(whole.events), 'events of the cut and the uncut stream');
        assertEqual(summarize(whole.received), expectedEvents(stream), 'events decoded and events encoded');
        // Each ping was answered with a pong carrying its payload, in order.
        const pings = whole.received.flatMap((e) => (e.type === 'ping' ? [e.data.toString('hex')] : []));
        const pongs = whole.written.flatMap((f) => (f.opcode === 0xa ? [f.payload.toString('hex')] : []));
        assertEqual(pongs, pings, 'pong payloads and ping payloads');
      }),
      params(),
    );
  });

  it('the same holds one byte at a time (for the first 4 KiB of the stream)', () => {
    fc.assert(
      fc.property(frameStream, (stream) => {
        const bytes = Buffer.concat(encodeStream(stream));
        assertEqual(summarize(receiveAll(bytes, {}, everyByte(bytes, 4096)).received), expectedEvents(stream), 'events');
      }),
      params(),
    );
  });
});
