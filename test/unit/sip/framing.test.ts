import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SipErrorCode } from '../../../src/sip/errors.js';
import { StreamFramer } from '../../../src/sip/framing.js';
import { parseMessage } from '../../../src/sip/message/index.js';

const enc = (s: string) => Buffer.from(s, 'latin1');
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function options(n: number, body = '', clName = 'Content-Length'): string {
  return (
    `OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-${n}\r\n` +
    `From: <sip:alice@127.0.0.1>;tag=${n}\r\n` +
    `To: <sip:bob@127.0.0.1>\r\n` +
    `Call-ID: call-${n}\r\n` +
    `CSeq: ${n + 1} OPTIONS\r\n` +
    `Max-Forwards: 70\r\n` +
    `${clName}: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n` +
    body
  );
}

test('one message in one chunk comes out whole, body included', () => {
  const f = new StreamFramer();
  const msg = options(1, 'v=0\r\nhello');
  const out = f.push(enc(msg));
  assert.equal(out.length, 1);
  assert.equal(text(out[0]!), msg);
  assert.equal(f.buffered, 0);
  assert.equal(f.error, undefined);
});

test('two messages and the start of a third: two out, the rest is kept', () => {
  const f = new StreamFramer();
  const a = options(1, 'abc');
  const b = options(2);
  const c = options(3, 'xyz');
  const out1 = f.push(enc(a + b + c.slice(0, 40)));
  assert.deepEqual(out1.map(text), [a, b]);
  assert.equal(f.buffered, 40);
  const out2 = f.push(enc(c.slice(40)));
  assert.deepEqual(out2.map(text), [c]);
  assert.equal(f.buffered, 0);
});

test('the body is cut at Content-Length even when it contains an empty line', () => {
  const f = new StreamFramer();
  const body = '\r\n\r\nINVITE sip:x SIP/2.0\r\n\r\n';
  const m = options(1, body);
  assert.deepEqual(f.push(enc(m + m)).map(text), [m, m]);
});

test('compact "l", any case, folded value, and bare-LF line ends are understood', () => {
  const cases = [
    options(1, 'abcd', 'l'),
    options(1, 'abcd', 'L'),
    options(1, 'abcd', 'content-LENGTH'),
    options(1, 'abcd').replace('Content-Length: 4', 'Content-Length:\r\n   4'),
    options(1, 'abcd').replace('Content-Length: 4', 'Content-Length  :  4  '),
    options(1, 'abcd').replaceAll('\r\n', '\n'),
  ];
  for (const m of cases) {
    const f = new StreamFramer();
    const out = f.push(enc(m + m));
    assert.equal(f.error, undefined, m);
    assert.deepEqual(out.map(text), [m, m], JSON.stringify(m));
  }
});

test('CRLF keep-alives between messages are skipped; each double CRLF counts as a ping', () => {
  const f = new StreamFramer();
  const m = options(1, 'x');
  const out = f.push(enc(`\r\n\r\n${m}\r\n${m}\r\n\r\n\r\n\r\n`));
  assert.deepEqual(out.map(text), [m, m]);
  // "\r\n\r\n" before, then "\r\n" (a lone CRLF: pong or noise), then two pings.
  assert.equal(f.pings, 3);
  assert.equal(f.buffered, 0);
  assert.deepEqual(f.push(enc('\r\n')), []);
  assert.equal(f.pings, 0, 'pings count per push');
  assert.deepEqual(f.push(enc('\r\n')), []);
  assert.equal(f.pings, 1, 'a ping split across pushes is still one ping');
});

test('missing Content-Length on a stream is BadContentLength, with a partial message to answer', () => {
  const f = new StreamFramer();
  const m = options(7).replace(/Content-Length: 0\r\n/, '');
  const good = options(1);
  const out = f.push(enc(good + m + good));
  assert.deepEqual(out.map(text), [good], 'messages before the bad one still come out');
  assert.equal(f.error?.code, SipErrorCode.BadContentLength);
  const partial = f.error?.partial;
  assert.ok(partial && partial.kind === 'request');
  assert.equal(partial.get('Call-ID'), 'call-7');
  assert.deepEqual(f.push(enc(good)), [], 'sticky: nothing after a framing error');
});

test('non-numeric or conflicting Content-Length values are BadContentLength', () => {
  for (const bad of [
    options(1).replace('Content-Length: 0', 'Content-Length: -1'),
    options(1).replace('Content-Length: 0', 'Content-Length: 1x'),
    options(1).replace('Content-Length: 0', 'Content-Length:'),
    options(1).replace('Content-Length: 0', 'Content-Length: 0\r\nl: 3'),
  ]) {
    const f = new StreamFramer();
    assert.deepEqual(f.push(enc(bad)), []);
    assert.equal(f.error?.code, SipErrorCode.BadContentLength, bad);
  }
  const same = options(1).replace('Content-Length: 0', 'Content-Length: 0\r\nl: 0');
  const f = new StreamFramer();
  assert.equal(f.push(enc(same)).length, 1, 'repeated equal values are fine');
});

test('a header block over the limit is TooLarge, and nothing beyond the limit is buffered', () => {
  const f = new StreamFramer({ maxHeaderSize: 1024, maxMessageSize: 4096 });
  const start = enc('OPTIONS sip:x SIP/2.0\r\nX-Pad: ');
  assert.deepEqual(f.push(start), []);
  let rounds = 0;
  while (f.error === undefined && rounds < 100) {
    f.push(enc('a'.repeat(100)));
    assert.ok(f.buffered <= 1024 + 3, `buffered ${f.buffered}`);
    rounds++;
  }
  assert.equal(f.error?.code, SipErrorCode.TooLarge);
  assert.equal(f.buffered, 0);
  assert.ok(rounds < 12, 'fails as soon as the limit is crossed');
});

test('a declared body over the message limit is TooLarge at once, with a partial to answer 513', () => {
  const f = new StreamFramer({ maxMessageSize: 2048 });
  const m = options(2).replace('Content-Length: 0', 'Content-Length: 100000');
  assert.deepEqual(f.push(enc(m)), []);
  assert.equal(f.error?.code, SipErrorCode.TooLarge);
  assert.equal(f.error?.partial?.get('CSeq'), '3 OPTIONS');
  assert.equal(f.buffered, 0);
});

test('a message exactly at the limits passes; one byte more fails', () => {
  const base = options(1, '');
  const headLen = base.length;
  const okBody = 'b'.repeat(500 - headLen - 2); // Content-Length grows from 1 to 3 digits
  const ok = options(1, okBody);
  assert.equal(ok.length, 500);
  const f = new StreamFramer({ maxHeaderSize: headLen + 2, maxMessageSize: 500 });
  assert.deepEqual(f.push(enc(ok)).map(text), [ok]);
  const tooBig = options(1, `${okBody}b`);
  const g = new StreamFramer({ maxHeaderSize: headLen + 2, maxMessageSize: 500 });
  assert.deepEqual(g.push(enc(tooBig)), []);
  assert.equal(g.error?.code, SipErrorCode.TooLarge);
});

test('framed messages parse as stream messages', () => {
  const f = new StreamFramer();
  const out = f.push(enc(options(3, 'hello') + options(4)));
  const parsed = out.map((b) => parseMessage(b, { datagram: false }));
  assert.equal(parsed.length, 2);
  assert.equal(Buffer.from(parsed[0]!.body).toString(), 'hello');
  assert.equal(parsed[1]!.get('Call-ID'), 'call-4');
});

// ---- property: splitting does not matter -------------------------------------

const arbMessage = fc
  .record({
    n: fc.nat(1000),
    body: fc.uint8Array({ maxLength: 300 }),
    compact: fc.boolean(),
    lf: fc.boolean(),
  })
  .map(({ n, body, compact, lf }) => {
    let head = options(n, '', compact ? 'l' : 'Content-Length').replace(
      /(Content-Length|l): 0/,
      `$1: ${body.length}`,
    );
    if (lf) head = head.replaceAll('\r\n', '\n');
    return Buffer.concat([enc(head), body]);
  });

const arbKeepAlive = fc.constantFrom('', '', '\r\n', '\r\n\r\n', '\r\n\r\n\r\n\r\n');

/** Cut `data` at the given fractions (sorted, deduplicated positions). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

test('property: the same messages come out however the stream is split', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbKeepAlive, arbMessage), { minLength: 1, maxLength: 6 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
      fc.boolean(),
      (items, cuts, oneByte) => {
        const stream = Buffer.concat(items.flatMap(([ka, m]) => [enc(ka), m]));
        const pings = items.reduce((s, [ka]) => s + Math.floor(ka.length / 4), 0);
        const chunks = oneByte
          ? Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
          : split(stream, cuts);
        const f = new StreamFramer();
        const out: Buffer[] = [];
        let seen = 0;
        for (const c of chunks) {
          for (const m of f.push(c)) out.push(Buffer.from(m));
          seen += f.pings;
        }
        assert.equal(f.error, undefined);
        assert.equal(f.buffered, 0);
        assert.equal(out.length, items.length);
        for (const [i, [, m]] of items.entries()) assert.ok(out[i]!.equals(m), `message ${i}`);
        assert.equal(seen, pings);
      },
    ),
    { numRuns: 300 },
  );
});
