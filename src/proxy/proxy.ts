/**
 * The stateful proxy (RFC 3261 §16): runs each request through the chain of
 * steps, then forwards it to the one target the chain chose and relays the
 * responses back. Pure of I/O: it speaks to the world through the ports in
 * ./ports.ts.
 *
 *   check-request → authorize-origin → route-set → node-control → registrar → node-itself
 *         → local-delivery (from a peer) → remote-lookup (from our softphone)
 */
import { SipError } from '../sip/errors.js';
import {
  formatVia,
  generateBranch,
  getCSeq,
  getTo,
  makeResponse,
  splitList,
  topVia,
} from '../sip/message/index.js';
import { SipRequest, SipResponse } from '../sip/message/message.js';
import type { TransportAddress } from '../sip/transport.js';
import type { MediaPort, Origin, Rejection, ServerTx, Target, TransactionPort } from './ports.js';
import { decrementMaxForwards, recordRouteEntries, type Side } from './routing.js';
import type { ProxyEnv, ProxyStep, RequestContext } from './step.js';
import { reject } from './step.js';
import { authorizeOrigin } from './steps/authorize-origin.js';
import { checkRequest } from './steps/check-request.js';
import { localDelivery } from './steps/local-delivery.js';
import { nodeControl } from './steps/node-control.js';
import { nodeItself } from './steps/node-itself.js';
import { registrarStep } from './steps/registrar.js';
import { remoteLookup } from './steps/remote-lookup.js';
import { routeSet } from './steps/route-set.js';

export const DEFAULT_CHAIN: readonly ProxyStep[] = [
  checkRequest,
  authorizeOrigin,
  routeSet,
  nodeControl,
  registrarStep,
  nodeItself,
  localDelivery,
  remoteLookup,
];

/** Methods that create a dialog and so are Record-Routed when out of dialog. */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export interface ProxyOptions {
  env: ProxyEnv;
  transactions: TransactionPort;
  chain?: readonly ProxyStep[];
  /**
   * Timer C (RFC 3261 §16.6 step 11): an INVITE that got a provisional but no
   * final response for this long is cancelled and answered 408. "The timer
   * MUST be set to be larger than 3 minutes." Default 181 s.
   */
  timerCMs?: number;
}

/** One forwarded request and its response context (RFC 3261 §16.7), single branch. */
class Forwarding {
  finalSent = false;
  provisionalSeen = false;
  cancelRequested = false;
  /** The final status sent upstream (0 before). */
  status = 0;
  logged = false;
  forwarded: SipRequest | undefined;
  dest: TransportAddress | undefined;
  /** Where the request came from and went (for the media hooks). */
  sides: { in: Side; out: Side } | undefined;
  /** A final response from downstream went through the media port (or none is needed). */
  mediaSettled = false;
  /** Responses are relayed one after the other (media rewriting is async). */
  responses: Promise<void> = Promise.resolve();
  timerC: NodeJS.Timeout | undefined;
  readonly abort = new AbortController();
  constructor(
    readonly req: SipRequest,
    readonly origin: Origin,
    readonly serverTx: ServerTx,
  ) {}
}

export class SipProxy {
  readonly #env: ProxyEnv;
  readonly #tx: TransactionPort;
  readonly #chain: readonly ProxyStep[];
  /** INVITEs in progress by the key a CANCEL shares with them (§9.1: same top Via branch). */
  readonly #invites = new Map<string, Forwarding>();
  readonly #stopped = new AbortController();
  readonly #timerCMs: number;

  constructor(opts: ProxyOptions) {
    this.#env = opts.env;
    this.#tx = opts.transactions;
    this.#chain = opts.chain ?? DEFAULT_CHAIN;
    this.#timerCMs = opts.timerCMs ?? 181_000;
  }

  /** Stops pending lookups; in-flight transactions end by their own timers. */
  close(): void {
    this.#stopped.abort();
    for (const f of this.#invites.values()) {
      f.abort.abort();
      clearTimeout(f.timerC);
    }
    this.#invites.clear();
  }

  /** A new request with its server transaction (everything but ACK and CANCEL). */
  async onRequest(req: SipRequest, origin: Origin, serverTx: ServerTx): Promise<void> {
    const fwd = new Forwarding(req, origin, serverTx);
    const key = req.method === 'INVITE' ? cancelKey(req) : undefined;
    if (key) this.#invites.set(key, fwd);
    try {
      const result = await this.#runChain(req, origin, fwd.abort.signal);
      if (fwd.cancelRequested) {
        this.#final(fwd, makeResponse(req, 487, 'Request Terminated'));
        return;
      }
      if (result.action === 'respond') this.#final(fwd, result.response);
      else if (result.action === 'reject') this.#final(fwd, rejection(req, result.rejection));
      else if (result.action === 'forward') await this.#forward(fwd, origin, result.target);
      else this.#final(fwd, makeResponse(req, 500, 'Server Internal Error (no route decided)'));
    } catch (err) {
      this.#final(fwd, this.#errorResponse(req, err));
    } finally {
      if (key && (fwd.finalSent || !fwd.forwarded)) this.#invites.delete(key);
    }
  }

  /**
   * CANCEL (RFC 3261 §16.10): answered 200 here; the matching INVITE is
   * cancelled downstream once a provisional response has arrived (§9.1), or
   * answered 487 at once while still being routed. No match → 481.
   */
  onCancel(cancel: SipRequest, serverTx: ServerTx): void {
    const key = cancelKey(cancel);
    const fwd = key ? this.#invites.get(key) : undefined;
    if (!fwd || fwd.finalSent) {
      serverTx.respond(makeResponse(cancel, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    serverTx.respond(makeResponse(cancel, 200, 'OK'));
    fwd.cancelRequested = true;
    fwd.abort.abort();
    if (fwd.forwarded && fwd.provisionalSeen) this.#sendCancel(fwd);
  }

  /** An ACK that matched no transaction: the end-to-end ACK for a 2xx, forwarded statelessly (§16.11). */
  async onAck(ack: SipRequest, origin: Origin): Promise<void> {
    try {
      const result = await this.#runChain(ack, origin, this.#stopped.signal);
      if (result.action !== 'forward') {
        // An ACK is never answered; say why it went nowhere.
        const why =
          result.action === 'reject'
            ? `${result.rejection.status} ${result.rejection.reason}`
            : result.action;
        this.#env.log('debug', `ACK for ${ack.get('Call-ID')} not forwarded: ${why}`);
        return;
      }
      const out = this.#prepare(ack, origin, result.target);
      // An ACK may carry the answer to an offer in a 2xx (late offer).
      const refused = await this.#env.media?.request(out.request, out.sides.in, out.sides.out);
      if (refused)
        this.#env.log('info', `ACK ${ack.get('Call-ID')}: media not relayed: ${refused.reason}`);
      this.#tx.sendStateless(out.request, out.dest);
    } catch (err) {
      this.#env.log('debug', `ACK dropped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async #runChain(req: SipRequest, origin: Origin, signal: AbortSignal) {
    const ctx: RequestContext = { req, origin, env: this.#env, signal };
    for (const step of this.#chain) {
      const result = await step.process(ctx);
      if (result.action !== 'continue') return result;
    }
    return reject(404, 'Not Found');
  }

  async #forward(fwd: Forwarding, origin: Origin, target: Target): Promise<void> {
    const { request, dest, sides } = this.#prepare(fwd.req, origin, target);
    fwd.sides = sides;
    const media = this.#env.media;
    if (media) {
      const refused = await media.request(request, sides.in, sides.out);
      if (refused) {
        this.#final(fwd, rejection(fwd.req, refused));
        return;
      }
      if (fwd.cancelRequested) {
        // Cancelled while the relay was being set up: release it, answer 487.
        const terminated = makeResponse(request, 487, 'Request Terminated');
        await media.response(terminated, request, sides.out, sides.in);
        this.#final(fwd, makeResponse(fwd.req, 487, 'Request Terminated'));
        return;
      }
    }
    fwd.forwarded = request;
    fwd.dest = dest;
    this.#tx.sendRequest(request, dest, {
      onResponse: (res) => {
        // Without media hooks a response is relayed at once; with them, in
        // arrival order after the SDP of the ones before it was rewritten.
        if (this.#env.media)
          fwd.responses = fwd.responses.then(() => this.#withMedia(fwd, res, this.#env.media!));
        else this.#onResponse(fwd, res);
      },
      onTimeout: () => {
        this.#final(
          fwd,
          makeResponse(fwd.req, 408, `Request Timeout (no answer from ${describe(target)})`),
        );
      },
      onTransportError: (err) => {
        this.#env.log('info', `cannot reach ${describe(target)}: ${err.message}`);
        this.#final(
          fwd,
          rejection(fwd.req, {
            status: 480,
            reason: `Temporarily Unavailable (${describe(target)} unreachable)`,
            headers: [
              { name: 'Warning', value: `399 p2psip "${err.message.replace(/["\\]/g, "'")}"` },
            ],
          }),
        );
      },
    });
  }

  /** RFC 3261 §16.6 steps 1–8 for one target. */
  #prepare(
    req: SipRequest,
    origin: Origin,
    target: Target,
  ): { request: SipRequest; dest: TransportAddress; sides: { in: Side; out: Side } } {
    const copy = new SipRequest(
      req.method,
      req.uri,
      req.headers.map((h) => ({ name: h.name, value: h.value })),
      req.body,
    );
    if (target.kind === 'local' && target.requestUri) copy.uri = target.requestUri;
    decrementMaxForwards(copy);
    const inSide = sideOf(origin);
    const outSide: Side =
      target.kind === 'local'
        ? { kind: 'local', flow: target.flow }
        : {
            kind: 'tunnel',
            peerKey: target.peerKey,
            ...(target.localKey === undefined ? {} : { localKey: target.localKey }),
          };
    const initial = !getTo(req).params.has('tag');
    if (initial && DIALOG_CREATING.has(req.method)) {
      const entries = recordRouteEntries(this.#env.route, inSide, outSide);
      for (const e of entries.reverse()) copy.prepend('Record-Route', e);
    }
    const dest: TransportAddress =
      target.kind === 'local' ? target.flow : { protocol: 'tunnel', host: target.peerKey, port: 0 };
    copy.prepend('Via', formatVia(this.#via(dest)));
    return { request: copy, dest, sides: { in: inSide, out: outSide } };
  }

  #via(dest: TransportAddress) {
    const params = new Map<string, string | null>([['branch', generateBranch()]]);
    if (dest.protocol === 'tunnel') {
      return { protocol: 'SIP/2.0', transport: 'TUNNEL', host: 'p2p.invalid', params };
    }
    params.set('rport', null);
    const host = this.#env.route.localHost.includes(':')
      ? `[${this.#env.route.localHost}]`
      : this.#env.route.localHost;
    return {
      protocol: 'SIP/2.0',
      transport: dest.protocol.toUpperCase(),
      host,
      port: this.#env.route.localPort,
      params,
    };
  }

  /** A response whose SDP the media port rewrites (our relay in it) before it is relayed. */
  async #withMedia(fwd: Forwarding, res: SipResponse, media: MediaPort): Promise<void> {
    if (res.status !== 100 && fwd.forwarded && fwd.sides) {
      if (res.status >= 200) fwd.mediaSettled = true;
      let ok = false;
      try {
        ok = await media.response(res, fwd.forwarded, fwd.sides.out, fwd.sides.in);
      } catch (err) {
        this.#env.log('warn', `media: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!ok) {
        // Its media cannot go through the relay, and never around it.
        this.#env.log('warn', `${res.status} for ${fwd.req.method}: SDP could not be relayed`);
        if (res.status >= 200)
          this.#final(
            fwd,
            makeResponse(fwd.req, 488, 'Not Acceptable Here (media could not be relayed)'),
          );
        return;
      }
    }
    this.#onResponse(fwd, res);
  }

  /** §16.7: relay responses upstream, minus our Via. */
  #onResponse(fwd: Forwarding, res: SipResponse): void {
    const vias = res.getLines('Via');
    if (vias.length === 0) return;
    const up = stripTopVia(res);
    if (up === undefined) return;
    if (res.status < 200) {
      if (res.status === 100) return; // hop-by-hop; our transaction sent its own 100
      fwd.provisionalSeen = true;
      if (fwd.req.method === 'INVITE' && !fwd.finalSent) this.#armTimerC(fwd);
      if (fwd.cancelRequested && !fwd.finalSent) this.#sendCancel(fwd);
      if (!fwd.finalSent) fwd.serverTx.respond(up);
      return;
    }
    if (res.status < 300) {
      // 2xx to INVITE are all forwarded, even after one was (forking downstream).
      fwd.finalSent = true;
      fwd.status = res.status;
      fwd.serverTx.respond(up);
      this.#done(fwd);
      return;
    }
    this.#final(fwd, up);
  }

  /** (Re)arms Timer C: §16.7 step 2 resets it on every provisional response. */
  #armTimerC(fwd: Forwarding): void {
    clearTimeout(fwd.timerC);
    fwd.timerC = setTimeout(() => {
      if (fwd.finalSent) return;
      // §16.8: "the proxy MUST ... CANCEL the request ... and if no final
      // response has been forwarded ... generate a 408".
      this.#sendCancel(fwd);
      this.#final(fwd, makeResponse(fwd.req, 408, 'Request Timeout (no answer within Timer C)'));
    }, this.#timerCMs);
    fwd.timerC.unref();
  }

  #sendCancel(fwd: Forwarding): void {
    const inv = fwd.forwarded;
    const dest = fwd.dest;
    if (!inv || !dest) return;
    // §9.1: CANCEL copies Request-URI, Call-ID, To, From, CSeq number, Route and the top Via.
    const cancel = new SipRequest('CANCEL', inv.uri, []);
    cancel.append('Via', inv.getLines('Via')[0]!);
    for (const name of ['Max-Forwards', 'From', 'To', 'Call-ID']) {
      const v = inv.get(name);
      if (v !== undefined) cancel.append(name, v);
    }
    for (const r of inv.getLines('Route')) cancel.append('Route', r);
    cancel.append('CSeq', `${getCSeq(inv).seq} CANCEL`);
    this.#tx.sendRequest(cancel, dest, {
      onResponse: () => {},
      onTimeout: () => {},
      onTransportError: () => {},
    });
  }

  #final(fwd: Forwarding, res: SipResponse): void {
    if (fwd.finalSent) return;
    // A failure we generate (timeout, tunnel down, Timer C) after the offer
    // went out: the relay set up for it is released as if the peer refused.
    const media = this.#env.media;
    if (media && !fwd.mediaSettled && fwd.forwarded && fwd.sides && res.status >= 300) {
      fwd.mediaSettled = true;
      media
        .response(res, fwd.forwarded, fwd.sides.out, fwd.sides.in)
        .catch((err: unknown) =>
          this.#env.log(
            'warn',
            `media release: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
    }
    fwd.finalSent = true;
    fwd.status = res.status;
    fwd.serverTx.respond(res);
    this.#done(fwd);
  }

  #done(fwd: Forwarding): void {
    clearTimeout(fwd.timerC);
    if (fwd.req.method === 'INVITE' && !fwd.logged) {
      fwd.logged = true;
      this.#env.onInviteFinal?.(fwd.req, fwd.origin, fwd.status);
    }
    const key = fwd.req.method === 'INVITE' ? cancelKey(fwd.req) : undefined;
    if (key && this.#invites.get(key) === fwd) this.#invites.delete(key);
  }

  #errorResponse(req: SipRequest, err: unknown): SipResponse {
    if (err instanceof SipError)
      return makeResponse(req, 400, `Bad Request (${err.message})`.slice(0, 200));
    if (err instanceof Error && err.name === 'AbortError')
      return makeResponse(req, 487, 'Request Terminated');
    this.#env.log(
      'warn',
      `internal error on ${req.method}: ${err instanceof Error ? err.stack : String(err)}`,
    );
    return makeResponse(req, 500, 'Server Internal Error');
  }
}

function rejection(req: SipRequest, r: Rejection): SipResponse {
  return makeResponse(req, r.status, r.reason, r.headers ? { headers: r.headers } : undefined);
}

function sideOf(origin: Origin): Side {
  return origin.kind === 'local'
    ? { kind: 'local', flow: origin.flow }
    : {
        kind: 'tunnel',
        peerKey: origin.peerKey,
        ...(origin.localKey === undefined ? {} : { localKey: origin.localKey }),
      };
}

function describe(target: Target): string {
  if (target.kind === 'local') return 'the local softphone';
  return target.aor ? `${target.aor}'s node` : 'the peer node';
}

/** The key a CANCEL shares with its INVITE: top Via branch and sent-by (RFC 3261 §9.2). */
function cancelKey(req: SipRequest): string | undefined {
  const via = topVia(req);
  const branch = via?.params.get('branch');
  if (!via || !branch) return undefined;
  return `${branch}|${via.host}:${via.port ?? ''}`;
}

/** The response minus its top Via (ours), or undefined when nothing would be left. */
function stripTopVia(res: SipResponse): SipResponse | undefined {
  const headers = res.headers.map((h) => ({ name: h.name, value: h.value }));
  const i = headers.findIndex((h) => h.name === 'Via');
  if (i === -1) return undefined;
  // A Via line may hold several values; drop only the first.
  const rest = splitList(headers[i]!.value).slice(1);
  if (rest.length === 0) headers.splice(i, 1);
  else headers[i] = { name: 'Via', value: rest.join(', ') };
  if (!headers.some((h) => h.name === 'Via')) return undefined;
  return new SipResponse(res.status, res.reason, headers, res.body);
}
