/**
 * The transaction layer over real UDP on 127.0.0.1: src/net's TransportLayer
 * underneath, a raw node:dgram socket as the peer. Small T1 values keep it
 * quick; assertions are on the order and count of messages (and on the timer
 * values the layer asked for), never on wall-clock gaps.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { TransportLayer } from '../../../../src/net/transport-layer.js';
import { getCSeq, getVias } from '../../../../src/sip/message/accessors.js';
import type { SipMessage, SipRequest } from '../../../../src/sip/message/message.js';
import { parseMessage } from '../../../../src/sip/message/parse.js';
import { serializeMessage } from '../../../../src/sip/message/serialize.js';
import { createAck, createCancel } from '../../../../src/sip/transaction/ack-cancel.js';
import { systemTimers, type TimerApi } from '../../../../src/sip/transaction/timers.js';
import { TransactionState } from '../../../../src/sip/transaction/transaction.js';
import {
  TransactionLayer,
  type TransactionLayerOptions,
} from '../../../../src/sip/transaction/transaction-layer.js';
import { answerCancel, RecordingClientUser, RecordingUser, request, response } from './helpers.js';

/** Longest any single wait may take before the test fails (a bound, not an assertion on speed). */
const WAIT_MS = 10_000;
/** Per-test bound: a hung socket fails the test instead of the whole run. */
const BOUND = { timeout: 30_000 };

/** A bare UDP socket that speaks SIP by hand. */
class RawPeer {
  readonly socket: Socket;
  readonly inbox: { message: SipMessage; bytes: Buffer }[] = [];
  private seen = 0;
  private wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (bytes) => {
      this.inbox.push({ message: parseMessage(bytes), bytes });
      this.wake?.();
    });
  }

  static async bind(): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(message: SipMessage, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(serializeMessage(message), port, '127.0.0.1', (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** The next message (after those already taken) matching `pred`; fails after WAIT_MS. */
  async next(pred: (m: SipMessage) => boolean, what: string): Promise<SipMessage> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      while (this.seen < this.inbox.length) {
        const m = this.inbox[this.seen++]!.message;
        if (pred(m)) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`peer: no ${what} within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const isStatus = (status: number, method: string) => (m: SipMessage) =>
  m.kind === 'response' && m.status === status && getCSeq(m).method === method;
const isRequest = (method: string) => (m: SipMessage) =>
  m.kind === 'request' && m.method === method;

interface Rig {
  net: TransportLayer;
  layer: TransactionLayer;
  user: RecordingUser;
  peer: RawPeer;
  /** Every delay the layer asked its timers for, in order. */
  delays: number[];
}

/** Run `body` with a transport + transaction layer and a raw peer, all closed afterwards. */
async function withRig(
  settings: Omit<TransactionLayerOptions, 'sender' | 'user'>,
  body: (rig: Rig) => Promise<void>,
): Promise<void> {
  const net = await TransportLayer.listen({ host: '127.0.0.1', port: 0, tcp: false });
  let peer: RawPeer | undefined;
  let layer: TransactionLayer | undefined;
  try {
    peer = await RawPeer.bind();
    const delays: number[] = [];
    const timers: TimerApi = {
      setTimeout: (cb, ms) => {
        delays.push(ms);
        return systemTimers.setTimeout(cb, ms);
      },
      clearTimeout: (h) => systemTimers.clearTimeout(h),
    };
    const user = new RecordingUser();
    layer = new TransactionLayer({ timers, ...settings, sender: net, user });
    const l = layer;
    net.onMessage = (inbound) => l.receive(inbound);
    await body({ net, layer, user, peer, delays });
  } finally {
    layer?.close();
    await peer?.close();
    await net.close();
  }
}

/** A request from the peer to the layer, with the peer's own Via. */
function fromPeer(rig: Rig, method: string, branch: string, cseq = 1): SipRequest {
  return request({
    method,
    via: `SIP/2.0/UDP 127.0.0.1:${rig.peer.port};branch=${branch};rport`,
    uri: `sip:bob@127.0.0.1:${rig.net.port}`,
    cseq,
  });
}

/** A request from the layer to the peer, with the layer's Via. */
function toPeer(rig: Rig, method: string, branch: string): SipRequest {
  return request({
    method,
    via: `SIP/2.0/UDP 127.0.0.1:${rig.net.port};branch=${branch}`,
    uri: `sip:carol@127.0.0.1:${rig.peer.port}`,
  });
}

test(
  'UDP: a retransmitted INVITE is one transaction and gets the last response again',
  BOUND,
  async () => {
    await withRig({ t1: 50 }, async (rig) => {
      rig.user.onNewRequest = (tx) => tx.respond(response(tx.request, 180));
      const invite = fromPeer(rig, 'INVITE', 'z9hG4bKudp1');
      await rig.peer.send(invite, rig.net.port);
      await rig.peer.next(isStatus(100, 'INVITE'), '100 Trying');
      await rig.peer.next(isStatus(180, 'INVITE'), '180 Ringing');
      await rig.peer.send(invite, rig.net.port);
      const again = await rig.peer.next((m) => m.kind === 'response', 'a resent response');
      assert.equal(again.kind === 'response' && again.status, 180, 'the last provisional, not 100');
      assert.equal(rig.user.requests.length, 1);
      assert.deepEqual(rig.layer.counts(), { client: 0, server: 1 });
    });
  },
);

test(
  'UDP: dropped requests are retransmitted at T1, 2T1, 4T1 …; the answer stops them',
  BOUND,
  async () => {
    await withRig({ t1: 50 }, async (rig) => {
      const tu = new RecordingClientUser();
      const invite = toPeer(rig, 'INVITE', 'z9hG4bKudp2');
      const tx = rig.layer.sendRequest(
        invite,
        { protocol: 'udp', host: '127.0.0.1', port: rig.peer.port },
        tu,
      );
      // The peer drops three copies and answers the fourth.
      const copies: SipMessage[] = [];
      for (let i = 0; i < 4; i++)
        copies.push(await rig.peer.next(isRequest('INVITE'), `INVITE copy ${i + 1}`));
      const bytes = rig.peer.inbox
        .filter((e) => isRequest('INVITE')(e.message))
        .map((e) => e.bytes.toString());
      assert.ok(
        bytes.every((b) => b === bytes[0]),
        'every copy is the same request',
      );
      assert.equal(getVias(copies[3]!)[0]!.params.get('branch'), 'z9hG4bKudp2');
      await rig.peer.send(response(copies[3] as SipRequest, 486), rig.net.port);
      const ack = await rig.peer.next(isRequest('ACK'), 'ACK for the 486');
      assert.equal(getCSeq(ack).method, 'ACK');
      assert.deepEqual(
        tu.responses.map((r) => r.status),
        [486],
      );
      assert.equal(tx.state, TransactionState.Completed);
      // The timers the layer asked for: A doubling from T1, B = 64*T1, D = 32 s.
      const a = rig.delays.filter((ms) => ms !== 64 * 50 && ms !== 32_000);
      assert.deepEqual(a.slice(0, 3), [50, 100, 200]);
      for (let i = 1; i < a.length; i++) assert.equal(a[i], 2 * a[i - 1]!);
      assert.ok(rig.delays.includes(64 * 50) && rig.delays.includes(32_000));
    });
  },
);

test('UDP: a peer that never answers makes Timers B and F report a timeout', BOUND, async () => {
  await withRig({ t1: 10, t2: 40 }, async (rig) => {
    const dest = { protocol: 'udp' as const, host: '127.0.0.1', port: rig.peer.port };
    const timedOut: string[] = [];
    let done: () => void = () => {};
    const bothDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tu = (name: string) => {
      const u = new RecordingClientUser();
      u.onTimeout = () => {
        timedOut.push(name);
        if (timedOut.length === 2) done();
      };
      return u;
    };
    const inviteTu = tu('INVITE (B)');
    const optionsTu = tu('OPTIONS (F)');
    rig.layer.sendRequest(toPeer(rig, 'INVITE', 'z9hG4bKudp3'), dest, inviteTu);
    rig.layer.sendRequest(toPeer(rig, 'OPTIONS', 'z9hG4bKudp4'), dest, optionsTu);
    let guard: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      bothDone,
      new Promise((_, reject) => {
        guard = setTimeout(() => reject(new Error('no timeout reported')), WAIT_MS);
      }),
    ]);
    clearTimeout(guard);
    assert.deepEqual(timedOut.sort(), ['INVITE (B)', 'OPTIONS (F)']);
    assert.deepEqual(rig.layer.counts(), { client: 0, server: 0 });
    const count = (m: string) => rig.peer.inbox.filter((e) => isRequest(m)(e.message)).length;
    assert.ok(count('INVITE') >= 2, 'the INVITE was retransmitted before Timer B');
    assert.ok(count('OPTIONS') >= 2, 'the OPTIONS was retransmitted before Timer F');
    assert.equal(count('ACK'), 0, 'no ACK on timeout');
  });
});

test(
  'UDP: CANCEL finds its INVITE; 487 for the INVITE, 200 for the CANCEL, ACK absorbed',
  BOUND,
  async () => {
    await withRig({ t1: 50 }, async (rig) => {
      rig.user.onNewRequest = (tx) => {
        if (tx.request.method === 'CANCEL') answerCancel(rig.layer, tx);
      };
      const invite = fromPeer(rig, 'INVITE', 'z9hG4bKudp5', 3);
      await rig.peer.send(invite, rig.net.port);
      await rig.peer.next(isStatus(100, 'INVITE'), '100 Trying');
      await rig.peer.send(createCancel(invite), rig.net.port);
      const ok = await rig.peer.next(isStatus(200, 'CANCEL'), '200 for the CANCEL');
      assert.equal(getCSeq(ok).seq, 3);
      const terminated = await rig.peer.next(isStatus(487, 'INVITE'), '487 for the INVITE');
      assert.ok(terminated.kind === 'response');
      const inviteTx = rig.user.requests.find((t) => t.request.method === 'INVITE')!;
      assert.equal(rig.layer.findInviteForCancel(createCancel(invite)), inviteTx);
      await rig.peer.send(createAck(invite, terminated), rig.net.port);
      // Wait until the ACK has been processed: the transaction leaves Completed.
      for (let i = 0; i < 200 && inviteTx.state === TransactionState.Completed; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(inviteTx.state, TransactionState.Confirmed);
      assert.equal(rig.user.acks.length, 0, 'the ACK for the 487 is absorbed');
      assert.equal(rig.user.requests.length, 2, 'one INVITE and one CANCEL transaction');
    });
  },
);
