/**
 * The case families, in report order, numbered like the Autobahn testsuite's
 * (H for the opening handshake, which Autobahn does not test). Compression
 * (Autobahn 12.x and 13.x, RFC 7692 permessage-deflate) is not listed yet:
 * its family is added here, as `compression.ts`, with the extension itself.
 */
import type { Family } from '../case.js';
import { close } from './close.js';
import { fragmentation } from './fragmentation.js';
import { framing } from './framing.js';
import { handshake } from './handshake.js';
import { limits } from './limits.js';
import { pingpong } from './pingpong.js';
import { opcodes, reservedBits } from './reserved.js';
import { utf8 } from './utf8.js';

export const FAMILIES: Family[] = [handshake, framing, pingpong, reservedBits, opcodes, fragmentation, utf8, close, limits];
