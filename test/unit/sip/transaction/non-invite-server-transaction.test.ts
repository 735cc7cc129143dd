import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransactionState } from '../../../../src/sip/transaction/transaction.js';
import { idle, inbound, request, response, setup } from './helpers.js';

const options = (protocol = 'UDP') =>
  request({ method: 'OPTIONS', via: `SIP/2.0/${protocol} 127.0.0.1:5062;branch=z9hG4bKopt` });

test('Trying: no automatic 100, retransmissions discarded', () => {
  const h = setup();
  const req = options();
  h.layer.receive(inbound(req));
  const tx = h.user.requests[0]!;
  assert.equal(tx.state, TransactionState.Trying);
  h.layer.receive(inbound(req));
  h.clock.advance(10_000);
  assert.equal(h.sender.sent.length, 0);
  assert.equal(h.user.requests.length, 1);
});

test('Proceeding: provisional sent, resent for a retransmission', () => {
  const h = setup();
  const req = options();
  h.layer.receive(inbound(req));
  const tx = h.user.requests[0]!;
  assert.ok(tx.respond(response(req, 100)));
  assert.equal(tx.state, TransactionState.Proceeding);
  h.layer.receive(inbound(req));
  assert.ok(tx.respond(response(req, 183)));
  h.layer.receive(inbound(req));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [100, 100, 183, 183],
  );
});

test('Completed: final resent for retransmissions, later finals discarded, Timer J = 64*T1', () => {
  const h = setup();
  const req = options();
  h.layer.receive(inbound(req));
  const tx = h.user.requests[0]!;
  h.clock.advanceTo(100);
  assert.ok(tx.respond(response(req, 200)));
  assert.equal(tx.state, TransactionState.Completed);
  h.layer.receive(inbound(req));
  assert.equal(tx.respond(response(req, 500)), false);
  assert.equal(tx.respond(response(req, 100)), false);
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [200, 200],
  );
  h.clock.advanceTo(100 + 32_000 - 1);
  assert.equal(tx.state, TransactionState.Completed);
  assert.equal(h.sender.sent.length, 2, 'a server never retransmits a non-INVITE final by itself');
  h.clock.advanceTo(100 + 32_000);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
  // After Timer J the same request is new again (§17.2.2).
  h.layer.receive(inbound(req));
  assert.equal(h.user.requests.length, 2);
});

test('TCP: Timer J is zero', () => {
  const h = setup();
  const req = options('TCP');
  h.layer.receive(inbound(req, 'tcp'));
  const tx = h.user.requests[0]!;
  tx.respond(response(req, 200));
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
});

test('Trying: a final response goes straight to Completed', () => {
  const h = setup({ t1: 100 });
  const req = options();
  h.layer.receive(inbound(req));
  const tx = h.user.requests[0]!;
  tx.respond(response(req, 404));
  assert.equal(tx.state, TransactionState.Completed);
  h.clock.advance(6400);
  assert.equal(tx.state, TransactionState.Terminated, 'J = 64*T1 with the configured T1');
});
