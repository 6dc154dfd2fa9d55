/**
 * Property 3 (RFC 6455 §7.1.7, §10.7): whatever bytes a peer sends after the
 * handshake, Connection.receive never throws, and the connection ends in
 * events only, or in exactly one failure with a close code of 1002, 1007,
 * 1008 or 1009, followed by closeTransport, and nothing after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConnectionOptions } from '../src/protocol/index.js';
import { type EventRecorder, closeWrite, openConnection, splitAt, summarize } from '../spec/helpers.js';
import { cuts, cutsFor, encodeStream, frameStream } from './arbitraries.js';
import { params } from './config.js';

const FAILURE_CODES = [1002, 1007, 1008, 1009];

/** Small limits now and then, so that 1008 and 1009 are reachable. */
const limits: fc.Arbitrary<ConnectionOptions> = fc.oneof(
  fc.constant({}),
  fc.record(
    { maxPayload: fc.integer({ min: 0, max: 400 }), maxFragments: fc.integer({ min: 1, max: 4 }) },
    { requiredKeys: [] },
  ),
);

/** Edits to a valid stream: overwrite, flip a bit, insert, delete, truncate. */
type Mutation =
  | { op: 'set'; at: number; value: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.op === 'set') out[at] = m.value;
    else if (m.op === 'flip') out[at] ^= 1 << m.bit;
    else if (m.op === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    else if (m.op === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)]);
    else out = out.subarray(0, at);
  }
  return out;
}

/** Random bytes with a bias towards frame-like headers (valid opcodes, mask bit set). */
const frameishBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .tuple(
          fc.constantFrom(0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x88, 0x89, 0x8a, 0xc1, 0x83, 0x08),
          fc.integer({ min: 0x80, max: 0xff }),
          fc.uint8Array({ minLength: 4, maxLength: 40 }),
        )
        .map(([b0, b1, rest]) => Buffer.concat([Buffer.from([b0, b1]), rest])),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts));

/**
 * The stream of bytes a run feeds: raw random bytes, frame-ish noise, or
 * valid streams (two in a row, so that a close can be followed by more
 * frames) with a few mutations, or with random bytes appended.
 */
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  frameishBytes,
  fc
    .tuple(frameStream, frameStream, fc.array(mutation, { maxLength: 4 }), fc.uint8Array({ maxLength: 24 }))
    .map(([first, second, mutations, tail]) =>
      Buffer.concat([mutate(Buffer.concat([...encodeStream(first), ...encodeStream(second)]), mutations), tail]),
    ),
);

/** Checks how the events of a run end. */
function expectWellEnded(recorder: EventRecorder): void {
  const summary = summarize(recorder.events);
  const errors = recorder.events.filter((e) => e.type === 'error');
  const transportCloses = summary.filter((s) => s === 'closeTransport').length;
  expect(errors.length).toBeLessThanOrEqual(1);
  expect(transportCloses).toBeLessThanOrEqual(1);
  if (transportCloses === 1) expect(summary.at(-1)).toBe('closeTransport');
  if (errors.length === 1) {
    const [error] = recorder.errors;
    expect(FAILURE_CODES).toContain(error.closeCode);
    // Our close frame carrying that code, the error, closeTransport: the last three events.
    expect(summary.slice(-3)).toEqual([closeWrite(error.closeCode), `error:${error.code}`, 'closeTransport']);
    expect(summary.some((s) => s.startsWith('close:'))).toBe(false);
  }
  const peerCloses = summary.filter((s) => s.startsWith('close:'));
  expect(peerCloses.length).toBeLessThanOrEqual(1);
  if (peerCloses.length === 1) expect(summary.slice(-2)).toEqual([peerCloses[0], 'closeTransport']);
  if (transportCloses === 1) expect(errors.length + peerCloses.length).toBe(1);
  // Everything written parses as whole, unmasked server frames (`written` throws on a truncated one).
  for (const frame of recorder.written) expect(frame.masked).toBe(false);
}

describe('property: hostile input never breaks a connection', () => {
  it('receive never throws; events only, or one failure (1002/1007/1008/1009) then closeTransport, then nothing', () => {
    fc.assert(
      fc.property(hostileBytes, cuts, limits, fc.uint8Array({ maxLength: 32 }), (bytes, rawCuts, options, more) => {
        const { connection, recorder } = openConnection(options);
        for (const chunk of splitAt(bytes, cutsFor(rawCuts, bytes.length))) {
          expect(() => connection.receive(chunk)).not.toThrow();
        }
        expectWellEnded(recorder);
        // Once closed, later bytes change nothing.
        if (connection.state === 'CLOSED') {
          const before = recorder.events.length;
          connection.receive(Buffer.concat([Buffer.from(more), Buffer.from([0x81, 0x80, 1, 2, 3, 4])]));
          expect(recorder.events.length).toBe(before);
        }
      }),
      params(),
    );
  });

  it('the generators reach every failure close code and clean closes (a guard against a vacuous property)', () => {
    const outcomes = new Set<string>();
    for (const [bytes, options] of fc.sample(fc.tuple(hostileBytes, limits), { numRuns: 3000, seed: 7 })) {
      const { connection, recorder } = openConnection(options);
      connection.receive(bytes);
      const error = recorder.error;
      outcomes.add(error ? String(error.closeCode) : connection.state === 'CLOSED' ? 'closed' : 'open');
    }
    expect([...outcomes].sort()).toEqual(['1002', '1007', '1008', '1009', 'closed', 'open']);
  });
});
