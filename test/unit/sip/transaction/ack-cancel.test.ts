import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCSeq, getVias } from '../../../../src/sip/message/accessors.js';
import { parseMessage } from '../../../../src/sip/message/parse.js';
import { serializeMessage } from '../../../../src/sip/message/serialize.js';
import { createAck, createCancel } from '../../../../src/sip/transaction/ack-cancel.js';
import { request, response } from './helpers.js';

test('createCancel copies Request-URI, Call-ID, From, To, CSeq number, top Via only, Route (§9.1)', () => {
  const invite = request({
    via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtop, SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKlow',
    routes: ['<sip:127.0.0.1:5080;lr>'],
    cseq: 42,
  });
  invite.set('Max-Forwards', '12');
  const cancel = createCancel(invite);
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(cancel.uri, invite.uri);
  for (const h of ['Call-ID', 'From', 'To']) assert.equal(cancel.get(h), invite.get(h), h);
  assert.deepEqual(getCSeq(cancel), { seq: 42, method: 'CANCEL' });
  const vias = getVias(cancel);
  assert.equal(vias.length, 1, 'a single Via, even when the top line held two values');
  assert.equal(vias[0]!.params.get('branch'), 'z9hG4bKtop');
  assert.equal(vias[0]!.port, 5070);
  assert.deepEqual(cancel.getLines('Route'), ['<sip:127.0.0.1:5080;lr>']);
  assert.equal(cancel.get('Max-Forwards'), '12');
  assert.equal(cancel.has('Contact'), false);
  // It is a well-formed message: it serialises and parses back the same.
  const again = parseMessage(serializeMessage(cancel));
  assert.equal(again.kind === 'request' && again.method, 'CANCEL');
});

test('createAck takes To (with tag) from the response and CSeq method ACK (§17.1.1.3)', () => {
  const invite = request({ cseq: 8 });
  const ack = createAck(invite, response(invite, 480, 'far-end'));
  assert.equal(ack.method, 'ACK');
  assert.equal(ack.uri, invite.uri);
  assert.match(ack.get('To')!, /;tag=far-end$/);
  assert.deepEqual(getCSeq(ack), { seq: 8, method: 'ACK' });
  assert.equal(ack.get('Max-Forwards'), '70');
  assert.equal(ack.body.length, 0);
});
