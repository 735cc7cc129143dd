/**
 * SIP message parse/serialize speed on the messages a softphone really sends:
 * an INVITE with SDP (~900 bytes, shaped like baresip's) and the 200 OK to it.
 *
 *   node --import tsx bench/sip-parse.ts     (or: npm run bench -- sip-parse)
 *
 * Each case is warmed up, then timed with process.hrtime.bigint over several
 * rounds; the best round is reported (least disturbed by other processes on
 * the shared cores).
 */
import {
  getCallId,
  getCSeq,
  getFrom,
  getTo,
  getVias,
  parseMessage,
  serializeMessage,
} from '../src/sip/message/index.js';

export interface BenchResult {
  name: string;
  opsPerSec: number;
  usPerOp: number;
}

const crlf = (lines: string[]) => lines.join('\r\n');

const SDP = crlf([
  'v=0',
  'o=- 1731334567 1731334567 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=rtcp:10001',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:3543201234 cname:4b2e1e54-87d1-4c8e-a0a3-b6e0c1a8f2d9',
  'a=rtcp-rsize',
  '',
]);

const sdpLen = Buffer.byteLength(SDP);

export const INVITE = Buffer.from(
  crlf([
    'INVITE sip:bob@example.org SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1e4a9c3b7f2d6e58;rport',
    'Max-Forwards: 70',
    'To: <sip:bob@example.org>',
    'From: "Alice" <sip:alice@example.org>;tag=7c41a0f3b9d2e865',
    'Call-ID: 5a3e9c1d8b7f4a2e',
    'CSeq: 22153 INVITE',
    'Contact: <sip:alice-0x55d1@127.0.0.1:5062;transport=udp>;+sip.instance="<urn:uuid:4b2e1e54-87d1-4c8e-a0a3-b6e0c1a8f2d9>"',
    'User-Agent: baresip v1.0.0 (x86_64/linux)',
    'Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER',
    'Supported: replaces,norefersub,100rel',
    'Content-Type: application/sdp',
    `Content-Length: ${sdpLen}`,
    '',
    SDP,
  ]),
);

export const OK = Buffer.from(
  crlf([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1e4a9c3b7f2d6e58;rport=5062;received=127.0.0.1',
    'To: <sip:bob@example.org>;tag=9f3a62c1d0e4b758',
    'From: "Alice" <sip:alice@example.org>;tag=7c41a0f3b9d2e865',
    'Call-ID: 5a3e9c1d8b7f4a2e',
    'CSeq: 22153 INVITE',
    'Contact: <sip:bob-0x7f2a@127.0.0.1:5064;transport=udp>',
    'Record-Route: <sip:127.0.0.1:5060;lr>',
    'Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER',
    'Supported: replaces,norefersub',
    'User-Agent: baresip v1.0.0 (x86_64/linux)',
    'Content-Type: application/sdp',
    `Content-Length: ${sdpLen}`,
    '',
    SDP,
  ]),
);

let sink = 0;

function measure(name: string, fn: () => void, iterations = 20_000, rounds = 5): BenchResult {
  for (let i = 0; i < iterations; i++) fn(); // warm-up: let the JIT optimise
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    if (ns < best) best = ns;
  }
  return { name, opsPerSec: 1e9 / best, usPerOp: best / 1000 };
}

export async function run(): Promise<BenchResult[]> {
  const invite = parseMessage(INVITE);
  const ok = parseMessage(OK);
  return [
    measure(`parse INVITE (${INVITE.length} B)`, () => {
      sink += parseMessage(INVITE).headers.length;
    }),
    measure(`parse 200 OK (${OK.length} B)`, () => {
      sink += parseMessage(OK).headers.length;
    }),
    measure('parse INVITE + Via/From/To/CSeq/Call-ID', () => {
      const m = parseMessage(INVITE);
      sink += getVias(m).length + getCSeq(m).seq + getCallId(m).length;
      sink += getFrom(m).params.size + getTo(m).params.size;
    }),
    measure('parse 200 OK + Via/From/To/CSeq/Call-ID', () => {
      const m = parseMessage(OK);
      sink += getVias(m).length + getCSeq(m).seq + getCallId(m).length;
      sink += getFrom(m).params.size + getTo(m).params.size;
    }),
    measure('serialize INVITE', () => {
      sink += serializeMessage(invite).length;
    }),
    measure('serialize 200 OK', () => {
      sink += serializeMessage(ok).length;
    }),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`INVITE ${INVITE.length} bytes, 200 OK ${OK.length} bytes; node ${process.version}`);
  for (const r of await run()) {
    console.log(
      `${r.name.padEnd(44)} ${Math.round(r.opsPerSec).toLocaleString('en').padStart(12)} msg/s ${r.usPerOp.toFixed(2).padStart(8)} µs/msg`,
    );
  }
  if (sink === 42) console.log('');
}
