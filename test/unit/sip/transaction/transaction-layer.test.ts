import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import { SipRequest } from '../../../../src/sip/message/message.js';
import { createCancel } from '../../../../src/sip/transaction/ack-cancel.js';
import { TransactionErrorCode } from '../../../../src/sip/transaction/errors.js';
import { resolveTimers } from '../../../../src/sip/transaction/timers.js';
import { TransactionState } from '../../../../src/sip/transaction/transaction.js';
import {
  answerCancel,
  flush,
  idle,
  inbound,
  PEER,
  RecordingClientUser,
  request,
  response,
  setup,
} from './helpers.js';

test('§17.2.3: branch + sent-by + method select the server transaction', () => {
  const h = setup();
  const via = (sentBy: string) => `SIP/2.0/UDP ${sentBy};branch=z9hG4bKsame`;
  h.layer.receive(inbound(request({ via: via('127.0.0.1:5062') })));
  h.layer.receive(inbound(request({ via: via('127.0.0.1:5062;received=127.0.0.1') })));
  assert.equal(h.user.requests.length, 1, 'same branch and sent-by: a retransmission');
  h.layer.receive(inbound(request({ via: via('127.0.0.1:5064') })));
  assert.equal(h.user.requests.length, 2, 'other sent-by: another transaction');
  h.layer.receive(inbound(request({ via: via('127.0.0.2') })));
  h.layer.receive(inbound(request({ via: via('127.0.0.2:5060') })));
  assert.equal(h.user.requests.length, 3, 'absent port equals the default 5060');
  h.layer.receive(inbound(request({ method: 'CANCEL', via: via('127.0.0.1:5062') })));
  assert.equal(h.user.requests.length, 4, 'CANCEL has its own transaction');
  assert.equal(h.user.requests[3]!.kind, 'non-invite-server');
  assert.deepEqual(h.layer.counts(), { client: 0, server: 4 });
});

test('ACK with the INVITE branch belongs to the INVITE; an ACK with a new branch goes to the TU', () => {
  const h = setup();
  const invite = request({ branch: 'z9hG4bKinv' });
  h.layer.receive(inbound(invite));
  const tx = h.user.requests[0]!;
  tx.respond(response(invite, 200));
  // The ACK for a 2xx is a new transaction (§17.1.1.3): new branch, no match.
  h.layer.receive(inbound(request({ method: 'ACK', branch: 'z9hG4bKack2xx', toTag: 'uas-tag' })));
  assert.equal(h.user.acks.length, 1);
  assert.equal(h.user.requests.length, 1, 'an ACK never creates a transaction');

  const h2 = setup();
  const invite2 = request({ branch: 'z9hG4bKinv' });
  h2.layer.receive(inbound(invite2));
  const tx2 = h2.user.requests[0]!;
  tx2.respond(response(invite2, 404));
  h2.layer.receive(inbound(request({ method: 'ACK', branch: 'z9hG4bKinv', toTag: 'uas-tag' })));
  assert.equal(tx2.state, TransactionState.Confirmed);
  assert.equal(h2.user.acks.length, 0);
});

test('CANCEL: findInviteForCancel finds the INVITE; 487 to the INVITE, 200 to the CANCEL', () => {
  const h = setup();
  h.user.onNewRequest = (tx) => {
    if (tx.request.method === 'CANCEL') answerCancel(h.layer, tx);
  };
  const invite = request({ branch: 'z9hG4bKcall', cseq: 5 });
  h.layer.receive(inbound(invite));
  const inviteTx = h.user.requests[0]!;
  const cancel = createCancel(invite);
  h.layer.receive(inbound(cancel));
  assert.equal(h.layer.findInviteForCancel(cancel), inviteTx);
  assert.deepEqual(
    h.sender.responses().map((r) => `${r.status} ${r.get('CSeq')}`),
    ['100 5 INVITE', '487 5 INVITE', '200 5 CANCEL'],
  );
  assert.equal(inviteTx.state, TransactionState.Completed);
  // The ACK for the 487 is absorbed by the INVITE transaction.
  h.layer.receive(
    inbound(request({ method: 'ACK', branch: 'z9hG4bKcall', cseq: 5, toTag: 'uas-tag' })),
  );
  assert.equal(inviteTx.state, TransactionState.Confirmed);
  assert.equal(h.user.acks.length, 0);
});

test('CANCEL matching nothing gets 481; a CANCEL after the final answer gets 200 and no 487', () => {
  const h = setup();
  h.user.onNewRequest = (tx) => {
    if (tx.request.method === 'CANCEL') answerCancel(h.layer, tx);
  };
  h.layer.receive(inbound(request({ method: 'CANCEL', branch: 'z9hG4bKnothing' })));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [481],
  );
  // Same branch, other sent-by: not the same INVITE.
  const invite = request({ branch: 'z9hG4bKx' });
  h.layer.receive(inbound(invite));
  const other = request({ method: 'CANCEL', via: 'SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKx' });
  assert.equal(h.layer.findInviteForCancel(other), undefined);

  h.user.requests.at(-1)!.respond(response(invite, 200));
  h.layer.receive(inbound(createCancel(invite)));
  assert.deepEqual(
    h.sender.responses().map((r) => r.status),
    [481, 100, 200, 200],
  );
});

test('RFC 2543 (no magic cookie): retransmissions, CANCEL and ACK match by the old rules', () => {
  const h = setup();
  h.user.onNewRequest = (tx) => {
    if (tx.request.method === 'CANCEL') answerCancel(h.layer, tx);
  };
  const invite = request({ branch: 'legacy1', cseq: 9 });
  h.layer.receive(inbound(invite));
  h.layer.receive(inbound(request({ branch: 'legacy1', cseq: 9 })));
  assert.equal(h.user.requests.length, 1, 'identical legacy INVITE: a retransmission');
  h.layer.receive(inbound(request({ branch: 'legacy1', cseq: 9, fromTag: 'other' })));
  assert.equal(h.user.requests.length, 2, 'another From tag: another transaction');
  const inviteTx = h.user.requests[0]!;

  h.layer.receive(inbound(createCancel(invite)));
  assert.equal(inviteTx.state, TransactionState.Completed, '487 sent');
  // An ACK with another To tag than the 487's does not match …
  h.layer.receive(
    inbound(request({ method: 'ACK', branch: 'legacy1', cseq: 9, toTag: 'someone-else' })),
  );
  assert.equal(h.user.acks.length, 1);
  assert.equal(inviteTx.state, TransactionState.Completed);
  // … the one with the 487's To tag does.
  h.layer.receive(
    inbound(request({ method: 'ACK', branch: 'legacy1', cseq: 9, toTag: 'uas-tag' })),
  );
  assert.equal(inviteTx.state, TransactionState.Confirmed);
  assert.equal(h.user.acks.length, 1);
  // Once Timer I has ended the transaction, the same ACK matches nothing.
  h.clock.advance(5000);
  assert.equal(inviteTx.state, TransactionState.Terminated);
  h.layer.receive(
    inbound(request({ method: 'ACK', branch: 'legacy1', cseq: 9, toTag: 'uas-tag' })),
  );
  assert.equal(h.user.acks.length, 2);
});

test('RFC 2543 and RFC 3261 keys never cross', () => {
  const h = setup();
  const legacy = request({ branch: 'plain', cseq: 3 });
  h.layer.receive(inbound(legacy));
  const cookieCancel = request({ method: 'CANCEL', branch: 'z9hG4bKplain', cseq: 3 });
  assert.equal(h.layer.findInviteForCancel(cookieCancel), undefined);
  const modern = request({ branch: 'z9hG4bKmodern', cseq: 4 });
  h.layer.receive(inbound(modern));
  const legacyCancel = request({ method: 'CANCEL', branch: 'z9hG4bKmodern'.slice(7), cseq: 4 });
  assert.equal(h.layer.findInviteForCancel(legacyCancel), undefined);
  assert.equal(h.layer.findInviteForCancel(createCancel(modern)), h.user.requests[1]);
});

test('§17.1.3: responses match by top Via branch + CSeq method; others are stray', () => {
  const h = setup();
  const inviteTu = new RecordingClientUser();
  const cancelTu = new RecordingClientUser();
  const invite = request({ branch: 'z9hG4bKout' });
  const inviteTx = h.layer.sendRequest(invite, PEER, inviteTu);
  h.layer.receive(inbound(response(invite, 180)));
  const cancel = createCancel(invite);
  const cancelTx = h.layer.sendRequest(cancel, PEER, cancelTu);
  assert.equal(h.layer.counts().client, 2, 'CANCEL shares the branch, not the transaction');
  h.layer.receive(inbound(response(cancel, 200)));
  h.layer.receive(inbound(response(invite, 487)));
  assert.deepEqual(
    cancelTu.responses.map((r) => r.status),
    [200],
  );
  assert.deepEqual(
    inviteTu.responses.map((r) => r.status),
    [180, 487],
  );
  assert.equal(cancelTx.state, TransactionState.Completed);
  assert.equal(inviteTx.state, TransactionState.Completed);

  h.layer.receive(inbound(response(request({ branch: 'z9hG4bKunknown' }), 200)));
  const wrongMethod = response(invite, 200);
  wrongMethod.set('CSeq', '1 BYE');
  h.layer.receive(inbound(wrongMethod));
  assert.equal(h.user.stray.length, 2);
});

test('messages that cannot be matched go to onMalformed', () => {
  const h = setup();
  h.layer.receive(
    inbound(new SipRequest('OPTIONS', 'sip:x@127.0.0.1', [{ name: 'CSeq', value: '1 OPTIONS' }])),
  );
  const badCseq = response(request(), 200);
  badCseq.set('CSeq', 'one INVITE');
  h.layer.receive(inbound(badCseq));
  const legacyNoCallId = request({ branch: 'legacy' });
  legacyNoCallId.remove('Call-ID');
  h.layer.receive(inbound(legacyNoCallId));
  assert.deepEqual(
    h.user.malformed.map((e) => e.code),
    [SipErrorCode.MissingHeader, SipErrorCode.BadHeaderValue, SipErrorCode.MissingHeader],
  );
  assert.equal(h.user.requests.length, 0);
  assert.deepEqual(h.layer.counts(), { client: 0, server: 0 });
});

test('sendRequest refuses ACK, non-RFC 3261 branches, duplicates and a closed layer', () => {
  const h = setup();
  const tu = new RecordingClientUser();
  assert.throws(
    () => h.layer.sendRequest(request({ method: 'ACK' }), PEER, tu),
    (e: { code?: string }) => e.code === TransactionErrorCode.BadRequest,
  );
  assert.throws(
    () => h.layer.sendRequest(request({ branch: 'old-style' }), PEER, tu),
    (e: { code?: string }) => e.code === TransactionErrorCode.BadRequest,
  );
  assert.throws(
    () => h.layer.sendRequest(new SipRequest('OPTIONS', 'sip:x@127.0.0.1', []), PEER, tu),
    (e: { code?: string }) => e.code === TransactionErrorCode.BadRequest,
  );
  h.layer.sendRequest(request({ branch: 'z9hG4bKdup' }), PEER, tu);
  assert.throws(
    () => h.layer.sendRequest(request({ branch: 'z9hG4bKdup' }), PEER, tu),
    (e: { code?: string }) => e.code === TransactionErrorCode.Duplicate,
  );
  h.layer.close();
  assert.throws(
    () => h.layer.sendRequest(request({ branch: 'z9hG4bKlate' }), PEER, tu),
    (e: { code?: string }) => e.code === TransactionErrorCode.Closed,
  );
});

test('close() clears every timer and silences every transaction', () => {
  const h = setup();
  const tu = new RecordingClientUser();
  h.layer.sendRequest(request({ branch: 'z9hG4bKc1' }), PEER, tu);
  h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKc2' }), PEER, tu);
  const invite = request({ branch: 'z9hG4bKs1' });
  h.layer.receive(inbound(invite));
  h.user.requests[0]!.respond(response(invite, 486));
  assert.ok(h.clock.pending > 0);
  const sent = h.sender.sent.length;
  h.layer.close();
  assert.ok(idle(h.layer, h.clock));
  h.clock.advance(100_000);
  assert.equal(h.sender.sent.length, sent);
  assert.equal(tu.timeouts, 0);
  assert.equal(tu.terminated, 0);
  h.layer.receive(inbound(request({ branch: 'z9hG4bKafter' })));
  assert.equal(h.user.requests.length, 1, 'receive() after close() is ignored');
});

test('a send that throws synchronously is reported as a transport error', async () => {
  const h = setup();
  h.sender.send = () => {
    throw new Error('cannot serialise');
  };
  const tu = new RecordingClientUser();
  const tx = h.layer.sendRequest(request({ method: 'OPTIONS' }), PEER, tu);
  await flush();
  assert.equal(tu.transportErrors[0]?.code, TransactionErrorCode.Transport);
  assert.match(tu.transportErrors[0]!.message, /cannot serialise/);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(h.layer, h.clock));
});

test('timer settings: RFC defaults, and values that break the schedule are refused', () => {
  assert.deepEqual(resolveTimers(), { t1: 500, t2: 4000, t4: 5000, timerD: 32000, tryingDelay: 0 });
  assert.equal(setup({ t1: 20 }).layer.config.t1, 20);
  assert.throws(() => resolveTimers({ t1: 0 }), RangeError);
  assert.throws(() => resolveTimers({ t1: 500, t2: 100 }), RangeError);
  assert.throws(() => resolveTimers({ t4: -1 }), RangeError);
  assert.throws(() => resolveTimers({ tryingDelay: Number.NaN }), RangeError);
});
