import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import {
  BRANCH_MAGIC_COOKIE,
  generateBranch,
  generateTag,
  getTo,
  makeResponse,
  parseMessage,
  reasonPhrase,
  SipRequest,
  SipResponse,
  serializeMessage,
} from '../../../../src/sip/message/index.js';
import { crlf, throwsSip } from './helpers.js';

test('serializeMessage: start line, canonical names, Content-Length from the body at its position', () => {
  const req = new SipRequest(
    'MESSAGE',
    'sip:b@x',
    [
      { name: 'v', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
      { name: 'Content-Length', value: '999' },
      { name: 'call-id', value: 'c' },
      { name: 'l', value: '5' },
      { name: 'X-Odd', value: '' },
    ],
    Buffer.from('hi\r\n\x00'),
  );
  assert.equal(
    serializeMessage(req).toString('latin1'),
    'MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 5\r\nCall-ID: c\r\nX-Odd: \r\n\r\nhi\r\n\x00',
  );
  const res = new SipResponse(200, 'OK', [{ name: 'To', value: '<sip:b@x>' }]);
  assert.equal(
    serializeMessage(res).toString(),
    'SIP/2.0 200 OK\r\nTo: <sip:b@x>\r\nContent-Length: 0\r\n\r\n',
  );
});

test('serializeMessage writes UTF-8 and binary bodies byte-exact', () => {
  const body = Uint8Array.from({ length: 256 }, (_, i) => i);
  const req = new SipRequest(
    'MESSAGE',
    'sip:b@x',
    [{ name: 'From', value: '"Zoë" <sip:z@x>' }],
    body,
  );
  const out = serializeMessage(req);
  const back = parseMessage(out);
  assert.equal(back.get('From'), '"Zoë" <sip:z@x>');
  assert.deepEqual([...back.body], [...body]);
  assert.equal(back.get('Content-Length'), '256');
});

test('serializeMessage refuses header injection and malformed start lines', () => {
  const req = () => new SipRequest('OPTIONS', 'sip:b@x', [{ name: 'Subject', value: 'ok' }]);
  const inj = req();
  inj.headers.push({ name: 'Subject', value: 'x\r\nVia: evil' });
  throwsSip(() => serializeMessage(inj), SipErrorCode.BadHeaderValue, 'Subject');
  const lf = req();
  lf.headers.push({ name: 'Subject', value: 'x\nVia: evil' });
  throwsSip(() => serializeMessage(lf), SipErrorCode.BadHeaderValue);
  const badName = req();
  badName.headers.push({ name: 'Bad Name', value: 'x' });
  throwsSip(() => serializeMessage(badName), SipErrorCode.BadHeader);
  throwsSip(
    () => serializeMessage(new SipRequest('OPT IONS', 'sip:b@x')),
    SipErrorCode.BadStartLine,
  );
  throwsSip(
    () => serializeMessage(new SipRequest('OPTIONS', 'sip:b@x SIP/2.0\r\nX:')),
    SipErrorCode.BadUri,
  );
  throwsSip(() => serializeMessage(new SipRequest('OPTIONS', '')), SipErrorCode.BadUri);
  throwsSip(() => serializeMessage(new SipResponse(99, 'x')), SipErrorCode.BadStartLine);
  throwsSip(
    () => serializeMessage(new SipResponse(200, 'OK\r\nVia: x')),
    SipErrorCode.BadStartLine,
  );
});

const INVITE = crlf(
  'INVITE sip:bob@example.org SIP/2.0',
  'Via: SIP/2.0/UDP proxy;branch=z9hG4bK2',
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport',
  'Max-Forwards: 69',
  'Record-Route: <sip:proxy;lr>',
  'To: Bob <sip:bob@example.org>',
  'From: "Alice" <sip:alice@example.org>;tag=a1',
  'Call-ID: call-1',
  'CSeq: 1 INVITE',
  'Timestamp: 54',
  'Contact: <sip:alice@127.0.0.1:5062>',
  'Content-Length: 0',
  '',
  '',
);

test('makeResponse copies Via (all, in order), From, To, Call-ID, CSeq; not Record-Route', () => {
  const req = parseMessage(INVITE) as SipRequest;
  const res = makeResponse(req, 180, undefined, { toTag: 'b2' });
  assert.equal(res.status, 180);
  assert.equal(res.reason, 'Ringing');
  assert.deepEqual(res.headers, [
    { name: 'Via', value: 'SIP/2.0/UDP proxy;branch=z9hG4bK2' },
    { name: 'Via', value: 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport' },
    { name: 'To', value: 'Bob <sip:bob@example.org>;tag=b2' },
    { name: 'From', value: '"Alice" <sip:alice@example.org>;tag=a1' },
    { name: 'Call-ID', value: 'call-1' },
    { name: 'CSeq', value: '1 INVITE' },
  ]);
  // The new response's headers are its own: editing them leaves the request alone.
  res.set('Call-ID', 'changed');
  assert.equal(req.get('Call-ID'), 'call-1');
});

test('makeResponse: 100 adds no tag and copies Timestamp; random tag otherwise; existing tag kept', () => {
  const req = parseMessage(INVITE) as SipRequest;
  const trying = makeResponse(req, 100);
  assert.equal(trying.get('To'), 'Bob <sip:bob@example.org>');
  assert.equal(trying.get('Timestamp'), '54');
  assert.equal(trying.reason, 'Trying');
  const busy = makeResponse(req, 486, 'Busy Here Now', {
    headers: [{ name: 'Retry-After', value: '60' }],
    body: Buffer.from('x'),
  });
  assert.equal(busy.reason, 'Busy Here Now');
  assert.match(getTo(busy).params.get('tag') ?? '', /^[0-9a-f]{16}$/);
  assert.equal(busy.get('Timestamp'), undefined);
  assert.equal(busy.get('Retry-After'), '60');
  assert.equal(busy.body.length, 1);
  req.set('To', 'sip:bob@example.org;tag=existing');
  assert.equal(makeResponse(req, 200).get('To'), 'sip:bob@example.org;tag=existing');
  req.set('To', 'sip:bob@example.org');
  assert.equal(makeResponse(req, 200, 'OK', { toTag: 'z' }).get('To'), 'sip:bob@example.org;tag=z');
  const out = parseMessage(serializeMessage(makeResponse(req, 200, 'OK', { toTag: 'z' })));
  assert.equal(getTo(out).params.get('tag'), 'z');
  req.set('To', 'Bell, A <sip:bob@example.org>');
  throwsSip(() => makeResponse(req, 200), SipErrorCode.BadHeaderValue, 'To');
});

test('reasonPhrase: common codes and class defaults', () => {
  assert.equal(reasonPhrase(200), 'OK');
  assert.equal(reasonPhrase(404), 'Not Found');
  assert.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  assert.equal(reasonPhrase(505), 'Version Not Supported');
  assert.equal(reasonPhrase(499), 'Client Error');
  assert.equal(reasonPhrase(199), 'Early Dialog Terminated');
  assert.equal(reasonPhrase(150), 'Informational');
});

test('generateBranch / generateTag: cookie, length, uniqueness', () => {
  const branches = new Set(Array.from({ length: 200 }, generateBranch));
  assert.equal(branches.size, 200);
  for (const b of branches) assert.match(b, new RegExp(`^${BRANCH_MAGIC_COOKIE}[0-9a-f]{24}$`));
  const tags = new Set(Array.from({ length: 200 }, generateTag));
  assert.equal(tags.size, 200);
  for (const t of tags) assert.match(t, /^[0-9a-f]{16}$/);
});
