/**
 * RFC 6455 §9.1: the Sec-WebSocket-Extensions header. A strict parser of its
 * grammar, and the formatting of the value a server answers with.
 *
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 *
 * with the "implied *LWS" of RFC 2616 (optional spaces and tabs around the
 * separators) and a quoted-string whose unescaped value MUST be a token.
 *
 * What is malformed here is decided by the grammar alone. RFC 6455 §9.1 says
 * a recipient of a value that does not conform to it "MUST immediately _Fail
 * the WebSocket Connection_": a server refuses the handshake (400, §4.2.1).
 * Whether an offer means anything sensible (known parameters, valid values,
 * no duplicates) is for the extension to judge, and RFC 7692 §7.1 has the
 * server decline such an offer, not fail: see deflate.ts.
 */
import { HandshakeError } from './errors.js';
import { isOws, isTchar, isToken } from './http.js';

/** One extension parameter as offered: `value` is undefined for a bare name. */
export interface ExtensionParam {
  name: string;
  value: string | undefined;
}

/** One element of the list: an extension name and its parameters, in order. */
export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

class Syntax extends Error {}

/** A cursor over one header value, with the grammar's pieces as methods. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  /** OWS: spaces and horizontal tabs. */
  skipSpace(): void {
    while (!this.done && isOws(this.peek())) this.pos++;
  }

  token(what: string): string {
    const start = this.pos;
    while (!this.done && isTchar(this.peek())) this.pos++;
    if (this.pos === start) throw new Syntax(`expected ${what} at offset ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** RFC 9110 §5.6.4 quoted-string; returns the unescaped value. */
  quoted(): string {
    const start = this.pos;
    this.pos++; // the opening DQUOTE
    let value = '';
    while (!this.done) {
      const c = this.peek();
      if (c === 0x22) {
        this.pos++;
        return value;
      }
      if (c === 0x5c) {
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        const next = this.text.charCodeAt(this.pos + 1);
        if (!(next === 0x09 || (next >= 0x20 && next !== 0x7f && next <= 0xff))) break;
        value += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (!(c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff))) break;
      value += this.text[this.pos];
      this.pos++;
    }
    throw new Syntax(`unterminated or invalid quoted-string at offset ${start}`);
  }
}

function parseElement(s: Scanner): ExtensionOffer {
  const name = s.token('an extension name');
  const params: ExtensionParam[] = [];
  s.skipSpace();
  while (!s.done && s.peek() === 0x3b /* ; */) {
    s.pos++;
    s.skipSpace();
    const paramName = s.token('a parameter name');
    s.skipSpace();
    let value: string | undefined;
    if (!s.done && s.peek() === 0x3d /* = */) {
      s.pos++;
      s.skipSpace();
      if (!s.done && s.peek() === 0x22) {
        const at = s.pos;
        value = s.quoted();
        // RFC 6455 §9.1: the unescaped value MUST conform to the token ABNF.
        if (!isToken(value)) throw new Syntax(`quoted value at offset ${at} is not a token after unescaping`);
      } else {
        value = s.token(`a value for ${paramName}`);
      }
      s.skipSpace();
    }
    params.push({ name: paramName, value });
  }
  return { name, params };
}

/**
 * Parse every Sec-WebSocket-Extensions field of a request (RFC 6455 §9.1:
 * several fields are one list, in order) into its offers, in the client's
 * order of preference. Throws HandshakeError INVALID_EXTENSIONS_HEADER (400)
 * for anything that does not conform to the grammar, including a field with
 * no extension at all. Empty list elements (", ,") are ignored as RFC 9110
 * §5.6.1 requires of recipients.
 */
export function parseExtensions(values: readonly string[]): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  for (const value of values) {
    const s = new Scanner(value);
    let elements = 0;
    try {
      while (true) {
        s.skipSpace();
        while (!s.done && s.peek() === 0x2c /* , */) {
          s.pos++;
          s.skipSpace();
        }
        if (s.done) break;
        offers.push(parseElement(s));
        elements++;
        if (!s.done && s.peek() !== 0x2c) throw new Syntax(`unexpected "${s.text[s.pos]}" at offset ${s.pos}`);
      }
      if (elements === 0) throw new Syntax('no extension in the field');
    } catch (error) {
      if (!(error instanceof Syntax)) throw error;
      throw new HandshakeError('INVALID_EXTENSIONS_HEADER', `malformed Sec-WebSocket-Extensions: ${error.message}`);
    }
  }
  return offers;
}

/** The text of one list element: `name; a; b=1` (values are tokens: no quoting needed). */
export function formatExtension(offer: ExtensionOffer): string {
  return [offer.name, ...offer.params.map((p) => (p.value === undefined ? p.name : `${p.name}=${p.value}`))].join('; ');
}
