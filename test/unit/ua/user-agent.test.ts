/**
 * The built-in user agent on 127.0.0.1 against a scripted peer (FakePeer:
 * the node, a proxy or the other phone) and against another UserAgent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import {
  generateBranch,
  getCSeq,
  getRoutes,
  getTo,
  makeResponse,
} from '../../../src/sip/message/index.js';
import { SipRequest, type SipResponse } from '../../../src/sip/message/message.js';
import {
  type CallEnded,
  type CallEvent,
  type IncomingMessage,
  UserAgent,
  type UserAgentOptions,
} from '../../../src/ua/user-agent.js';
import { FakePeer } from './fake-peer.js';

const RR = ['<sip:127.0.0.1:5999;lr;r=a>', '<sip:node-b.invalid;transport=tunnel;lr>'];

async function setup(
  t: TestContext,
  opts: Partial<UserAgentOptions> = {},
): Promise<{ peer: FakePeer; ua: UserAgent }> {
  const peer = await FakePeer.open();
  const ua = await UserAgent.open({
    aor: 'bob@example.org',
    node: { host: '127.0.0.1', port: peer.port },
    ...opts,
  });
  t.after(async () => {
    await ua.close();
    await peer.close();
  });
  return { peer, ua };
}

/** `p`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects a UA's events in order. */
function record(ua: UserAgent): string[] {
  const log: string[] = [];
  ua.on('incoming-call', (e) => log.push(`incoming-call ${e.role} ${e.peer}`));
  ua.on('established', (e: CallEvent) => log.push(`established ${e.role} ${e.peer}`));
  ua.on('ended', (e: CallEnded) => log.push(`ended ${e.role} ${e.by} ${e.reason}`));
  ua.on('message', (e: IncomingMessage) => log.push(`message ${e.from} ${e.text}`));
  return log;
}

/** A request from alice as the fake peer (a proxy in front of alice's phone) sends it to the UA. */
function fromAlice(
  peer: FakePeer,
  ua: UserAgent,
  method: string,
  o: { callId: string; cseq?: number; toTag?: string; branch?: string; rr?: string[] },
): SipRequest {
  const req = new SipRequest(method, `sip:bob@127.0.0.1:${ua.local.port}`);
  req.append('Via', `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${o.branch ?? generateBranch()}`);
  req.append('Max-Forwards', '70');
  for (const r of o.rr ?? []) req.append('Record-Route', r);
  req.append('From', '<sip:alice@example.org>;tag=alice-tag');
  req.append('To', `<sip:bob@example.org>${o.toTag ? `;tag=${o.toTag}` : ''}`);
  req.append('Call-ID', o.callId);
  req.append('CSeq', `${o.cseq ?? 1} ${method === 'CANCEL' ? 'CANCEL' : method}`);
  req.append('Contact', `<sip:alice@127.0.0.1:${peer.port}>`);
  return req;
}

test('register() binds our UDP address; unregister() reuses the Call-ID with a higher CSeq and Expires 0', async (t) => {
  const { peer, ua } = await setup(t);
  const pending = ua.register(300);
  const reg = await peer.request('REGISTER');
  assert.equal(reg.uri, 'sip:example.org');
  assert.equal(reg.get('Contact'), `<sip:bob@127.0.0.1:${ua.local.port}>`);
  assert.equal(reg.get('Expires'), '300');
  assert.match(reg.get('To') ?? '', /^<sip:bob@example\.org>$/);
  assert.match(reg.get('From') ?? '', /^<sip:bob@example\.org>;tag=/);
  peer.send(makeResponse(reg, 200, 'OK'));
  assert.equal((await pending).final?.status, 200);

  const leaving = ua.unregister();
  const unreg = await peer.request('REGISTER', 2);
  assert.equal(unreg.get('Call-ID'), reg.get('Call-ID'));
  assert.equal(getCSeq(unreg).seq, getCSeq(reg).seq + 1);
  assert.equal(unreg.get('Expires'), '0');
  assert.equal(unreg.get('Contact'), reg.get('Contact'));
  peer.send(makeResponse(unreg, 200, 'OK'));
  assert.equal((await leaving).final?.status, 200);
  assert.throws(() => ua.register(-1), RangeError);
});

test('UA to UA: a MESSAGE is answered 200 and reported with its bytes and text', async (t) => {
  const { ua: bob } = await setup(t);
  const alice = await UserAgent.open({ aor: 'alice@example.org', node: bob.local });
  t.after(() => alice.close());
  const got = once(bob, 'message') as Promise<[IncomingMessage]>;
  const out = await alice.message('bob@example.org', 'grüezi bob');
  assert.equal(out.final?.status, 200);
  const [msg] = await got;
  assert.equal(msg.from, 'alice@example.org');
  assert.equal(msg.text, 'grüezi bob');
  assert.deepEqual(Buffer.from(msg.body), Buffer.from('grüezi bob', 'utf8'));
  assert.match(msg.contentType ?? '', /^text\/plain/);
});

test('UA to UA: an auto-answered call rings, is established on both sides and ends with BYE 200', async (t) => {
  const { ua: bob } = await setup(t, { autoAnswer: true });
  const alice = await UserAgent.open({ aor: 'alice@example.org', node: bob.local });
  t.after(() => alice.close());
  const bobLog = record(bob);
  const aliceLog = record(alice);
  const bobEnded = once(bob, 'ended');
  const out = await alice.call('bob@example.org', 0);
  await bobEnded;
  assert.deepEqual(
    out.invite.responses.map((r) => r.status),
    [100, 180, 200],
  );
  assert.match(Buffer.from(out.invite.final?.body ?? []).toString(), /^v=0\r\n[\s\S]*m=audio /);
  assert.equal(out.bye?.final?.status, 200);
  assert.deepEqual(aliceLog, ['established caller bob@example.org', 'ended caller local hung up']);
  assert.deepEqual(bobLog, [
    'incoming-call callee alice@example.org',
    'established callee alice@example.org',
    'ended callee remote BYE',
  ]);
  assert.deepEqual(bob.calls, []);
  assert.deepEqual(alice.calls, []);
});

test('answering copies Record-Route into 180 and 200; our BYE follows that route set to the caller', async (t) => {
  const { peer, ua } = await setup(t, { autoAnswer: true });
  const log = record(ua);
  const invite = fromAlice(peer, ua, 'INVITE', { callId: 'rr-1', rr: RR });
  peer.send(invite, ua.local.port);
  const ringing = await peer.response(180, 'INVITE');
  const ok = await peer.response(200, 'INVITE');
  for (const res of [ringing, ok]) {
    assert.deepEqual(res.getLines('Record-Route'), RR, `${res.status} keeps Record-Route in order`);
    assert.equal(res.get('Contact'), `<sip:bob@127.0.0.1:${ua.local.port}>`);
  }
  const tag = getTo(ok).params.get('tag');
  assert.ok(tag);
  assert.equal(getTo(ringing).params.get('tag'), tag, 'one dialog: the same To tag');
  assert.equal(ok.get('Content-Type'), 'application/sdp');

  const established = once(ua, 'established');
  peer.send(fromAlice(peer, ua, 'ACK', { callId: 'rr-1', toTag: tag }), ua.local.port);
  await established;

  const hangup = ua.hangup('rr-1');
  const bye = await peer.request('BYE');
  assert.equal(bye.uri, `sip:alice@127.0.0.1:${peer.port}`, 'remote target = the INVITE Contact');
  assert.deepEqual(
    getRoutes(bye).map((r) => r.uri.host),
    ['127.0.0.1', 'node-b.invalid'],
    'Route = Record-Route in order (callee side)',
  );
  assert.match(bye.get('From') ?? '', new RegExp(`<sip:bob@example\\.org>;tag=${tag}$`));
  assert.match(bye.get('To') ?? '', /<sip:alice@example\.org>;tag=alice-tag$/);
  assert.equal(getCSeq(bye).seq, 1);
  peer.send(makeResponse(bye, 200, 'OK'));
  assert.equal((await hangup)?.final?.status, 200);
  assert.deepEqual(log, [
    'incoming-call callee alice@example.org',
    'established callee alice@example.org',
    'ended callee local hung up',
  ]);
});

test('the 200 is retransmitted until the ACK, through the INVITE server transaction', async (t) => {
  const { peer, ua } = await setup(t, { autoAnswer: true, t1: 20 });
  peer.send(fromAlice(peer, ua, 'INVITE', { callId: 'rtx-1' }), ua.local.port);
  const first = await peer.response(200, 'INVITE');
  const third = await peer.response(200, 'INVITE', 3);
  assert.equal(third.get('To'), first.get('To'), 'the same 200 again');
  const established = once(ua, 'established');
  peer.send(
    fromAlice(peer, ua, 'ACK', { callId: 'rtx-1', toTag: getTo(first).params.get('tag')! }),
    ua.local.port,
  );
  await established;
  assert.deepEqual(ua.calls, [{ callId: 'rtx-1', role: 'callee', peer: 'alice@example.org' }]);
});

test('without an ACK for 64*T1 the callee ends the call with a BYE', async (t) => {
  const { peer, ua } = await setup(t, { autoAnswer: true, t1: 10 });
  const ended = once(ua, 'ended') as Promise<[CallEnded]>;
  peer.send(fromAlice(peer, ua, 'INVITE', { callId: 'noack-1' }), ua.local.port);
  const bye = await peer.request('BYE');
  assert.equal(bye.get('Call-ID'), 'noack-1');
  const [e] = await ended;
  assert.equal(e.by, 'local');
  assert.match(e.reason, /no ACK/);
  peer.send(makeResponse(bye, 200, 'OK'));
});

test('CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE, the call ends', async (t) => {
  const { peer, ua } = await setup(t, { autoAnswer: true, ringMs: 60_000 });
  const ended = once(ua, 'ended') as Promise<[CallEnded]>;
  const branch = generateBranch();
  peer.send(fromAlice(peer, ua, 'INVITE', { callId: 'cancel-1', branch }), ua.local.port);
  await peer.response(180, 'INVITE');
  peer.send(fromAlice(peer, ua, 'CANCEL', { callId: 'cancel-1', branch }), ua.local.port);
  await peer.response(200, 'CANCEL');
  await peer.response(487, 'INVITE');
  const [e] = await ended;
  assert.deepEqual([e.by, e.reason], ['remote', 'CANCEL']);
  assert.equal(
    peer.received.some(
      (m) => m.kind === 'response' && m.status === 200 && m.get('CSeq')?.endsWith('INVITE'),
    ),
    false,
    'never answered 200',
  );
  assert.deepEqual(ua.calls, []);
});

test('a UA that does not answer: INVITE 486; BYE outside a dialog 481; OPTIONS 200 with Allow; SUBSCRIBE 405', async (t) => {
  const { peer, ua } = await setup(t);
  peer.send(fromAlice(peer, ua, 'INVITE', { callId: 'busy-1' }), ua.local.port);
  assert.match((await peer.response(486, 'INVITE')).reason, /does not answer/);
  peer.send(fromAlice(peer, ua, 'BYE', { callId: 'nodialog', toTag: 'x' }), ua.local.port);
  await peer.response(481, 'BYE');
  peer.send(fromAlice(peer, ua, 'OPTIONS', { callId: 'opt-1' }), ua.local.port);
  assert.match((await peer.response(200, 'OPTIONS')).get('Allow') ?? '', /INVITE.*MESSAGE/);
  peer.send(fromAlice(peer, ua, 'SUBSCRIBE', { callId: 'sub-1' }), ua.local.port);
  assert.match((await peer.response(405, 'SUBSCRIBE')).get('Allow') ?? '', /BYE/);
  assert.deepEqual(ua.calls, []);
});

/** The fake peer as bob's side: answers the UA's INVITE 180 + 200 with Record-Route and a Contact. */
async function answerInvite(peer: FakePeer): Promise<{ invite: SipRequest; ok: SipResponse }> {
  const invite = await peer.request('INVITE');
  const answer = (status: number) => {
    const res = makeResponse(invite, status, undefined, { toTag: 'bob-tag' });
    for (const r of RR) res.append('Record-Route', r);
    res.append('Contact', `<sip:bob@127.0.0.1:${peer.port}>`);
    return res;
  };
  peer.send(answer(180));
  const ok = answer(200);
  peer.send(ok);
  return { invite, ok };
}

test('caller: ACK and BYE go to the Contact along the reversed Record-Route; a repeated 200 gets the ACK again', async (t) => {
  const { peer, ua } = await setup(t);
  const calling = ua.call('bob@example.org', 0);
  const { invite, ok } = await answerInvite(peer);
  const ack = await peer.request('ACK');
  assert.equal(ack.uri, `sip:bob@127.0.0.1:${peer.port}`);
  assert.deepEqual(
    getRoutes(ack).map((r) => r.uri.host),
    ['node-b.invalid', '127.0.0.1'],
    'Route = Record-Route reversed (caller side)',
  );
  assert.equal(getCSeq(ack).seq, getCSeq(invite).seq, 'ACK carries the INVITE CSeq number');
  peer.send(ok); // as if the first 200 had been lost on its way
  const ack2 = await peer.request('ACK', 2);
  assert.equal(ack2.get('Call-ID'), invite.get('Call-ID'));
  const bye = await peer.request('BYE');
  assert.equal(getCSeq(bye).seq, getCSeq(invite).seq + 1);
  assert.deepEqual(getRoutes(bye), getRoutes(ack));
  peer.send(makeResponse(bye, 200, 'OK'));
  const out = await calling;
  assert.deepEqual(
    out.invite.responses.map((r) => r.status),
    [180, 200],
  );
  assert.equal(out.bye?.final?.status, 200);
});

test('caller: a BYE from the callee ends the hold early and is answered 200', async (t) => {
  const { peer, ua } = await setup(t);
  const ended = once(ua, 'ended') as Promise<[CallEnded]>;
  const calling = ua.call('bob@example.org', 600_000);
  const { invite } = await answerInvite(peer);
  await peer.request('ACK');
  const bye = new SipRequest('BYE', `sip:bob@127.0.0.1:${ua.local.port}`);
  bye.append('Via', `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${generateBranch()}`);
  bye.append('Max-Forwards', '70');
  bye.append('From', `<sip:bob@example.org>;tag=bob-tag`);
  bye.append('To', invite.get('From')!);
  bye.append('Call-ID', invite.get('Call-ID')!);
  bye.append('CSeq', '1 BYE');
  peer.send(bye);
  await peer.response(200, 'BYE');
  const [e] = await ended;
  assert.deepEqual([e.role, e.by, e.reason], ['caller', 'remote', 'BYE']);
  const out = await within(calling, 10_000, 'call() to return after the peer hung up');
  assert.equal(out.bye, undefined, 'no BYE of ours after the peer hung up');
  assert.equal(out.invite.final?.status, 200);
});
