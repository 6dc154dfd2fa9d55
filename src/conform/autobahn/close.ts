/** Autobahn section 7, close handling (RFC 6455 §5.5.1, §7.1-7.4): the fuzzer starts every closing handshake. */
import { OP, type FrameSpec, closeBody } from '../wire.js';
import { CLOSE, CONT, NORMAL_CLOSE, PING, T, hexBytes, repeat, text } from './define.js';
import type { AutobahnCase, ExpectedClose } from './engine.js';

const HELLO = 'Hello World!';
const closeWith = (payload: Buffer): FrameSpec => ({ opcode: OP.CLOSE, payload });

function byMe(id: string, description: string, expectation: string, frames: FrameSpec[], close: ExpectedClose = NORMAL_CLOSE, ok: AutobahnCase['ok'] = []): AutobahnCase {
  return { id, description, expectation, ok, close, script: (s) => s.send(frames) };
}

const protocolError: ExpectedClose = { codes: [1002], closedByMe: true, requireClean: false };

const basic: AutobahnCase[] = [
  // Autobahn sends the close once the echo came (its report's wire log shows it), as for any case we close.
  byMe('7.1.1', 'Send a message followed by a close frame', 'Echoed message followed by clean close with normal code.', [T(HELLO)], NORMAL_CLOSE, [text(HELLO)]),
  byMe('7.1.2', 'Send two close frames', 'Clean close with normal code. Second close frame ignored.', [CLOSE(1000), CLOSE(1000)]),
  byMe('7.1.3', 'Send a ping after close message', 'Clean close with normal code, no pong.', [CLOSE(1000), PING(HELLO)]),
  byMe('7.1.4', 'Send text message after sending a close frame.', 'Clean close with normal code. Text message ignored.', [CLOSE(1000), T(HELLO)]),
  byMe('7.1.5', 'Send message fragment1 followed by close then fragment', 'Clean close with normal code.', [T('fragment1', false), CLOSE(1000), CONT('fragment2')]),
  {
    ...byMe(
      '7.1.6',
      'Send 256K message followed by close then a ping',
      'Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially recieved.',
      [T(repeat('BAsd7&jh23', 256 * 1024)), T(HELLO), CLOSE(1000), PING()],
      NORMAL_CLOSE,
      [text(HELLO)],
    ),
    nonStrict: [],
    informational: true,
  },
];

const structure: AutobahnCase[] = [
  byMe('7.3.1', 'Send a close frame with payload length 0 (no close code, no close reason)', 'Clean close with normal code.', [CLOSE()]),
  byMe('7.3.2', 'Send a close frame with payload length 1', 'Clean close with protocol error or drop TCP.', [closeWith(Buffer.from('a'))], protocolError),
  byMe('7.3.3', 'Send a close frame with payload length 2 (regular close with a code)', 'Clean close with normal code.', [CLOSE(1000)]),
  byMe('7.3.4', 'Send a close frame with close code and close reason', 'Clean close with normal code.', [CLOSE(1000, 'Hello World!')]),
  byMe('7.3.5', 'Send a close frame with close code and close reason of maximum length (123)', 'Clean close with normal code.', [CLOSE(1000, repeat('*', 123))]),
  byMe('7.3.6', 'Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets', 'Clean close with protocol error code or dropped TCP connection.', [CLOSE(1000, repeat('*', 124))], protocolError),
  byMe('7.5.1', 'Send a close frame with invalid UTF8 payload', 'Clean close with protocol error or invalid utf8 code or dropped TCP.', [closeWith(Buffer.concat([closeBody(1000), hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564')]))], {
    ...protocolError,
    codes: [1002, 1007],
  }),
];

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

const codes: AutobahnCase[] = [
  ...VALID.map((code, i) =>
    byMe(`7.7.${i + 1}`, `Send close with valid close code ${code}`, 'Clean close with normal or echoed code', [CLOSE(code)], { codes: [1000, code], closedByMe: true, requireClean: true }),
  ),
  ...INVALID.map((code, i) => byMe(`7.9.${i + 1}`, `Send close with invalid close code ${code}`, 'Clean close with protocol error code or drop TCP', [CLOSE(code)], protocolError)),
  ...[5000, 65535].map((code, i) => ({
    ...byMe(`7.13.${i + 1}`, `Send close with close code ${code === 65535 ? 65536 : code}`, 'Actual events are undefined by the spec.', [CLOSE(code)], { codes: [1000, code, 1002], closedByMe: true, requireClean: false }),
    informational: true,
  })),
];

export const SECTION_7 = [...basic, ...structure, ...codes];
