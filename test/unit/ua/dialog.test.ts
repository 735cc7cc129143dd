/** Dialog state from INVITE + 2xx (RFC 3261 §12.1) and in-dialog requests (§12.2.1.1). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getRoutes, makeResponse } from '../../../src/sip/message/index.js';
import { SipRequest } from '../../../src/sip/message/message.js';
import {
  dialogAsCallee,
  dialogAsCaller,
  inDialog,
  inDialogRequest,
} from '../../../src/ua/dialog.js';

const VIA = 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-new';

function invite(rr: string[]): SipRequest {
  const req = new SipRequest('INVITE', 'sip:bob@example.org');
  req.append('Via', 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1');
  for (const r of rr) req.append('Record-Route', r);
  req.append('From', '"Alice" <sip:alice@example.org>;tag=a1');
  req.append('To', '<sip:bob@example.org>');
  req.append('Call-ID', 'd-1');
  req.append('CSeq', '7 INVITE');
  req.append('Contact', '<sip:alice@127.0.0.1:5062>');
  return req;
}

test('caller: route set = Record-Route reversed, target = Contact of the 2xx, ACK keeps the CSeq, BYE takes the next', () => {
  const inv = invite([]);
  const ok = makeResponse(inv, 200, 'OK', { toTag: 'b1' });
  ok.append('Record-Route', '<sip:p2.invalid;lr>, <sip:p1.invalid;lr>');
  ok.append('Contact', '<sip:bob@127.0.0.1:5080>');
  const d = dialogAsCaller(inv, ok);
  assert.deepEqual(
    [d.localTag, d.remoteTag, d.peer, d.remoteTarget],
    ['a1', 'b1', 'bob@example.org', 'sip:bob@127.0.0.1:5080'],
  );
  const ack = inDialogRequest(d, 'ACK', VIA);
  assert.equal(ack.uri, 'sip:bob@127.0.0.1:5080');
  assert.deepEqual(ack.getLines('Route'), ['<sip:p1.invalid;lr>', '<sip:p2.invalid;lr>']);
  assert.equal(ack.get('CSeq'), '7 ACK');
  assert.equal(ack.get('From'), '"Alice" <sip:alice@example.org>;tag=a1');
  assert.equal(ack.get('To'), '<sip:bob@example.org>;tag=b1');
  assert.equal(inDialogRequest(d, 'BYE', VIA).get('CSeq'), '8 BYE');
  assert.equal(inDialogRequest(d, 'BYE', VIA).get('CSeq'), '9 BYE');
});

test('callee: route set = Record-Route in order, target = Contact of the INVITE; matching by Call-ID and both tags', () => {
  const inv = invite(['<sip:p2.invalid;lr>', '<sip:p1.invalid;lr>']);
  const d = dialogAsCallee(inv, 'b9');
  assert.equal(d.peer, 'alice@example.org');
  const bye = inDialogRequest(d, 'BYE', VIA);
  assert.equal(bye.uri, 'sip:alice@127.0.0.1:5062');
  assert.deepEqual(bye.getLines('Route'), ['<sip:p2.invalid;lr>', '<sip:p1.invalid;lr>']);
  assert.equal(bye.get('CSeq'), '1 BYE');
  assert.equal(bye.get('From'), '<sip:bob@example.org>;tag=b9');

  const theirs = (toTag: string, fromTag: string) => {
    const r = new SipRequest('BYE', 'sip:bob@127.0.0.1:5080');
    r.append('From', `<sip:alice@example.org>;tag=${fromTag}`);
    r.append('To', `<sip:bob@example.org>;tag=${toTag}`);
    r.append('Call-ID', 'd-1');
    return r;
  };
  assert.equal(inDialog(d, theirs('b9', 'a1')), true);
  assert.equal(inDialog(d, theirs('b8', 'a1')), false);
  assert.equal(inDialog(d, theirs('b9', 'a2')), false);
});

test('strict routing (first route without lr): Request-URI = that route, remote target appended as the last Route', () => {
  const inv = invite(['<sip:strict.invalid>', '<sip:p1.invalid;lr>']);
  const bye = inDialogRequest(dialogAsCallee(inv, 'b9'), 'BYE', VIA);
  assert.equal(bye.uri, 'sip:strict.invalid');
  assert.deepEqual(
    getRoutes(bye).map((r) => r.uri.host),
    ['p1.invalid', '127.0.0.1'],
  );
});

test('a 2xx without a To tag cannot form a dialog (typed SIP error)', () => {
  const inv = invite([]);
  const ok = makeResponse(inv, 200, 'OK', { toTag: 'x' });
  ok.set('To', '<sip:bob@example.org>');
  assert.throws(() => dialogAsCaller(inv, ok), { code: 'SIP_BAD_HEADER_VALUE' });
});
