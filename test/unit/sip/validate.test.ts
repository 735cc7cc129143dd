/**
 * validateRequest / validateResponse / errorResponse: one rule at a time,
 * each checked through the status `responseFor()` maps it to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { responseFor, type SipError, SipErrorCode } from '../../../src/sip/errors.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import {
  DEFAULT_POLICY,
  errorResponse,
  estimateSize,
  validateRequest,
  validateResponse,
} from '../../../src/sip/validate.js';

const BASE: Record<string, string> = {
  Via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards': '70',
  To: 'Bob <sip:bob@example.org>',
  From: 'Alice <sip:alice@example.com>;tag=1928301774',
  'Call-ID': 'a84b4c76e66710@pc33.example.com',
  CSeq: '314159 INVITE',
  Contact: '<sip:alice@192.0.2.1>',
};

/** A request built from the BASE headers; `changes` replaces (string), removes (null) or adds lines. */
function request(
  changes: Record<string, string | string[] | null> = {},
  start = 'INVITE sip:bob@example.org SIP/2.0',
  body = '',
): SipRequest {
  const lines = [start];
  // CSeq follows the Request-Line's method unless the test sets it.
  const all = { ...BASE, CSeq: `314159 ${start.slice(0, start.indexOf(' '))}`, ...changes };
  for (const [name, v] of Object.entries(all)) {
    if (v === null) continue;
    for (const value of Array.isArray(v) ? v : [v]) lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  const msg = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.equal(msg.kind, 'request');
  return msg as SipRequest;
}

function response(vias: string[], changes: Record<string, string | null> = {}): SipResponse {
  const lines = ['SIP/2.0 200 OK', ...vias.map((v) => `Via: ${v}`)];
  const all = { ...BASE, ...changes, Via: null, 'Max-Forwards': null };
  for (const [name, v] of Object.entries(all)) if (v !== null) lines.push(`${name}: ${v}`);
  lines.push('Content-Length: 0', '', '');
  const msg = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.equal(msg.kind, 'response');
  return msg as SipResponse;
}

/** The error's code and the status it maps to. */
function outcome(err: SipError | null): { code: string; status: number | undefined } | null {
  return err && { code: err.code, status: responseFor(err, true).status };
}

test('a well-formed request passes', () => {
  assert.equal(validateRequest(request()), null);
  assert.equal(validateRequest(request({}, 'OPTIONS sip:bob@example.org SIP/2.0')), null);
});

test('each required header missing → 400, all of them named', () => {
  for (const h of ['To', 'From', 'Call-ID', 'CSeq', 'Via']) {
    const err = validateRequest(request({ [h]: null }));
    assert.deepEqual(outcome(err), { code: SipErrorCode.MissingHeader, status: 400 }, h);
    assert.equal(err?.detail?.header, h);
  }
  const err = validateRequest(request({ To: null, From: null, 'Call-ID': null }));
  assert.equal(err?.message, 'missing To, From, Call-ID headers');
});

test('missing Max-Forwards: a proxy adds one (default), or 400 when the policy requires it', () => {
  assert.equal(validateRequest(request({ 'Max-Forwards': null })), null);
  const err = validateRequest(request({ 'Max-Forwards': null }), { requireMaxForwards: true });
  assert.deepEqual(outcome(err), { code: SipErrorCode.MissingHeader, status: 400 });
});

test('single-valued headers given twice → 400', () => {
  const twice: Record<string, string[]> = {
    To: ['sip:a@example.org', 'sip:b@example.org'],
    From: ['sip:a@example.com;tag=1', 'sip:b@example.com;tag=2'],
    'Call-ID': ['one@example.com', 'two@example.com'],
    CSeq: ['1 INVITE', '2 INVITE'],
    'Max-Forwards': ['70', '69'],
  };
  for (const [h, values] of Object.entries(twice)) {
    const err = validateRequest(request({ [h]: values }));
    assert.deepEqual(outcome(err), { code: SipErrorCode.DuplicateHeader, status: 400 }, h);
  }
  // A list header given twice is fine.
  assert.equal(
    validateRequest(request({ Via: [BASE.Via!, 'SIP/2.0/TCP 192.0.2.9;branch=z9hG4bKx'] })),
    null,
  );
});

test('CSeq method must equal the request method, case-sensitively → 400', () => {
  let err = validateRequest(request({ CSeq: '1 OPTIONS' }));
  assert.deepEqual(outcome(err), { code: SipErrorCode.CSeqMismatch, status: 400 });
  err = validateRequest(request({ CSeq: '1 invite' }));
  assert.equal(err?.code, SipErrorCode.CSeqMismatch);
});

test('scalars out of range → 400: CSeq ≥ 2^31, Max-Forwards > 255', () => {
  assert.equal(validateRequest(request({ CSeq: `${2 ** 31 - 1} INVITE` })), null);
  let err = validateRequest(request({ CSeq: `${2 ** 31} INVITE` }));
  assert.deepEqual(outcome(err), { code: SipErrorCode.ScalarOutOfRange, status: 400 });
  assert.equal(validateRequest(request({ 'Max-Forwards': '255' })), null);
  err = validateRequest(request({ 'Max-Forwards': '256' }));
  assert.deepEqual(outcome(err), { code: SipErrorCode.ScalarOutOfRange, status: 400 });
});

test('Expires is judged only by the UAS (role "answer"), which interprets it', () => {
  const big = request({ Expires: '4294967296', Contact: '<sip:a@192.0.2.1>;expires=7' });
  assert.equal(validateRequest(big), null);
  assert.equal(validateRequest(big, { role: 'answer' })?.code, SipErrorCode.ScalarOutOfRange);
  const contact = request({ Contact: '<sip:a@192.0.2.1>;expires=99999999999' });
  assert.equal(validateRequest(contact), null);
  assert.equal(validateRequest(contact, { role: 'answer' })?.code, SipErrorCode.ScalarOutOfRange);
  assert.equal(validateRequest(request({ Expires: '4294967295' }), { role: 'answer' }), null);
});

test('malformed URIs in Request-URI, From, To, Contact → 400; any scheme is fine in From/To/Contact', () => {
  const cases: [Record<string, string>, string?][] = [
    [{}, 'INVITE sip:bob@example.org?Route=%3Csip:x%3E SIP/2.0'],
    [{}, 'INVITE sip:bob@exa%mple.org SIP/2.0'],
    [{ To: 'Bob <sip:bob@example.org' }],
    [{ From: 'sip:alice@example.com?x=y;tag=1' }],
    [{ Contact: '<sip:alice@[::1>' }],
    [{ Contact: '<sip:alice@192.0.2.1>;;' }],
  ];
  for (const [changes, start] of cases) {
    const err = validateRequest(request(changes, start));
    assert.equal(outcome(err)?.status, 400, JSON.stringify(changes) + (start ?? ''));
  }
  const odd = request({
    To: 'isbn:2983792873',
    From: '<http://example.com>;tag=1',
    Contact: '<name:x>',
  });
  assert.equal(validateRequest(odd), null);
  assert.equal(
    validateRequest(request({ Contact: '*' }, 'REGISTER sip:example.org SIP/2.0')),
    null,
  );
});

test('416 for a Request-URI scheme the element does not support; tel only when configured', () => {
  for (const uri of [
    'nobodyKnowsThisScheme:opaque',
    'soap.beep://192.0.2.103:3002',
    'tel:+15551234',
  ]) {
    const err = validateRequest(request({}, `INVITE ${uri} SIP/2.0`));
    assert.deepEqual(outcome(err), { code: SipErrorCode.UnsupportedUriScheme, status: 416 }, uri);
  }
  const tel = request({}, 'INVITE tel:+15551234 SIP/2.0');
  assert.equal(validateRequest(tel, { schemes: ['sip', 'sips', 'tel'] }), null);
  assert.equal(validateRequest(request({}, 'INVITE sips:bob@example.org SIP/2.0')), null);
  assert.equal(validateRequest(request({}, 'INVITE SIP:bob@example.org SIP/2.0')), null);
});

test('483 when Max-Forwards is 0 on a request to forward; OPTIONS and the UAS as the RFC allows', () => {
  let err = validateRequest(request({ 'Max-Forwards': '0' }));
  assert.deepEqual(outcome(err), { code: SipErrorCode.TooManyHops, status: 483 });
  assert.equal(validateRequest(request({ 'Max-Forwards': '1' })), null);
  const options = request({ 'Max-Forwards': '000' }, 'OPTIONS sip:b@example.org SIP/2.0');
  assert.equal(validateRequest(options)?.code, SipErrorCode.TooManyHops);
  assert.equal(validateRequest(options, { answerOptionsAtZeroHops: true }), null);
  err = validateRequest(request({ 'Max-Forwards': '0' }), { answerOptionsAtZeroHops: true });
  assert.equal(err?.code, SipErrorCode.TooManyHops, 'only OPTIONS may be answered at zero');
  assert.equal(validateRequest(request({ 'Max-Forwards': '0' }), { role: 'answer' }), null);
});

test('420 with Unsupported listing the Proxy-Require tags we lack (deduplicated, in order)', () => {
  const req = request({ 'Proxy-Require': ['foo, bar', 'foo, baz'], Require: 'ignoredByProxies' });
  const err = validateRequest(req);
  assert.deepEqual(outcome(err), { code: SipErrorCode.BadExtension, status: 420 });
  assert.deepEqual(err?.detail?.unsupported, ['foo', 'bar', 'baz']);
  const res = errorResponse(req, err!);
  assert.equal(res?.status, 420);
  assert.equal(res?.reason, 'Bad Extension');
  assert.equal(res?.get('Unsupported'), 'foo, bar, baz');
  assert.equal(res?.get('Call-ID'), BASE['Call-ID']);
  assert.deepEqual(res?.getLines('Via'), [BASE.Via]);
  assert.match(res?.get('To') ?? '', /;tag=[0-9a-f]+$/);
  assert.equal(validateRequest(req, { extensions: ['foo', 'bar', 'baz'] }), null);
});

test('as the UAS, Require is checked instead (not on ACK or CANCEL)', () => {
  const req = request({ Require: '100rel, timer', 'Proxy-Require': 'proxyOnly' });
  const err = validateRequest(req, { role: 'answer', extensions: ['timer'] });
  assert.equal(err?.code, SipErrorCode.BadExtension);
  assert.deepEqual(err?.detail, { header: 'Require', unsupported: ['100rel'] });
  assert.equal(errorResponse(req, err!)?.get('Unsupported'), '100rel');
  const ack = request({ Require: '100rel' }, 'ACK sip:bob@example.org SIP/2.0');
  assert.equal(validateRequest(ack, { role: 'answer' }), null);
});

test('505 for another SIP version on a request built in code', () => {
  const req = request();
  req.version = 'SIP/3.0';
  assert.deepEqual(outcome(validateRequest(req)), { code: SipErrorCode.BadVersion, status: 505 });
});

test('513 for a message over the size limit, measured on the wire or estimated', () => {
  const req = request({}, undefined, 'x'.repeat(2000));
  assert.equal(validateRequest(req), null);
  const err = validateRequest(req, { maxMessageSize: 1500 });
  assert.deepEqual(outcome(err), { code: SipErrorCode.TooLarge, status: 513 });
  assert.equal(
    validateRequest(request(), { maxMessageSize: 1000 }, 1001)?.code,
    SipErrorCode.TooLarge,
  );
  assert.equal(validateRequest(request(), { maxMessageSize: 1001 }, 1001), null);
  // The estimate is the serialised size: the parsed form of a plain message is exact.
  const text = Buffer.from(
    'OPTIONS sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@example.org>\r\n' +
      'From: <sip:a@example.org>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\n\r\nabc',
  );
  assert.equal(estimateSize(parseMessage(text)), text.length);
});

test('the default policy: forward, sip/sips, no extensions, 64 KiB, 483 for OPTIONS, Max-Forwards optional', () => {
  assert.deepEqual(
    { ...DEFAULT_POLICY },
    {
      role: 'forward',
      schemes: ['sip', 'sips'],
      extensions: [],
      maxMessageSize: 65535,
      answerOptionsAtZeroHops: false,
      requireMaxForwards: false,
    },
  );
  assert.ok(Object.isFrozen(DEFAULT_POLICY));
});

test('errorResponse: echoes a malformed To untouched; null when there is no Via', () => {
  const bad = request({ To: '"Mr. J. User <sip:j.user@example.com>' });
  const err = validateRequest(bad);
  assert.equal(outcome(err)?.status, 400);
  const res = errorResponse(bad, err!);
  assert.equal(res?.status, 400);
  assert.equal(res?.get('To'), '"Mr. J. User <sip:j.user@example.com>');
  assert.equal(res?.get('CSeq'), BASE.CSeq);
  const noVia = request({ Via: null });
  assert.equal(errorResponse(noVia, validateRequest(noVia)!), null);
});

test('responses: good ones pass; missing or malformed headers fail; failures are dropped', () => {
  const top = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1';
  assert.equal(validateResponse(response([top, 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK2'])), null);
  for (const h of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const res = response(h === 'Via' ? [] : [top], h === 'Via' ? {} : { [h]: null });
    const err = validateResponse(res);
    assert.equal(err?.code, SipErrorCode.MissingHeader, h);
    assert.deepEqual(responseFor(err!, false), { verdict: 'drop' });
  }
  assert.equal(
    validateResponse(response([top], { CSeq: '99999999999 INVITE' }))?.code,
    SipErrorCode.ScalarOutOfRange,
  );
  const res = response([top]);
  res.status = 700;
  assert.equal(validateResponse(res)?.code, SipErrorCode.BadResponse);
});

test('responses the next hop would send to a broadcast or multicast address are dropped', () => {
  const top = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1';
  for (const next of [
    'SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK2',
    'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bK2',
    'SIP/2.0/UDP 224.0.1.75;branch=z9hG4bK2',
    'SIP/2.0/UDP [ff02::1];branch=z9hG4bK2',
    'SIP/2.0/UDP [::];branch=z9hG4bK2',
    'SIP/2.0/UDP host.example.com;maddr=239.255.255.250;branch=z9hG4bK2',
    'SIP/2.0/UDP host.example.com;received=255.255.255.255;branch=z9hG4bK2',
  ]) {
    const err = validateResponse(response([top, next]));
    assert.equal(err?.code, SipErrorCode.BadResponse, next);
  }
  for (const next of [
    'SIP/2.0/UDP 223.255.255.255;branch=z9hG4bK2',
    'SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK2',
    'SIP/2.0/UDP host.example.com;branch=z9hG4bK2',
  ]) {
    assert.equal(validateResponse(response([top, next])), null, next);
  }
});
