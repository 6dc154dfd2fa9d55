/**
 * The case families, in report order, numbered like the Autobahn testsuite's
 * (H for the opening handshake, which Autobahn does not test). Compression
 * (12 and 13, RFC 7692 permessage-deflate) runs against strictws echo --deflate.
 */
import type { Family } from '../case.js';
import { AUTOBAHN } from '../autobahn/index.js';
import { close } from './close.js';
import { compressionData, compressionNegotiation } from './compression.js';
import { fragmentation } from './fragmentation.js';
import { extendedConnect } from './h2.js';
import { framing } from './framing.js';
import { handshake } from './handshake.js';
import { limits } from './limits.js';
import { pingpong } from './pingpong.js';
import { opcodes, reservedBits } from './reserved.js';
import { utf8 } from './utf8.js';

export const FAMILIES: Family[] = [
  ...AUTOBAHN,
  handshake,
  framing,
  pingpong,
  reservedBits,
  opcodes,
  fragmentation,
  utf8,
  close,
  limits,
  compressionData,
  compressionNegotiation,
];

/** Families that run only over HTTP/2 (`--http2`): added to FAMILIES there. */
export const H2_FAMILIES: Family[] = [extendedConnect];
