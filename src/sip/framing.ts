/**
 * Content-Length framing of SIP byte streams (TCP, and later the tunnel).
 * Pure: no I/O. RFC 3261 §18.3, RFC 5626 §4.4.1 (CRLF keep-alives).
 *
 * A stream carries messages back to back; each one is its header block (up to
 * and including the empty line) followed by exactly Content-Length body bytes.
 * RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the
 * Content-Length header field indicates the size of the body. All
 * stream-oriented transports MUST use Content-Length" — so a missing one is a
 * framing error here (unlike a datagram, where the body runs to the end).
 *
 * Between messages, CR and LF bytes are keep-alives, not data. RFC 5626
 * §4.4.1: a double CRLF is a ping, which the server MUST answer with a single
 * CRLF (pong); a lone CRLF is a pong (or noise) and is ignored.
 *
 * Memory is bounded: the framer never holds more than one message's worth of
 * bytes (`maxMessageSize`), and it refuses a header block or a declared body
 * that would go beyond the limits instead of waiting for it.
 */
import { SipError } from './errors.js';
import { isWsp, parseDigits, trimWs } from './message/chars.js';
import { parseMessage } from './message/parse.js';

export interface FramerOptions {
  /** Largest header block (start line to the empty line, inclusive). Default 65536. */
  maxHeaderSize?: number;
  /** Largest message (header block + body). Default 65536. */
  maxMessageSize?: number;
}

export const DEFAULT_MAX_HEADER_SIZE = 65536;
export const DEFAULT_MAX_MESSAGE_SIZE = 65536;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into SIP messages.
 *
 *   const framer = new StreamFramer();
 *   socket.on('data', (chunk) => {
 *     for (const bytes of framer.push(chunk)) handle(parseMessage(bytes, { datagram: false }));
 *     if (framer.pings > 0) socket.write('\r\n');   // RFC 5626 pong
 *     if (framer.error) { answer400(framer.error.partial); socket.end(); }
 *   });
 *
 * Returned messages may share memory with the pushed chunk (no copy when a
 * chunk holds whole messages); they stay valid as long as the chunk does.
 */
export class StreamFramer {
  readonly maxHeaderSize: number;
  readonly maxMessageSize: number;
  /**
   * The framing error that stopped this framer, if any. Sticky: once set,
   * push() returns nothing more, because the stream position is lost and the
   * connection must be closed. `error.partial` holds the header fields when
   * the header block was complete, so the caller can still answer 400/513.
   */
  error: SipError | undefined;
  /** Double-CRLF pings (RFC 5626 §4.4.1) seen during the last push(): answer each with "\r\n". */
  pings = 0;

  /** Bytes of an incomplete message, in buf[0, len). */
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  /** Where to resume the search for the empty line in `buf` (bytes before it are checked). */
  private scanFrom = 0;
  /** Total message length once the header block was read; -1 before. */
  private msgLen = -1;
  /** LFs seen in the current run of CR/LF bytes between messages. */
  private lfRun = 0;

  constructor(opts?: FramerOptions) {
    this.maxHeaderSize = opts?.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.maxMessageSize = opts?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!(this.maxHeaderSize > 0) || !(this.maxMessageSize > 0)) {
      throw new RangeError('framer limits must be positive');
    }
  }

  /** Number of bytes held for an incomplete message. */
  get buffered(): number {
    return this.len;
  }

  /**
   * Feed the next bytes of the stream; returns the messages completed by
   * them, in order. Never throws: a framing error sets `error` (messages
   * completed before it in the same chunk are still returned).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pings = 0;
    const out: Uint8Array[] = [];
    if (this.error !== undefined || chunk.length === 0) return out;
    const data = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < data.length && this.error === undefined) {
      // Fast path: nothing buffered, so whole messages inside the chunk are
      // cut out of it directly (no copy); only an incomplete tail is buffered.
      if (this.len === 0) {
        pos = this.frameDirect(data, pos, out);
        if (this.error !== undefined || pos === data.length) break;
      }
      pos = this.feed(data, pos, out);
    }
    return out;
  }

  /**
   * Frames messages that lie wholly inside `data` from `pos`; stops at the
   * first incomplete one and returns its start (which `feed` then buffers).
   */
  private frameDirect(data: Buffer, pos: number, out: Uint8Array[]): number {
    for (;;) {
      pos = this.skipKeepAlives(data, pos, data.length);
      if (pos === data.length) return pos;
      const head = findHeadEnd(data, pos, data.length);
      if (head === -1) return pos;
      const headLen = head - pos;
      if (headLen > this.maxHeaderSize) {
        this.fail(SipError.tooLarge(`header block exceeds ${this.maxHeaderSize} bytes`));
        return pos;
      }
      const total = this.messageLength(data, pos, headLen);
      if (total < 0 || pos + total > data.length) return pos;
      out.push(data.subarray(pos, pos + total));
      pos += total;
    }
  }

  /** Appends data[pos, …) to the buffer as far as the current message needs; returns the new position. */
  private feed(data: Buffer, pos: number, out: Uint8Array[]): number {
    if (this.len === 0) {
      pos = this.skipKeepAlives(data, pos, data.length);
      if (pos === data.length) return pos;
    }
    if (this.msgLen < 0) {
      // Still looking for the end of the header block: take at most what the
      // header limit allows (plus 3 bytes, to see an empty line right at it).
      const room = this.maxHeaderSize + 3 - this.len;
      const take = Math.min(data.length - pos, room);
      this.append(data, pos, take);
      pos += take;
      const from = Math.max(0, this.scanFrom - 2);
      const head = findHeadEnd(this.buf, from, this.len);
      if (head === -1) {
        this.scanFrom = this.len;
        if (this.len > this.maxHeaderSize) {
          this.fail(SipError.tooLarge(`header block exceeds ${this.maxHeaderSize} bytes`));
        }
        return pos;
      }
      if (head > this.maxHeaderSize) {
        this.fail(SipError.tooLarge(`header block exceeds ${this.maxHeaderSize} bytes`));
        return pos;
      }
      const total = this.messageLength(this.buf, 0, head);
      if (total < 0) return pos;
      this.msgLen = total;
      // We may have taken bytes beyond this message: give them back.
      if (this.len > total) {
        pos -= this.len - total;
        this.len = total;
      }
    } else {
      const take = Math.min(data.length - pos, this.msgLen - this.len);
      this.append(data, pos, take);
      pos += take;
    }
    if (this.len === this.msgLen) {
      out.push(Buffer.from(this.buf.subarray(0, this.len))); // a copy: buf is reused
      this.reset();
    }
    return pos;
  }

  /**
   * Header block [start, start+headLen) is complete: read Content-Length and
   * return the whole message's length, or -1 after setting `error`.
   */
  private messageLength(buf: Buffer, start: number, headLen: number): number {
    const cl = contentLength(buf.toString('latin1', start, start + headLen));
    if (typeof cl !== 'number') {
      this.fail(cl, buf.subarray(start, start + headLen));
      return -1;
    }
    const total = headLen + cl;
    if (total > this.maxMessageSize) {
      this.fail(
        SipError.tooLarge(`message of ${total} bytes exceeds ${this.maxMessageSize}`),
        buf.subarray(start, start + headLen),
      );
      return -1;
    }
    return total;
  }

  /** Skips CR/LF between messages, counting double-CRLF pings. */
  private skipKeepAlives(data: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = data[pos];
      if (c === LF) {
        if (++this.lfRun === 2) {
          this.pings++;
          this.lfRun = 0;
        }
      } else if (c !== CR) {
        this.lfRun = 0;
        break;
      }
      pos++;
    }
    return pos;
  }

  private append(data: Buffer, pos: number, n: number): void {
    if (n <= 0) return;
    const need = this.len + n;
    if (need > this.buf.length) {
      const cap = Math.max(need, Math.min(this.buf.length * 2 || 1024, this.limit()));
      const bigger = Buffer.allocUnsafe(cap);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    data.copy(this.buf, this.len, pos, pos + n);
    this.len = need;
  }

  /** The most the buffer ever holds. */
  private limit(): number {
    return Math.max(this.maxMessageSize, this.maxHeaderSize + 3);
  }

  private reset(): void {
    this.len = 0;
    this.scanFrom = 0;
    this.msgLen = -1;
    this.lfRun = 0;
    // Do not keep a large buffer around after one large message.
    if (this.buf.length > 16384) this.buf = Buffer.alloc(0);
  }

  private fail(err: SipError, head?: Buffer): void {
    if (head !== undefined) err.partial = partialOf(head);
    this.error = err;
    this.len = 0;
    this.buf = Buffer.alloc(0);
  }
}

/**
 * Index just past the empty line ending the header block that starts at
 * `start`, or -1 when it is not in buf[start, end) yet. The empty line is
 * the first LF followed by CRLF or LF — the same rule as parseMessage, so the
 * framer and the parser agree on where the body starts.
 */
function findHeadEnd(buf: Buffer, start: number, end: number): number {
  const view = end === buf.length ? buf : buf.subarray(0, end); // never search stale bytes
  let i = view.indexOf(LF, start);
  while (i !== -1) {
    if (i + 1 >= end) return -1;
    const c = buf[i + 1];
    if (c === LF) return i + 2;
    if (c === CR) {
      if (i + 2 >= end) return -1;
      if (buf[i + 2] === LF) return i + 3;
    }
    i = view.indexOf(LF, i + 1);
  }
  return -1;
}

/**
 * Content-Length from a raw header block (decoded latin1: only ASCII matters):
 * long or compact name ("l"), any case, folded values joined. Missing,
 * non-numeric or conflicting values are a SipError BadContentLength.
 */
function contentLength(head: string): number | SipError {
  let found = -1;
  let pos = head.indexOf('\n') + 1; // skip the start line
  while (pos < head.length) {
    let eol = head.indexOf('\n', pos);
    if (eol === -1) eol = head.length;
    const c0 = head.charCodeAt(pos);
    if (c0 === 0x6c || c0 === 0x4c || c0 === 0x63 || c0 === 0x43) {
      const colon = head.indexOf(':', pos);
      if (colon !== -1 && colon < eol) {
        const name = head.slice(pos, colon).trimEnd().toLowerCase();
        if (name === 'content-length' || name === 'l') {
          // Folded continuation lines (starting with SP/HT) belong to the value.
          let value = head.slice(colon + 1, withoutCr(head, eol));
          while (eol + 1 < head.length && isWsp(head.charCodeAt(eol + 1))) {
            const next = head.indexOf('\n', eol + 1);
            const stop = next === -1 ? head.length : next;
            value += ' ' + head.slice(eol + 1, withoutCr(head, stop));
            eol = stop;
          }
          value = trimWs(value);
          const n = parseDigits(value);
          if (n < 0) {
            return SipError.badContentLength(
              `Content-Length ${JSON.stringify(value.slice(0, 40))} is not 1*DIGIT`,
            );
          }
          if (found >= 0 && found !== n) {
            return SipError.badContentLength('several different Content-Length values');
          }
          found = n;
        }
      }
    }
    pos = eol + 1;
  }
  if (found < 0) return SipError.badContentLength('Content-Length missing on a stream');
  return found;
}

/** End of the line ending at the LF `eol`, without its CR. */
function withoutCr(s: string, eol: number): number {
  return eol > 0 && s.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
}

/**
 * The header fields as far as they parse, so a node can answer a framing
 * error with the request's Via/From/To/Call-ID/CSeq (undefined if hopeless).
 */
function partialOf(head: Buffer): ReturnType<typeof parseMessage> | undefined {
  try {
    return parseMessage(head, { datagram: true, maxSize: head.length });
  } catch (e) {
    return e instanceof SipError ? e.partial : undefined;
  }
}
