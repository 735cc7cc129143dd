import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
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

const register = () => request({ method: 'REGISTER', uri: 'sip:127.0.0.1' });

test('UDP: Timer E doubles up to T2, Timer F times out at 64*T1', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const tx = layer.sendRequest(register(), PEER, tu);
  assert.equal(tx.state, TransactionState.Trying);
  clock.advanceTo(31_999);
  // intervals 500, 1000, 2000, 4000, then T2 = 4000 each time
  assert.deepEqual(
    sender.times(),
    [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
  );
  assert.equal(tu.timeouts, 0);
  clock.advanceTo(32_000);
  assert.equal(tu.timeouts, 1);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(layer, clock));
});

test('T1 and T2 are configurable', () => {
  const { clock, sender, layer } = setup({ t1: 100, t2: 300 });
  const tu = new RecordingClientUser();
  layer.sendRequest(register(), PEER, tu);
  clock.advanceTo(1000);
  assert.deepEqual(sender.times(), [0, 100, 300, 600, 900]);
  clock.advanceTo(6400);
  assert.equal(tu.timeouts, 1, 'F = 64*T1');
});

test('1xx: Proceeding, passed up, Timer E continues at T2', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = register();
  const tx = layer.sendRequest(req, PEER, tu);
  clock.advanceTo(600); // first retransmission at 500; E next due at 1500
  layer.receive(inbound(response(req, 100)));
  assert.equal(tx.state, TransactionState.Proceeding);
  assert.equal(tu.responses.length, 1);
  clock.advanceTo(10_000);
  assert.deepEqual(sender.times(), [0, 500, 1500, 5500, 9500]);
  layer.receive(inbound(response(req, 180)));
  assert.equal(tu.responses.length, 2);
  clock.advanceTo(32_000);
  assert.equal(tu.timeouts, 1, 'Timer F fires in Proceeding too');
  assert.ok(idle(layer, clock));
});

test('final response: Completed, passed up once, retransmissions absorbed, Timer K = T4', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = register();
  const tx = layer.sendRequest(req, PEER, tu);
  clock.advanceTo(700);
  const ok = response(req, 200);
  layer.receive(inbound(ok));
  assert.equal(tx.state, TransactionState.Completed);
  layer.receive(inbound(ok));
  layer.receive(inbound(response(req, 100)));
  assert.deepEqual(
    tu.responses.map((r) => r.status),
    [200],
  );
  clock.advanceTo(700 + 5000 - 1);
  assert.equal(tx.state, TransactionState.Completed);
  assert.deepEqual(sender.times(), [0, 500], 'no retransmission in Completed');
  clock.advanceTo(700 + 5000);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.equal(tu.timeouts, 0);
  assert.ok(idle(layer, clock));
});

test('TCP: no retransmission; a final response terminates at once (K = 0)', () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const req = register();
  const tx = layer.sendRequest(req, { ...PEER, protocol: 'tcp' }, tu);
  clock.advanceTo(20_000);
  assert.equal(sender.sent.length, 1);
  layer.receive(inbound(response(req, 401), 'tcp'));
  assert.equal(tu.responses.length, 1);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(layer, clock));
});

test('transport error on a retransmission: reported, terminated', async () => {
  const { clock, sender, layer } = setup();
  const tu = new RecordingClientUser();
  const tx = layer.sendRequest(register(), PEER, tu);
  sender.fail = true;
  clock.advanceTo(500);
  await flush();
  assert.equal(tu.transportErrors[0]?.code, TransactionErrorCode.Transport);
  assert.equal(tx.state, TransactionState.Terminated);
  assert.ok(idle(layer, clock));
});

test('property: any response schedule ends Terminated, within the send budget, with no timer left', () => {
  // Events: advance the clock, or deliver a response of a given status.
  const event = fc.oneof(
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 9000 }) }),
    fc.record({
      kind: fc.constant('response' as const),
      status: fc.constantFrom(100, 180, 200, 404, 503),
    }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 30 }), fc.boolean(), (events, tcp) => {
      const { clock, sender, layer } = setup();
      const tu = new RecordingClientUser();
      const req = register();
      const tx = layer.sendRequest(req, { ...PEER, protocol: tcp ? 'tcp' : 'udp' }, tu);
      let finals = 0;
      for (const e of events) {
        if (e.kind === 'wait') clock.advance(e.ms);
        else {
          const before = tx.state;
          layer.receive(inbound(response(req, e.status), tcp ? 'tcp' : 'udp'));
          if (
            e.status >= 200 &&
            (before === TransactionState.Trying || before === TransactionState.Proceeding)
          )
            finals++;
        }
      }
      clock.advance(64 * 500 + 5000);
      assert.equal(tx.state, TransactionState.Terminated);
      assert.ok(idle(layer, clock));
      // At most one final response reaches the TU, and a timeout only without one.
      const upFinals = tu.responses.filter((r) => r.status >= 200).length;
      assert.equal(upFinals, finals);
      assert.ok(upFinals <= 1);
      assert.equal(tu.timeouts, upFinals === 0 ? 1 : 0);
      assert.equal(tu.terminated, 1);
      // 11 copies at most over UDP within 64*T1, 1 over TCP.
      assert.ok(sender.sent.length <= (tcp ? 1 : 11));
    }),
    { numRuns: 200 },
  );
});
