/**
 * A small SIP user agent for scripts and the demo: it speaks to the local
 * node exactly like a softphone would (UDP from an ephemeral port), so
 * `p2psip message` and `p2psip call` exercise the same path baresip does.
 * Signalling only: the call carries an SDP offer but no media.
 */
import { TransportLayer } from '../net/transport-layer.js';
import {
  formatNameAddr,
  formatUri,
  formatVia,
  generateBranch,
  generateTag,
  getContacts,
  getRecordRoutes,
  getTo,
  makeResponse,
} from '../sip/message/index.js';
import { SipRequest, type SipResponse } from '../sip/message/message.js';
import { TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { TransportAddress } from '../sip/transport.js';

export interface UserAgentOptions {
  /** The AOR we send as (the node's own). */
  aor: string;
  /** The node's SIP address. */
  node: { host: string; port: number };
  /** Timer T1 in ms (default 500). */
  t1?: number;
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

export class UserAgent {
  readonly #o: UserAgentOptions;
  readonly #transport: TransportLayer;
  readonly #transactions: TransactionLayer;
  readonly #dest: TransportAddress;
  #cseq = 1;
  /** Requests the peer sends us in a dialog (BYE): answered 200 and reported. */
  onIncoming: ((req: SipRequest) => void) | undefined;

  private constructor(o: UserAgentOptions, transport: TransportLayer) {
    this.#o = o;
    this.#transport = transport;
    this.#dest = { protocol: 'udp', host: o.node.host, port: o.node.port };
    this.#transactions = new TransactionLayer({
      sender: transport,
      ...(o.t1 ? { t1: o.t1 } : {}),
      user: {
        onRequest: (tx) => {
          tx.respond(makeResponse(tx.request, 200, 'OK'));
          this.onIncoming?.(tx.request);
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

  async close(): Promise<void> {
    this.#transactions.close();
    await this.#transport.close();
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
   * Calls `to`, waits for an answer, holds the call `holdMs`, hangs up.
   * `onProgress` sees every response to the INVITE as it arrives.
   */
  async call(
    to: string,
    holdMs: number,
    onProgress: (p: Progress) => void = () => {},
  ): Promise<{ invite: Outcome; bye?: Outcome }> {
    const callId = `call-${generateTag()}`;
    const fromTag = generateTag();
    const invite = this.#request('INVITE', `sip:${to}`, `<sip:${to}>`, fromTag, callId);
    invite.append('Content-Type', 'application/sdp');
    invite.body = Buffer.from(sdpOffer(this.local.host));
    const outcome = await this.#send(invite, onProgress);
    const ok = outcome.final;
    if (!ok || ok.status >= 300) return { invite: outcome };
    // The dialog (RFC 3261 §12.1.2): route set = Record-Route reversed, remote target = Contact.
    const routes = getRecordRoutes(ok)
      .reverse()
      .map((r) => formatNameAddr(r));
    const contacts = getContacts(ok);
    const target = contacts !== '*' && contacts[0] ? formatUri(contacts[0].uri) : `sip:${to}`;
    const toHeader = formatNameAddr(getTo(ok));
    const ack = this.#inDialog('ACK', target, toHeader, fromTag, callId, routes, 1);
    await this.#transport.send(ack, this.#dest);
    await new Promise((r) => setTimeout(r, holdMs));
    const bye = this.#inDialog('BYE', target, toHeader, fromTag, callId, routes, ++this.#cseq);
    return { invite: outcome, bye: await this.#send(bye, () => {}) };
  }

  #request(method: string, uri: string, to: string, fromTag: string, callId: string): SipRequest {
    const req = new SipRequest(method, uri);
    req.append('Via', this.#via());
    req.append('Max-Forwards', '70');
    req.append('From', `<sip:${this.#o.aor}>;tag=${fromTag}`);
    req.append('To', to);
    req.append('Call-ID', callId);
    req.append('CSeq', `${this.#cseq} ${method}`);
    req.append('Contact', `<sip:${this.#o.aor.split('@')[0]}@${hostPort(this.local)}>`);
    req.append('User-Agent', 'p2psip-ua');
    return req;
  }

  #inDialog(
    method: string,
    target: string,
    to: string,
    fromTag: string,
    callId: string,
    routes: string[],
    cseq: number,
  ): SipRequest {
    const req = new SipRequest(method, target);
    req.append('Via', this.#via());
    req.append('Max-Forwards', '70');
    for (const r of routes) req.append('Route', r);
    req.append('From', `<sip:${this.#o.aor}>;tag=${fromTag}`);
    req.append('To', to);
    req.append('Call-ID', callId);
    req.append('CSeq', `${cseq} ${method}`);
    return req;
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

  #send(req: SipRequest, onProgress: (p: Progress) => void): Promise<Outcome> {
    const started = performance.now();
    const responses: Progress[] = [];
    return new Promise((resolve) => {
      this.#transactions.sendRequest(req, this.#dest, {
        onResponse: (res) => {
          const p = { status: res.status, reason: res.reason, ms: performance.now() - started };
          responses.push(p);
          onProgress(p);
          if (res.status >= 200) resolve({ responses, final: res, timedOut: false });
        },
        onTimeout: () => resolve({ responses, final: undefined, timedOut: true }),
        onTransportError: () => resolve({ responses, final: undefined, timedOut: true }),
      });
    });
  }
}

function hostPort(a: TransportAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** A minimal RFC 4566 offer (PCMU); no media is sent. */
function sdpOffer(host: string): string {
  const ip = host.includes(':') ? 'IP6' : 'IP4';
  const id = Date.now();
  return (
    `v=0\r\no=p2psip ${id} ${id} IN ${ip} ${host}\r\ns=p2psip call\r\nc=IN ${ip} ${host}\r\nt=0 0\r\n` +
    'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=inactive\r\n'
  );
}
