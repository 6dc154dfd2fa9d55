/** Autobahn|Testsuite's fuzzingclient sections 1-10, 12 and 13 as families of cases under Autobahn's ids. */
import type { Case, Family } from '../case.js';
import { SECTION_1, SECTION_2, SECTION_3, SECTION_4, SECTION_5 } from './basic.js';
import { SECTION_7 } from './close.js';
import { SECTION_12, SECTION_13 } from './compression.js';
import { type AutobahnCase, runAutobahn } from './engine.js';
import { SECTION_9, SECTION_10 } from './limits.js';
import { SECTION_6 } from './utf8.js';

/** A case's description without Autobahn's HTML markup. */
export const plainDescription = (c: AutobahnCase) => c.description.replace(/<br>/g, '\n').replace(/<\/?b>/g, '');

function toCase(c: AutobahnCase): Case {
  return {
    id: c.id,
    description: plainDescription(c),
    expectation: c.expectation,
    heavy: c.heavy,
    exclusive: c.exclusive,
    timeoutMs: c.timeoutMs,
    run: (t) => runAutobahn(c, t),
  };
}

/** Each section's Autobahn cases, by family id (the fuzzing server runs them from the server's seat). */
export const AUTOBAHN_CASES = new Map<string, AutobahnCase[]>();

function section(id: string, title: string, summary: string, cases: AutobahnCase[]): Family {
  AUTOBAHN_CASES.set(id, cases);
  return { id, title, summary, cases: cases.map(toCase) };
}

export const AUTOBAHN: Family[] = [
  section('1', 'Framing', 'Autobahn 1: text and binary messages at each length-encoding boundary (RFC 6455 §5.2).', SECTION_1),
  section('2', 'Pings/Pongs', 'Autobahn 2: pings answered with the same payload, over-long pings fail, unsolicited pongs ignored (§5.5.2-5.5.3).', SECTION_2),
  section('3', 'Reserved Bits', 'Autobahn 3: RSV bits with no extension fail the connection (§5.2).', SECTION_3),
  section('4', 'Opcodes', 'Autobahn 4: reserved opcodes fail the connection (§5.2).', SECTION_4),
  section('5', 'Fragmentation', 'Autobahn 5: fragmented messages, control frames between fragments, continuations with nothing to continue (§5.4).', SECTION_5),
  section('6', 'UTF-8 Handling', 'Autobahn 6: valid UTF-8 echoed, invalid UTF-8 fails with 1007, and fails fast (§8.1); Markus Kuhn\'s decoder stress samples.', SECTION_6),
  section('7', 'Close Handling', 'Autobahn 7: the closing handshake started by the client, close frame structure and close codes (§5.5.1, §7.4).', SECTION_7),
  section('9', 'Limits/Performance', 'Autobahn 9: messages up to 16 MiB, fragmented and chopped, and 1,000 round trips.', SECTION_9),
  section('10', 'Misc', 'Autobahn 10: an auto-fragmented message.', SECTION_10),
  section('12', 'WebSocket Compression (different payloads)', 'Autobahn 12: 1,000 compressed messages per case with the default permessage-deflate offer (RFC 7692), five kinds of payload.', SECTION_12),
  section('13', 'WebSocket Compression (different parameters)', 'Autobahn 13: 1,000 compressed messages per case under seven sets of permessage-deflate offers (RFC 7692 §7.1).', SECTION_13),
];
