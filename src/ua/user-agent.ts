/**
 * A small SIP user agent for scripts and the demo: it speaks to the local
 * node exactly like a softphone would (UDP from an ephemeral port), so
 * `p2psip message`, `p2psip call` and `p2psip demo` exercise the same path
 * baresip does. Signalling only: calls carry an SDP body but no media.
 *
 * Both ends of a call:
 *   - as caller: `message()`, `call()` (INVITE, ACK, hold, BYE), `hangup()`;
 *   - as softphone: `register()` / `unregister()` to the node, and with
 *     `autoAnswer` it answers an INVITE 180 then 200 (RFC 3261 §13.3), keeps
 *     retransmitting the 200 until the ACK (§13.3.1.4), answers BYE 200
 *     (§15.1.2) and MESSAGE 200 (RFC 3428 §7).
 * Every request it receives is answered through its transaction layer (the
 * server transaction sends, absorbs and resends), never on the socket.
 * What happens is reported as events: 'message', 'incoming-call',
 * 'established', 'ended'.
 */
import { EventEmitter } from 'node:events';
import { TransportLayer } from '../net/transport-layer.js';
import { SipError } from '../sip/errors.js';
import {
  formatVia,
  generateBranch,
  generateTag,
  getCallId,
  getFrom,
  makeResponse,
} from '../sip/message/index.js';
import { SipRequest, type SipResponse } from '../sip/message/message.js';
import type { ServerTransaction } from '../sip/transaction/transaction.js';
import { TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { TransportAddress } from '../sip/transport.js';
import {
  addressOf,
  type Dialog,
  type DialogRole,
  dialogAsCallee,
  dialogAsCaller,
  inDialog,
  inDialogRequest,
} from './dialog.js';
import { sdpBody } from './sdp.js';

export interface UserAgentOptions {
  /** The AOR we send as (the node's own). */
  aor: string;
  /** The node's SIP address. */
  node: { host: string; port: number };
  /** Timer T1 in ms (default 500). */
  t1?: number;
  /**
   * Answer incoming calls: 180 Ringing, then (after `ringMs`) 200 OK with an
   * SDP answer. Without it an INVITE gets 486 Busy Here.
   */
  autoAnswer?: boolean;
  /** Milliseconds between 180 and 200 when auto-answering (default 0). */
  ringMs?: number;
}

export interface Progress {
  status: number;
  reason: string;
  /** Milliseconds since the request was sent. */
  ms: number;
}

/** One outgoing request's outcome: every response in order, the final last. */
export interface Outcome {
  responses: Progress[];
  final: SipResponse | undefined;
  timedOut: boolean;
}

/** A MESSAGE we received (and answered 200). */
export interface IncomingMessage {
  /** The sender's AOR from the From header, as the sender's node checked it. */
  from: string;
  callId: string;
  contentType: string | undefined;
  body: Uint8Array;
  /** The body as UTF-8 text (invalid sequences replaced). */
  text: string;
  request: SipRequest;
}

export interface CallEvent {
  callId: string;
  role: DialogRole;
  /** The other party's AOR. */
  peer: string;
}

export interface CallEnded extends CallEvent {
  /** Who ended it: we (BYE sent, or no ACK came) or the peer (BYE or CANCEL received). */
  by: 'local' | 'remote';
  reason: string;
}

export interface UserAgentEvents {
  message: [IncomingMessage];
  /** An INVITE arrived and is being answered (after the 180 went out). */
  'incoming-call': [CallEvent & { request: SipRequest }];
  /** Caller: ACK sent for the 200. Callee: ACK received for our 200. */
  established: [CallEvent];
  ended: [CallEnded];
}

/** The methods this UA answers (Allow, RFC 3261 §20.5). */
const ALLOW = 'INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS';

interface Call {
  dialog: Dialog;
  /** Callee: ringing → answered (200 sent) → established (ACK in). Caller: established. */
  state: 'ringing' | 'answered' | 'established';
  /** Callee: the INVITE's server transaction and our 200 (resent until the ACK). */
  invite?: ServerTransaction;
  ok?: SipResponse;
  /** Caller: the ACK, resent when the 200 is retransmitted. */
  ack?: SipRequest;
  timer?: NodeJS.Timeout;
  /** Called once when the call ends (wakes a holding `call()`). */
  onEnd?: () => void;
}

export class UserAgent extends EventEmitter<UserAgentEvents> {
  readonly #o: UserAgentOptions;
  readonly #transport: TransportLayer;
  readonly #transactions: TransactionLayer;
  readonly #dest: TransportAddress;
  readonly #calls = new Map<string, Call>();
  /** RFC 3261 §10.2: one Call-ID for every REGISTER to this registrar, CSeq rising. */
  readonly #registerCallId = `reg-${generateTag()}`;
  #registerSeq = 0;
  #closed = false;
  /** Every request we receive, after it has been answered (kept for scripts). */
  onIncoming: ((req: SipRequest) => void) | undefined;

  private constructor(o: UserAgentOptions, transport: TransportLayer) {
    super();
    this.#o = o;
    this.#transport = transport;
    this.#dest = { protocol: 'udp', host: o.node.host, port: o.node.port };
    this.#transactions = new TransactionLayer({
      sender: transport,
      ...(o.t1 ? { t1: o.t1 } : {}),
      user: {
        onRequest: (tx) => {
          this.#onRequest(tx);
          this.onIncoming?.(tx.request);
        },
        onAck: (inbound) => {
          if (inbound.message.kind === 'request') this.#onAck(inbound.message);
        },
      },
    });
    transport.onMessage = (inbound) => this.#transactions.receive(inbound);
  }

  static async open(o: UserAgentOptions): Promise<UserAgent> {
    const host = o.node.host.includes(':') ? '::1' : '127.0.0.1';
    const transport = await TransportLayer.listen({ host, port: 0, tcp: false });
    return new UserAgent(o, transport);
  }

  get local(): TransportAddress {
    return this.#transport.address('udp');
  }

  /** Calls in progress, by Call-ID (for scripts and tests). */
  get calls(): CallEvent[] {
    return [...this.#calls.values()].map((c) => callEvent(c.dialog));
  }

  /** Stops every timer and the socket. Calls still up are dropped without BYE. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const call of this.#calls.values()) {
      clearTimeout(call.timer);
      call.onEnd?.();
    }
    this.#calls.clear();
    this.#transactions.close();
    await this.#transport.close();
  }

  /**
   * REGISTERs our UDP address as the contact for our AOR at the node
   * (RFC 3261 §10.2) for `expiresSeconds`; 0 removes the binding. No
   * automatic refresh: call again before it lapses.
   */
  register(expiresSeconds = 3600): Promise<Outcome> {
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 0)
      throw new RangeError(`expiresSeconds must be an integer >= 0, got ${expiresSeconds}`);
    const aor = this.#o.aor;
    const req = this.#request(
      'REGISTER',
      `sip:${aor.slice(aor.lastIndexOf('@') + 1)}`,
      `<sip:${aor}>`,
      generateTag(),
      this.#registerCallId,
      ++this.#registerSeq,
    );
    req.append('Expires', String(expiresSeconds));
    return this.#send(req, () => {});
  }

  /** Removes our binding at the node (REGISTER with Expires: 0). */
  unregister(): Promise<Outcome> {
    return this.register(0);
  }

  /** Sends a MESSAGE (RFC 3428) with a text/plain body. */
  message(to: string, text: string): Promise<Outcome> {
    const req = this.#request(
      'MESSAGE',
      `sip:${to}`,
      `<sip:${to}>`,
      generateTag(),
      `msg-${generateTag()}`,
    );
    req.append('Content-Type', 'text/plain;charset=utf-8');
    req.body = Buffer.from(text, 'utf8');
    return this.#send(req, () => {});
  }

  /**
   * Calls `to`, waits for an answer, holds the call `holdMs` (less if the peer
   * hangs up first), hangs up. `onProgress` sees every response to the INVITE
   * as it arrives. `bye` is absent when the call was not answered or the peer
   * ended it.
   */
  async call(
    to: string,
    holdMs: number,
    onProgress: (p: Progress) => void = () => {},
  ): Promise<{ invite: Outcome; bye?: Outcome }> {
    const invite = this.#request(
      'INVITE',
      `sip:${to}`,
      `<sip:${to}>`,
      generateTag(),
      `call-${generateTag()}`,
    );
    invite.append('Content-Type', 'application/sdp');
    invite.body = Buffer.from(sdpBody(this.local.host, 'p2psip call'));
    let call: Call | undefined;
    const outcome = await this.#send(invite, onProgress, (late) => {
      // RFC 3261 §13.2.2.4: a retransmitted 2xx is answered with the same ACK.
      if (late.status < 300 && call?.ack) this.#sendAck(call.ack);
    });
    const ok = outcome.final;
    if (!ok || ok.status >= 300 || this.#closed) return { invite: outcome };
    const dialog = dialogAsCaller(invite, ok);
    call = { dialog, state: 'established', ack: inDialogRequest(dialog, 'ACK', this.#via()) };
    this.#calls.set(dialog.callId, call);
    this.#sendAck(call.ack!);
    this.emit('established', callEvent(dialog));
    const held = call;
    if (this.#calls.get(dialog.callId) !== held) return { invite: outcome }; // ended by a listener
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, holdMs);
      held.onEnd = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.#calls.get(dialog.callId) !== held) return { invite: outcome };
    return { invite: outcome, bye: await this.#bye(held, 'hung up') };
  }

  /**
   * Ends call `callId`: BYE when it is answered (either role), 603 Decline
   * when it is still ringing here. Resolves to the BYE's outcome, or
   * undefined when there was nothing to send a BYE for.
   */
  async hangup(callId: string): Promise<Outcome | undefined> {
    const call = this.#calls.get(callId);
    if (!call) return undefined;
    if (call.state === 'ringing') {
      call.invite?.respond(makeResponse(call.invite.request, 603, 'Decline'));
      this.#end(call, 'local', 'declined');
      return undefined;
    }
    return this.#bye(call, 'hung up');
  }

  // --- requests we receive -------------------------------------------------

  #onRequest(tx: ServerTransaction): void {
    const req = tx.request;
    try {
      switch (req.method) {
        case 'INVITE':
          this.#onInvite(tx);
          break;
        case 'BYE':
          this.#onBye(tx);
          break;
        case 'CANCEL':
          this.#onCancel(tx);
          break;
        case 'MESSAGE':
          this.#onMessage(tx);
          break;
        case 'OPTIONS':
          tx.respond(makeResponse(req, 200, 'OK', { headers: [{ name: 'Allow', value: ALLOW }] }));
          break;
        default:
          // RFC 3261 §8.2.1: a method we do not support → 405 with Allow.
          tx.respond(
            makeResponse(req, 405, 'Method Not Allowed', {
              headers: [{ name: 'Allow', value: ALLOW }],
            }),
          );
      }
    } catch (err) {
      // A header we needed did not parse: the request is bad, not our state.
      if (!(err instanceof SipError)) throw err;
      tx.respond(makeResponse(req, 400, `Bad Request (${errorText(err)})`));
    }
  }

  #onInvite(tx: ServerTransaction): void {
    const req = tx.request;
    const callId = getCallId(req);
    const existing = this.#calls.get(callId);
    if (existing) {
      // A re-INVITE: we have no session to change (RFC 3261 §14.2: 488, the call goes on).
      tx.respond(
        inDialog(existing.dialog, req)
          ? makeResponse(req, 488, 'Not Acceptable Here (no session changes)')
          : makeResponse(req, 481),
      );
      return;
    }
    if (!this.#o.autoAnswer) {
      tx.respond(makeResponse(req, 486, 'Busy Here (this user agent does not answer calls)'));
      return;
    }
    const dialog = dialogAsCallee(req, generateTag());
    const call: Call = { dialog, state: 'ringing', invite: tx };
    this.#calls.set(callId, call);
    tx.respond(this.#answer(req, dialog, 180, 'Ringing'));
    this.emit('incoming-call', { ...callEvent(dialog), request: req });
    const ringMs = this.#o.ringMs ?? 0;
    if (ringMs > 0) call.timer = setTimeout(() => this.#accept(call), ringMs);
    else this.#accept(call);
  }

  /** Sends the 200 and keeps resending it until the ACK (RFC 3261 §13.3.1.4). */
  #accept(call: Call): void {
    if (call.state !== 'ringing' || !call.invite || this.#closed) return;
    const req = call.invite.request;
    const ok = this.#answer(req, call.dialog, 200, 'OK');
    ok.append('Content-Type', 'application/sdp');
    ok.body = Buffer.from(sdpBody(this.local.host, 'p2psip answer'));
    call.ok = ok;
    call.state = 'answered';
    call.invite.respond(ok);
    // "The 2xx response is passed to the transport with an interval that
    // starts at T1 seconds and doubles for each retransmission until it
    // reaches T2 seconds. Response retransmissions cease when an ACK request
    // for the response is received." "If the server retransmits the 2xx
    // response for 64*T1 seconds without receiving an ACK, the dialog is
    // confirmed, but the session SHOULD be terminated. This is accomplished
    // with a BYE".
    const { t1, t2 } = this.#transactions.config;
    const resend = (interval: number, elapsed: number) => {
      const wait = Math.min(interval, 64 * t1 - elapsed);
      call.timer = setTimeout(() => {
        if (call.state !== 'answered') return;
        if (elapsed + wait >= 64 * t1) {
          void this.#bye(call, 'no ACK for our 200 OK');
          return;
        }
        call.invite?.respond(ok);
        resend(Math.min(2 * interval, t2), elapsed + wait);
      }, wait);
    };
    resend(t1, 0);
  }

  /**
   * A 1xx/2xx to an INVITE that set up `dialog`: our To tag, our Contact, and
   * the Record-Route copied (RFC 3261 §12.1.1: "The UAS MUST copy all
   * Record-Route header field values from the request into the response
   * (including the URIs, URI parameters, and any Record-Route header field
   * parameters, whether they are known or unknown to the UAS) and MUST
   * maintain the order of those values").
   */
  #answer(req: SipRequest, dialog: Dialog, status: number, reason: string): SipResponse {
    const res = makeResponse(req, status, reason, { toTag: dialog.localTag });
    for (const line of req.getLines('Record-Route')) res.append('Record-Route', line);
    res.append('Contact', this.#contact());
    return res;
  }

  #onAck(ack: SipRequest): void {
    const call = this.#calls.get(getCallId(ack));
    if (call?.dialog.role !== 'callee' || !inDialog(call.dialog, ack)) return;
    if (call.state !== 'answered') return; // a retransmitted ACK
    clearTimeout(call.timer);
    call.state = 'established';
    this.emit('established', callEvent(call.dialog));
  }

  #onBye(tx: ServerTransaction): void {
    const req = tx.request;
    const call = this.#calls.get(getCallId(req));
    // RFC 3261 §15.1.2: "If the BYE does not match an existing dialog, the
    // UAS core SHOULD generate a 481 (Call/Transaction Does Not Exist)".
    if (!call || !inDialog(call.dialog, req)) {
      tx.respond(makeResponse(req, 481));
      return;
    }
    // "the UAS MUST still respond to any pending requests received for that
    // dialog. It is RECOMMENDED that a 487 (Request Terminated) response be
    // generated to those pending requests."
    if (call.state === 'ringing')
      call.invite?.respond(makeResponse(call.invite.request, 487, 'Request Terminated'));
    tx.respond(makeResponse(req, 200, 'OK'));
    this.#end(call, 'remote', 'BYE');
  }

  #onCancel(tx: ServerTransaction): void {
    const req = tx.request;
    const invite = this.#transactions.findInviteForCancel(req);
    if (!invite) {
      tx.respond(makeResponse(req, 481));
      return;
    }
    // RFC 3261 §9.2: answer the CANCEL 200; if the INVITE has no final
    // response yet, answer it 487. A CANCEL after the 200 changes nothing.
    tx.respond(makeResponse(req, 200, 'OK'));
    const call = this.#calls.get(getCallId(req));
    if (call?.state === 'ringing' && call.invite === invite) {
      invite.respond(makeResponse(invite.request, 487, 'Request Terminated'));
      this.#end(call, 'remote', 'CANCEL');
    }
  }

  #onMessage(tx: ServerTransaction): void {
    const req = tx.request;
    tx.respond(makeResponse(req, 200, 'OK'));
    const body = req.body;
    this.emit('message', {
      from: addressOf(getFrom(req)),
      callId: getCallId(req),
      contentType: req.get('Content-Type'),
      body,
      text: new TextDecoder().decode(body),
      request: req,
    });
  }

  // --- requests we send ----------------------------------------------------

  async #bye(call: Call, reason: string): Promise<Outcome> {
    const bye = inDialogRequest(call.dialog, 'BYE', this.#via());
    this.#end(call, 'local', reason);
    return this.#send(bye, () => {});
  }

  #end(call: Call, by: 'local' | 'remote', reason: string): void {
    if (this.#calls.get(call.dialog.callId) !== call) return;
    clearTimeout(call.timer);
    this.#calls.delete(call.dialog.callId);
    call.onEnd?.();
    this.emit('ended', { ...callEvent(call.dialog), by, reason });
  }

  /** The ACK for a 2xx goes end to end, outside any transaction (RFC 3261 §17.1.1.3). */
  #sendAck(ack: SipRequest): void {
    this.#transport.send(ack, this.#dest).catch(() => {
      // Lost like a datagram: the 2xx retransmission brings us back here.
    });
  }

  #request(
    method: string,
    uri: string,
    to: string,
    fromTag: string,
    callId: string,
    cseq = 1,
  ): SipRequest {
    const req = new SipRequest(method, uri);
    req.append('Via', this.#via());
    req.append('Max-Forwards', '70');
    req.append('From', `<sip:${this.#o.aor}>;tag=${fromTag}`);
    req.append('To', to);
    req.append('Call-ID', callId);
    req.append('CSeq', `${cseq} ${method}`);
    req.append('Contact', this.#contact());
    req.append('User-Agent', 'p2psip-ua');
    return req;
  }

  /** Our Contact: the AOR's user at our UDP address (what REGISTER binds). */
  #contact(): string {
    const aor = this.#o.aor;
    return `<sip:${aor.slice(0, aor.lastIndexOf('@'))}@${hostPort(this.local)}>`;
  }

  #via(): string {
    const l = this.local;
    return formatVia({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: l.host.includes(':') ? `[${l.host}]` : l.host,
      port: l.port,
      params: new Map<string, string | null>([
        ['branch', generateBranch()],
        ['rport', null],
      ]),
    });
  }

  /**
   * Sends `req` in a client transaction and resolves with its final response.
   * `onLate` sees responses after the final one (RFC 6026 passes 2xx
   * retransmissions to the TU).
   */
  #send(
    req: SipRequest,
    onProgress: (p: Progress) => void,
    onLate: (res: SipResponse) => void = () => {},
  ): Promise<Outcome> {
    const started = performance.now();
    const responses: Progress[] = [];
    let done = false;
    return new Promise((resolve) => {
      const finish = (final: SipResponse | undefined) => {
        done = true;
        resolve({ responses, final, timedOut: final === undefined });
      };
      if (this.#closed) {
        finish(undefined);
        return;
      }
      this.#transactions.sendRequest(req, this.#dest, {
        onResponse: (res) => {
          if (done) {
            onLate(res);
            return;
          }
          const p = { status: res.status, reason: res.reason, ms: performance.now() - started };
          responses.push(p);
          onProgress(p);
          if (res.status >= 200) finish(res);
        },
        onTimeout: () => finish(undefined),
        onTransportError: () => finish(undefined),
      });
    });
  }
}

function callEvent(d: Dialog): CallEvent {
  return { callId: d.callId, role: d.role, peer: d.peer };
}

function hostPort(a: TransportAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, ' ').slice(0, 100);
}
