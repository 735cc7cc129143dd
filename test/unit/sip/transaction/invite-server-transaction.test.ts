import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransactionErrorCode } from '../../../../src/sip/transaction/errors.js';
import type { InviteServerTransaction } from '../../../../src/sip/transaction/invite-server-transaction.js';
import {
  type ServerTransaction,
  TransactionState,
} from '../../../../src/sip/transaction/transaction.js';
import {
  flush,
  idle,
  inbound,
  PEER,
  request,
  response,
  setup,
  ViaRoutingSender,
} from './helpers.js';

/** Receive an INVITE and return its server transaction (with a recording delegate). */
function open(h: ReturnType<typeof setup>, protocol: 'udp' | 'tcp' = 'udp') {
  const invite = request({
    via: `SIP/2.0/${protocol.toUpperCase()} 127.0.0.1:5062;branch=z9hG4bKinv`,
  });
  const events = { timeouts: 0, errors: [] as string[], terminated: 0 };
  h.user.onNewRequest = (tx: ServerTransaction) => {
    tx.delegate = {
      onTimeout: () => events.timeouts++,
      onTransportError: (e) => events.errors.push(e.code),
      onTerminated: () => events.terminated++,
    };
  };
  h.layer.receive(inbound(invite, protocol));
  const tx = h.user.requests[0] as InviteServerTransaction;
  return { invite, tx, events };
}

const ackFor = (invite: ReturnType<typeof request>, protocol = 'UDP') =>
  request({
    method: 'ACK',
    via: `SIP/2.0/${protocol} 127.0.0.1:5062;branch=z9hG4bKinv`,
    cseq: 1,
    toTag: 'uas-tag',
    uri: invite.uri,
  });

test('100 Trying is sent at once, before the TU sees the INVITE', () => {
  const h = setup();
  let sentWhenTuRan = -1;
  h.user.onNewRequest = () => {
    sentWhenTuRan = h.sender.sent.length;
  };
  h.layer.receive(inbound(request()));
  assert.equal(sentWhenTuRan, 1);
  const trying = h.sender.responses(100);
  assert.equal(trying.length, 1);
  assert.deepEqual(h.sender.sent[0]!.to, PEER, 'without sendResponse: back to the source');
  assert.equal(h.user.requests[0]!.state, TransactionState.Proceeding);
});

test('tryingDelay: 100 after the delay, or never when the TU answers first', () => {
  const h = setup({ tryingDelay: 200 });
  h.layer.receive(inbound(request({ branch: 'z9hG4bKone' })));
  h.clock.advanceTo(199);
  assert.equal(h.sender.sent.length, 0);
  h.clock.advanceTo(200);
  assert.equal(h.sender.responses(100).length, 1);

  const h2 = setup({ tryingDelay: 200 });
  h2.layer.receive(inbound(request({ branch: 'z9hG4bKtwo' })));
  h2.clock.advanceTo(150);
  const tx = h2.user.requests[0]!;
  tx.respond(response(tx.request, 180));
  h2.clock.advanceTo(1000);
  assert.deepEqual(
    h2.sender.responses().map((r) => r.status),
    [180],
  );
});

test('Proceeding: a retransmitted INVITE gets the last provisional again, one transaction', () => {
  const h = setup();
  const { invite, tx } = open(h);
  h.layer.receive(inbound(invite));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [100, 100],
  );
  tx.respond(response(invite, 180));
  h.layer.receive(inbound(invite));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [100, 100, 180, 180],
  );
  assert.equal(h.user.requests.length, 1);
  assert.equal(h.layer.counts().server, 1);
});

test('300-699 over UDP: Timer G doubles to T2 until Timer H reports a timeout', () => {
  const h = setup();
  const { invite, tx, events } = open(h);
  h.clock.advanceTo(1000);
  assert.ok(tx.respond(response(invite, 486)));
  assert.equal(tx.state, TransactionState.Completed);
  h.clock.advanceTo(1000 + 32_000 - 1);
  const at486 = h.sender.times((m) => m.kind === 'response' && m.status === 486);
  assert.deepEqual(
    at486.map((t) => t - 1000),
    [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
  );
  assert.equal(events.timeouts, 0);
  h.clock.advanceTo(1000 + 32_000);
  assert.equal(events.timeouts, 1, 'Timer H: the ACK never came');
  assert.equal(tx.state, TransactionState.Terminated);
  assert.equal(events.terminated, 1);
  assert.ok(idle(h.layer, h.clock));
});

test('Completed: a retransmitted INVITE gets the final again; a second final is discarded', () => {
  const h = setup();
  const { invite, tx } = open(h);
  tx.respond(response(invite, 404));
  h.layer.receive(inbound(invite));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [100, 404, 404],
  );
  assert.equal(tx.respond(response(invite, 200)), false);
  assert.equal(tx.respond(response(invite, 180)), false);
  assert.equal(h.sender.sent.length, 3);
});

test('ACK: Confirmed, retransmissions stop, ACKs absorbed, Timer I = T4', () => {
  const h = setup();
  const { invite, tx } = open(h);
  tx.respond(response(invite, 486));
  h.clock.advanceTo(600); // one retransmission at 500
  h.layer.receive(inbound(ackFor(invite)));
  assert.equal(tx.state, TransactionState.Confirmed);
  h.layer.receive(inbound(ackFor(invite)));
  h.layer.receive(inbound(invite));
  assert.equal(h.user.acks.length, 0, 'ACKs absorbed, not passed to the TU');
  h.clock.advanceTo(600 + 5000 - 1);
  assert.equal(tx.state, TransactionState.Confirmed);
  assert.equal(h.sender.responses(486).length, 2, 'no retransmission after the ACK');
  h.clock.advanceTo(600 + 5000);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
});

test('TCP: no Timer G; ACK terminates at once (I = 0); H still guards a lost ACK', () => {
  const h = setup();
  const { invite, tx } = open(h, 'tcp');
  tx.respond(response(invite, 486));
  h.clock.advanceTo(20_000);
  assert.equal(h.sender.responses(486).length, 1);
  h.layer.receive(inbound(ackFor(invite, 'TCP'), 'tcp'));
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));

  const h2 = setup();
  const second = open(h2, 'tcp');
  second.tx.respond(response(second.invite, 500));
  h2.clock.advanceTo(32_000);
  assert.equal(second.events.timeouts, 1);
  assert.ok(idle(h2.layer, h2.clock));
});

test('2xx: Accepted (RFC 6026) absorbs INVITEs, forwards 2xx from the TU, passes ACKs up, Timer L', () => {
  const h = setup();
  const { invite, tx } = open(h);
  h.clock.advanceTo(1000);
  const ok = response(invite, 200);
  assert.ok(tx.respond(ok));
  assert.equal(tx.state, TransactionState.Accepted);
  h.clock.advanceTo(3000);
  assert.equal(h.sender.responses(200).length, 1, 'the transaction never retransmits a 2xx itself');
  h.layer.receive(inbound(invite));
  assert.equal(h.sender.sent.length, 2, 'retransmitted INVITE absorbed');
  assert.equal(h.user.requests.length, 1, 'and not a new transaction');
  assert.ok(tx.respond(ok), 'a 2xx retransmission from downstream is sent');
  assert.equal(h.sender.responses(200).length, 2);
  assert.equal(tx.respond(response(invite, 180)), false);
  assert.equal(tx.respond(response(invite, 486)), false);
  h.layer.receive(inbound(ackFor(invite)));
  assert.equal(h.user.acks.length, 1, 'an ACK in Accepted goes to the TU');
  h.clock.advanceTo(1000 + 32_000 - 1);
  assert.equal(tx.state, TransactionState.Accepted);
  h.clock.advanceTo(1000 + 32_000);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
});

test('responses go through sendResponse (Via routing) when the sender has it', () => {
  const h = setup({}, (c) => new ViaRoutingSender(c));
  const { invite, tx } = open(h);
  tx.respond(response(invite, 180));
  assert.deepEqual(
    h.sender.sent.map((s) => s.to),
    ['via', 'via'],
  );
});

test('transport error on a response: reported, terminated', async () => {
  const h = setup();
  const { invite, tx, events } = open(h);
  h.sender.fail = true;
  tx.respond(response(invite, 486));
  await flush();
  assert.deepEqual(events.errors, [TransactionErrorCode.Transport]);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
});
