import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCSeq, getTo, getVias } from '../../../../src/sip/message/accessors.js';
import { TransactionErrorCode } from '../../../../src/sip/transaction/errors.js';
import { TransactionState } from '../../../../src/sip/transaction/transaction.js';
import {
  flush,
  idle,
  inbound,
  PEER,
  RecordingClientUser,
  request,
  response,
  setup,
} from './helpers.js';

const isInvite = (m: { kind: string; method?: string }) =>
  m.kind === 'request' && m.method === 'INVITE';

test('UDP: Timer A retransmits at T1, 2T1, 4T1 … (no T2 cap) and Timer B times out at 64*T1', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const tx = layer.sendRequest(request(), PEER, tu);
  assert.equal(tx.state, TransactionState.Calling);
  clock.advanceTo(31_999);
  assert.deepEqual(sender.times(isInvite), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(tu.timeouts, 0);
  clock.advanceTo(32_000);
  assert.equal(tu.timeouts, 1);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.equal(tu.terminated, 1);
  assert.equal(sender.requests('ACK').length, 0, 'Timer B MUST NOT generate an ACK');
  assert.ok(idle(layer, clock));
});

test('retransmissions are the same request to the same destination', () => {
  const { clock, sender, layer } = setup();
  const req = request();
  layer.sendRequest(req, PEER, new RecordingClientUser());
  clock.advance(2000);
  assert.equal(sender.sent.length, 3);
  for (const s of sender.sent) {
    assert.equal(s.message, req);
    assert.deepEqual(s.to, PEER);
  }
});

test('reliable transport: sent once, Timer B still fires', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  layer.sendRequest(request(), { ...PEER, protocol: 'tcp' }, tu);
  clock.advanceTo(31_999);
  assert.equal(sender.sent.length, 1);
  assert.equal(tu.timeouts, 0);
  clock.advanceTo(32_000);
  assert.equal(tu.timeouts, 1);
  assert.ok(idle(layer, clock));
});

test('1xx: Proceeding, passed up, retransmissions and Timer B stop', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = request();
  const tx = layer.sendRequest(req, PEER, tu);
  clock.advanceTo(600);
  layer.receive(inbound(response(req, 180)));
  assert.equal(tx.state, TransactionState.Proceeding);
  assert.deepEqual(
    tu.responses.map((r) => r.status),
    [180],
  );
  layer.receive(inbound(response(req, 183)));
  assert.equal(tu.responses.length, 2, 'each provisional goes up');
  clock.advance(100_000);
  assert.deepEqual(sender.times(), [0, 500]);
  assert.equal(tu.timeouts, 0);
  assert.equal(tx.state, TransactionState.Proceeding, 'the TU (Timer C, CANCEL) ends it now');
  assert.deepEqual(tx.activeTimers, []);
});

test('300-699: Completed, ACK built per §17.1.1.3, passed up once, Timer D = 32 s', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = request({ routes: ['<sip:p1.example;lr>', '<sip:p2.example;lr>'], cseq: 7 });
  const tx = layer.sendRequest(req, PEER, tu);
  clock.advanceTo(100);
  const busy = response(req, 486, 'callee-tag');
  layer.receive(inbound(busy));
  assert.equal(tx.state, TransactionState.Completed);
  assert.deepEqual(
    tu.responses.map((r) => r.status),
    [486],
  );
  const acks = sender.requests('ACK');
  assert.equal(acks.length, 1);
  const ack = acks[0]!;
  assert.equal(ack.uri, req.uri);
  assert.equal(ack.get('Call-ID'), req.get('Call-ID'));
  assert.equal(ack.get('From'), req.get('From'));
  assert.equal(getTo(ack).params.get('tag'), 'callee-tag', "To carries the response's tag");
  assert.deepEqual(getCSeq(ack), { seq: 7, method: 'ACK' });
  const vias = getVias(ack);
  assert.equal(vias.length, 1, 'a single Via');
  assert.equal(vias[0]!.params.get('branch'), 'z9hG4bKaaaa', "the INVITE's branch");
  assert.deepEqual(ack.getLines('Route'), ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  assert.deepEqual(sender.sent.find((s) => s.message === ack)?.to, PEER);

  // A retransmitted final response: ACK again, not passed up.
  clock.advanceTo(5000);
  layer.receive(inbound(busy));
  assert.equal(sender.requests('ACK').length, 2);
  assert.equal(tu.responses.length, 1);
  assert.deepEqual(
    sender.times(isInvite),
    [0],
    'no INVITE retransmission after the final response',
  );

  clock.advanceTo(100 + 32_000 - 1);
  assert.equal(tx.state, TransactionState.Completed);
  clock.advanceTo(100 + 32_000);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.equal(tu.timeouts, 0);
  assert.ok(idle(layer, clock));
});

test('Timer D is configurable', () => {
  const { clock, layer } = setup({ timerD: 40_000 });
  const req = request();
  const tx = layer.sendRequest(req, PEER, new RecordingClientUser());
  layer.receive(inbound(response(req, 603)));
  clock.advanceTo(39_999);
  assert.equal(tx.state, TransactionState.Completed);
  clock.advanceTo(40_000);
  assert.equal(tx.state, TransactionState.Terminated);
});

test('300-699 over TCP: ACK sent, Timer D is zero', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = request();
  const tx = layer.sendRequest(req, { ...PEER, protocol: 'tcp' }, tu);
  layer.receive(inbound(response(req, 404), 'tcp'));
  assert.equal(sender.requests('ACK').length, 1, 'ACK even if the transport is reliable');
  assert.equal(tu.responses.length, 1);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(layer, clock));
});

test('2xx: Accepted (RFC 6026), no ACK, retransmitted 2xx passed up until Timer M', () => {
  const { clock, sender, layer, user } = setup();
  const tu = new RecordingClientUser();
  const req = request();
  const tx = layer.sendRequest(req, PEER, tu);
  layer.receive(inbound(response(req, 180)));
  clock.advanceTo(1000);
  const ok = response(req, 200);
  layer.receive(inbound(ok));
  assert.equal(tx.state, TransactionState.Accepted);
  assert.equal(sender.requests('ACK').length, 0, 'the ACK for a 2xx is end to end');
  clock.advanceTo(5000);
  layer.receive(inbound(ok));
  assert.deepEqual(
    tu.responses.map((r) => r.status),
    [180, 200, 200],
  );
  layer.receive(inbound(response(req, 486)));
  assert.equal(tu.responses.length, 3, 'a non-2xx in Accepted is ignored');
  assert.equal(sender.requests('ACK').length, 0);
  clock.advanceTo(1000 + 32_000 - 1);
  assert.equal(tx.state, TransactionState.Accepted);
  clock.advanceTo(1000 + 32_000);
  assert.equal(tx.state, TransactionState.Terminated);
  layer.receive(inbound(ok));
  assert.equal(tu.responses.length, 3);
  assert.equal(user.stray.length, 1, 'after Timer M a 2xx is stray');
  assert.ok(idle(layer, clock));
});

test('transport error: reported to the TU, transaction terminated', async () => {
  const { clock, sender, layer } = setup();
  sender.fail = true;
  const tu = new RecordingClientUser();
  const tx = layer.sendRequest(request(), PEER, tu);
  await flush();
  assert.equal(tu.transportErrors.length, 1);
  assert.equal(tu.transportErrors[0]!.code, TransactionErrorCode.Transport);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.equal(tu.timeouts, 0);
  assert.ok(idle(layer, clock));
});
