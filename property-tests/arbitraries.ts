/**
 * fast-check generators shared by the properties: streams of valid client
 * frames with the events they must decode to, masking keys, chunk cuts.
 */
import fc from 'fast-check';
import { OP, close, frame, summarize, type ConnectionEvent } from '../spec/helpers.js';

export const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 });

/** Cut positions for a stream of unknown length: reduced modulo the length when used. */
export const cuts = fc.oneof(
  fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 40 }),
  // Sometimes very fine: many cuts close together.
  fc.tuple(fc.nat({ max: 1 << 20 }), fc.integer({ min: 1, max: 64 })).map(([start, n]) =>
    Array.from({ length: n }, (_, i) => start + i),
  ),
);

/** Map raw cuts onto a stream of `length` bytes. */
export const cutsFor = (raw: readonly number[], length: number): number[] => raw.map((c) => c % (length + 1));

export const textPayload = fc.string({ unit: 'binary', maxLength: 200, size: 'medium' }).map((s) => Buffer.from(s, 'utf8'));

/** A large payload (16- and 64-bit lengths), filled cheaply from a seed. */
const largePayload = fc
  .tuple(
    fc.oneof(fc.integer({ min: 126, max: 4000 }), fc.integer({ min: 65_530, max: 70_000 })),
    fc.integer({ min: 1, max: 255 }),
  )
  .map(([length, seed]) => Uint8Array.from({ length }, (_, i) => (i * seed + (i >> 8)) & 0xff));

export const binaryPayload = fc.oneof(
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 300, size: 'medium' }) },
  { weight: 1, arbitrary: largePayload },
);

const controlPayload = fc.uint8Array({ maxLength: 125 });

export interface ControlFrame {
  kind: 'ping' | 'pong';
  payload: Uint8Array;
}

export function isControl(item: DataMessage | ControlFrame): item is ControlFrame {
  return item.kind === 'ping' || item.kind === 'pong';
}

export interface DataMessage {
  kind: 'text' | 'binary';
  payload: Uint8Array;
  /** Offsets in the payload where a new fragment starts. */
  fragmentCuts: number[];
  /** Control frames sent between fragments: [after fragment index, frame]. */
  interleaved: Array<[number, ControlFrame]>;
}

export interface CloseFrame {
  code: number | undefined;
  reason: string;
}

export interface FrameStream {
  items: Array<DataMessage | ControlFrame>;
  close: CloseFrame | null;
  keys: Uint8Array[];
}

export const controlFrame: fc.Arbitrary<ControlFrame> = fc.record({
  kind: fc.constantFrom('ping' as const, 'pong' as const),
  payload: controlPayload,
});

export const dataMessage: fc.Arbitrary<DataMessage> = fc
  .oneof(
    fc.record({ kind: fc.constant('text' as const), payload: textPayload }),
    fc.record({ kind: fc.constant('binary' as const), payload: binaryPayload }),
  )
  .chain(({ kind, payload }) =>
    fc.record({
      kind: fc.constant(kind),
      payload: fc.constant(payload),
      fragmentCuts: fc.array(fc.nat({ max: payload.length }), { maxLength: 6 }),
      interleaved: fc.array(fc.tuple(fc.nat({ max: 6 }), controlFrame), { maxLength: 3 }),
    }),
  );

export const validCloseCode = fc.oneof(
  fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
  fc.integer({ min: 3000, max: 4999 }),
);

export const closeFrame: fc.Arbitrary<CloseFrame> = fc.oneof(
  fc.constant({ code: undefined, reason: '' }),
  fc.record({
    code: validCloseCode,
    reason: fc.string({ unit: 'binary', maxLength: 30 }).filter((r) => Buffer.byteLength(r) <= 123),
  }),
);

export const frameStream: fc.Arbitrary<FrameStream> = fc.record({
  items: fc.array(fc.oneof({ weight: 3, arbitrary: dataMessage }, { weight: 1, arbitrary: controlFrame }), {
    maxLength: 8,
  }),
  close: fc.option(closeFrame, { nil: null, freq: 2 }),
  keys: fc.array(maskKey, { minLength: 1, maxLength: 5 }),
});

/** The frames of a stream, masked with its keys in turn, as separate buffers. */
export function encodeStream(stream: FrameStream): Buffer[] {
  const frames: Buffer[] = [];
  const key = () => stream.keys[frames.length % stream.keys.length];
  const control = (c: ControlFrame) =>
    frame({ opcode: c.kind === 'ping' ? OP.PING : OP.PONG, payload: c.payload, mask: key() });
  for (const item of stream.items) {
    if (isControl(item)) {
      frames.push(control(item));
      continue;
    }
    const points = [...new Set(item.fragmentCuts)].sort((a, b) => a - b);
    const bounds = [0, ...points.filter((p) => p > 0 && p < item.payload.length), item.payload.length];
    const count = Math.max(1, bounds.length - 1);
    for (let i = 0; i < count; i++) {
      const piece = item.payload.subarray(bounds[i] ?? 0, bounds[i + 1] ?? 0);
      const opcode = i === 0 ? (item.kind === 'text' ? OP.TEXT : OP.BINARY) : OP.CONT;
      frames.push(frame({ opcode, payload: piece, fin: i === count - 1, mask: key() }));
      // Control frames may only go between fragments, not after the last.
      if (i < count - 1) for (const [at, c] of item.interleaved) if (at % (count - 1) === i) frames.push(control(c));
    }
  }
  if (stream.close) frames.push(close(stream.close.code, stream.close.reason, { mask: key() }));
  return frames;
}

/** The events (writes excluded) the stream must decode to, summarized. */
export function expectedEvents(stream: FrameStream): string[] {
  const events: ConnectionEvent[] = [];
  const control = (c: ControlFrame) => events.push({ type: c.kind, data: Buffer.from(c.payload) });
  for (const item of stream.items) {
    if (isControl(item)) {
      control(item);
      continue;
    }
    const fragments = new Set(item.fragmentCuts.filter((p) => p > 0 && p < item.payload.length)).size + 1;
    // The interleaved controls come first, in the order they were sent.
    if (fragments > 1) {
      for (let i = 0; i < fragments - 1; i++) for (const [at, c] of item.interleaved) if (at % (fragments - 1) === i) control(c);
    }
    events.push({ type: 'message', data: Buffer.from(item.payload), isBinary: item.kind === 'binary' });
  }
  if (stream.close) {
    events.push({ type: 'close', code: stream.close.code ?? 1005, reason: stream.close.reason });
    events.push({ type: 'closeTransport' });
  }
  return summarize(events);
}
