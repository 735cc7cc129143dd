/**
 * The media side of a fake softphone for integration tests: an RTP socket on
 * 127.0.0.1 that sends numbered RTP packets and records what it receives,
 * the SDP such a phone writes, and a reader for the SDP it is sent.
 *
 *   const rtp = await RtpSocket.open();
 *   const offer = audioSdp(rtp.port);                  // c=IN IP4 127.0.0.1, m=audio PORT RTP/AVP 0
 *   // … the INVITE carries `offer`; the 200 comes back with the relay's SDP …
 *   const relay = sdpAudioTarget(okBody);              // { host, port } the phone must send to
 *   rtp.send(rtpPacket({ seq: 1, ssrc: 0x1234 }), relay.port);
 *   await rtp.waitForPackets((p) => p.ssrc === 0x5678, 3, 5_000);
 *   await rtp.close();
 *
 * The SDP reader is deliberately independent of src/sdp (a few regular
 * expressions): the tests check what the nodes' rewriting produced, so they
 * must not read it back with the code under test.
 */
import { createSocket, type Socket } from 'node:dgram';

/** The RTP fixed header fields a test looks at (RFC 3550 §5.1). */
export interface RtpHeader {
  version: number;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
}

/** One packet an RtpSocket received. */
export interface ReceivedRtp extends RtpHeader {
  /** Who sent it (the relay socket, when media is relayed). */
  from: { address: string; port: number };
  bytes: Uint8Array;
}

/** A PCMU packet: version 2, no padding/extension/CSRC, `payloadBytes` of 0xff (PCMU silence). */
export function rtpPacket(o: {
  seq: number;
  ssrc: number;
  timestamp?: number;
  payloadType?: number;
  payloadBytes?: number;
}): Uint8Array {
  const p = new Uint8Array(12 + (o.payloadBytes ?? 160)).fill(0xff);
  const view = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = (o.payloadType ?? 0) & 0x7f;
  view.setUint16(2, o.seq & 0xffff);
  view.setUint32(4, (o.timestamp ?? o.seq * 160) >>> 0);
  view.setUint32(8, o.ssrc >>> 0);
  return p;
}

/** The header of an RTP version-2 packet, or undefined for anything shorter or of another version. */
export function parseRtpHeader(bytes: Uint8Array): RtpHeader | undefined {
  if (bytes.length < 12 || bytes[0]! >> 6 !== 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: 2,
    payloadType: bytes[1]! & 0x7f,
    seq: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
  };
}

/** How many received packets `waitForPackets` keeps before it stops recording (bounded memory). */
const MAX_RECORDED = 100_000;

/** A softphone's RTP socket on 127.0.0.1 (UDP, an ephemeral port). Close it with close(). */
export class RtpSocket {
  readonly received: ReceivedRtp[] = [];
  /** Datagrams that were not RTP version 2. */
  notRtp = 0;
  readonly #socket: Socket;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => {
      const bytes = new Uint8Array(msg);
      const header = parseRtpHeader(bytes);
      if (!header) this.notRtp++;
      else if (this.received.length < MAX_RECORDED)
        this.received.push({
          ...header,
          from: { address: rinfo.address, port: rinfo.port },
          bytes,
        });
      for (const w of [...this.#waiters]) w();
    });
  }

  static async open(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<RtpSocket> {
    const socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpSocket(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** Sends one datagram to `host:port` (default 127.0.0.1); resolves once it is handed to the kernel. */
  send(bytes: Uint8Array, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Resolves with the received packets matching `pred` once there are at
   * least `count` of them (already received or later); rejects after
   * `timeoutMs` saying how many came.
   */
  waitForPackets(
    pred: (p: ReceivedRtp) => boolean,
    count: number,
    timeoutMs: number,
    what = 'RTP packets',
  ): Promise<ReceivedRtp[]> {
    const matching = () => this.received.filter(pred);
    const now = matching();
    if (now.length >= count) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = matching();
        if (got.length < count) return;
        done();
        resolve(got);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `port ${this.port}: ${matching().length} of ${count} ${what} within ${timeoutMs} ms ` +
              `(${this.received.length} RTP packets received in all, ${this.notRtp} non-RTP)`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  close(): Promise<void> {
    for (const w of this.#waiters) this.#waiters.delete(w);
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/**
 * The SDP a loopback softphone offers or answers: one PCMU audio stream on
 * `port` (RTCP on port + 1), `c=IN IP4 127.0.0.1`. CRLF line ends.
 */
export function audioSdp(port: number, o: { version?: number; sessionId?: number } = {}): string {
  return [
    'v=0',
    `o=- ${o.sessionId ?? 4242} ${o.version ?? 1} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** Where the first audio stream of an SDP body says to send RTP: its `c=` address and `m=` port. */
export interface SdpTarget {
  host: string;
  port: number;
  /** RTCP port: `a=rtcp:` when present, else port + 1. */
  rtcpPort: number;
}

/**
 * Reads the first `m=audio` stream's address (media-level `c=` if it has one,
 * else the session-level one), port and RTCP port. Throws on a body without
 * either, naming what is missing.
 */
export function sdpAudioTarget(body: Uint8Array | string): SdpTarget {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  const lines = text.split(/\r?\n/);
  const mIndex = lines.findIndex((l) => l.startsWith('m=audio '));
  if (mIndex < 0) throw new Error(`SDP without m=audio:\n${text}`);
  const port = Number(/^m=audio (\d+)/.exec(lines[mIndex]!)?.[1]);
  let next = lines.findIndex((l, i) => i > mIndex && l.startsWith('m='));
  if (next < 0) next = lines.length;
  const mediaLines = lines.slice(mIndex + 1, next);
  const connection = (ls: string[]) =>
    ls.map((l) => /^c=IN IP[46] ([^\s/]+)/.exec(l)?.[1]).find((h) => h !== undefined);
  const host = connection(mediaLines) ?? connection(lines.slice(0, mIndex));
  if (host === undefined) throw new Error(`SDP without c= for its audio stream:\n${text}`);
  const rtcp = mediaLines.map((l) => /^a=rtcp:(\d+)/.exec(l)?.[1]).find((p) => p !== undefined);
  return { host, port, rtcpPort: rtcp === undefined ? port + 1 : Number(rtcp) };
}

/**
 * A SIP message's text (as RawPhone's `request`/`answer` write it, CRLF or LF)
 * with `body` as its body: Content-Type set, Content-Length fixed, CRLF line ends.
 */
export function withBody(message: string, contentType: string, body: string): string {
  const text = message.replace(/\r?\n/g, '\r\n');
  const end = text.indexOf('\r\n\r\n');
  const head = (end < 0 ? text : text.slice(0, end))
    .split('\r\n')
    .filter((l) => !/^(content-length|content-type|l|c)\s*:/i.test(l));
  return [
    ...head,
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
    '',
    body,
  ].join('\r\n');
}
