/**
 * 3: reserved bits and 4: reserved opcodes, RFC 6455 §5.2: "RSV1, RSV2,
 * RSV3 ... MUST be 0 unless an extension is negotiated that defines meanings
 * for non-zero values. If a nonzero value is received and none of the
 * negotiated extensions defines the meaning of such a nonzero value, the
 * receiving endpoint MUST _Fail the WebSocket Connection_", and "If an
 * unknown opcode is received, the receiving endpoint MUST _Fail the
 * WebSocket Connection_". No extension is negotiated here (permessage-deflate
 * will give RSV1 a meaning on data frames only; its cases come with it).
 */
import { type Case, type Family, expectFail, expectMessage } from '../case.js';
import { OP, type FrameSpec, closeBody, frames, opcodeName } from '../wire.js';
import { failsAfterValid } from './framing.js';

const RSV_NAMES: Record<number, string> = {
  4: 'RSV1',
  2: 'RSV2',
  1: 'RSV3',
  6: 'RSV1+RSV2',
  5: 'RSV1+RSV3',
  3: 'RSV2+RSV3',
  7: 'RSV1+RSV2+RSV3',
};
const RSV_ORDER = [4, 2, 1, 6, 5, 3, 7];

const RSV_TARGETS: { sub: number; what: string; spec: (rsv: number) => FrameSpec | Buffer }[] = [
  { sub: 1, what: 'a text frame', spec: (rsv) => ({ opcode: OP.TEXT, rsv, payload: 'reserved bits' }) },
  { sub: 2, what: 'a binary frame', spec: (rsv) => ({ opcode: OP.BINARY, rsv, payload: Buffer.from([0, 1, 2, 3]) }) },
  { sub: 3, what: 'a ping', spec: (rsv) => ({ opcode: OP.PING, rsv, payload: 'reserved bits' }) },
  { sub: 4, what: 'a pong', spec: (rsv) => ({ opcode: OP.PONG, rsv, payload: 'reserved bits' }) },
  { sub: 5, what: 'a close frame', spec: (rsv) => ({ opcode: OP.CLOSE, rsv, payload: closeBody(1000) }) },
  {
    sub: 6,
    what: 'the continuation frame of a fragmented text message',
    spec: (rsv) => frames({ opcode: OP.TEXT, fin: false, payload: 'fragment one, ' }, { opcode: OP.CONT, rsv, payload: 'fragment two' }),
  },
];

const rsvCases: Case[] = RSV_TARGETS.flatMap(({ sub, what, spec }) =>
  RSV_ORDER.map((rsv, i) => ({
    id: `R.${sub}.${i + 1}`,
    description: `${RSV_NAMES[rsv]} set on ${what}, after a valid message and before a ping`,
    expectation: 'echo of the valid message, then close 1002 (no pong, no echo of the bad frame), then TCP close',
    run: (t) => failsAfterValid(t, spec(rsv)),
  })),
);

const NON_CONTROL = [3, 4, 5, 6, 7];
const CONTROL = [0xb, 0xc, 0xd, 0xe, 0xf];

function opcodeCase(id: string, opcode: number, payload: boolean): Case {
  return {
    id,
    description: `A frame with ${opcodeName(opcode)} and ${payload ? 'a 10-byte payload' : 'no payload'}, after a valid message and before a ping`,
    expectation: 'echo of the valid message, then close 1002, then TCP close',
    run: (t) => failsAfterValid(t, { opcode, payload: payload ? 'reserved!!' : undefined }),
  };
}

const opcodeCases: Case[] = [
  ...NON_CONTROL.flatMap((op, i) => [opcodeCase(`O.1.${2 * i + 1}`, op, false), opcodeCase(`O.1.${2 * i + 2}`, op, true)]),
  ...CONTROL.flatMap((op, i) => [opcodeCase(`O.2.${2 * i + 1}`, op, false), opcodeCase(`O.2.${2 * i + 2}`, op, true)]),
  ...[3, 0xb].map((op, i): Case => ({
    id: `O.3.${i + 1}`,
    description: `${opcodeName(op)} between the fragments of a text message`,
    expectation: 'close 1002 and no echo of the unfinished message, then TCP close',
    async run(t) {
      const c = await t.open();
      await c.send(frames({ opcode: OP.TEXT, fin: false, payload: 'frag' }, { opcode: op, payload: 'x' }, { opcode: OP.CONT, payload: 'ment' }));
      await expectFail(t, c, 1002);
    },
  })),
  {
    id: 'O.3.3',
    description: 'A reserved opcode (0x5) sent in its own write after a message was echoed',
    expectation: 'close 1002 then TCP close: the failure does not depend on sharing a read with other frames',
    async run(t) {
      const c = await t.open();
      const text = Buffer.from('echo me first');
      await c.send(frames({ opcode: OP.TEXT, payload: text }));
      await expectMessage(t, c, 'text', text);
      await c.send(frames({ opcode: 0x5, payload: 'x' }));
      await expectFail(t, c, 1002);
    },
  },
];

export const reservedBits: Family = {
  id: 'R',
  title: 'Reserved bits',
  summary: 'RFC 6455 §5.2: every combination of RSV1-3 on text, binary, ping, pong, close and continuation frames fails the connection with 1002 after earlier messages were echoed.',
  cases: rsvCases,
};

export const opcodes: Family = {
  id: 'O',
  title: 'Opcodes',
  summary: 'RFC 6455 §5.2: every reserved opcode, non-control 0x3-0x7 and control 0xB-0xF, with and without payload and inside fragmented messages, fails the connection with 1002.',
  cases: opcodeCases,
};
