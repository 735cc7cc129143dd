/**
 * The registrar for the node's own softphones (RFC 3261 §10.3). Pure: no I/O,
 * time injected. A binding remembers the flow the REGISTER arrived on, so
 * requests to the softphone reuse its connection (TCP) or source port (NAT'd
 * UDP), as RFC 5626 does; the Contact URI becomes the Request-URI.
 */

import { normalizeAor } from '../identity/aor.js';
import {
  formatNameAddr,
  getCallId,
  getContacts,
  getCSeq,
  getExpires,
  getTo,
  makeResponse,
} from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/message.js';
import type { NameAddr } from '../sip/message/types.js';
import type { TransportAddress } from '../sip/transport.js';

export interface Binding {
  /** The Contact as registered (URI + params). */
  contact: NameAddr;
  /** Contact URI text, the key of the binding (RFC 3261 §10.3 step 6 compares URIs). */
  uri: string;
  /** Milliseconds since epoch when the binding lapses. */
  expiresAt: number;
  callId: string;
  cseq: number;
  /** Where the REGISTER came from: send requests for this binding there. */
  flow: TransportAddress;
}

export interface RegistrarOptions {
  /** The node's AOR ("alice@example.org"): the only one that may register here. */
  aor: string;
  /** Lower bound for a non-zero expiry (423 below it). Default 60 s. */
  minExpires?: number;
  /** Upper bound; longer requests are shortened. Default 3600 s. */
  maxExpires?: number;
  /** Expiry when the request names none. Default 3600 s. */
  defaultExpires?: number;
  now?: () => number;
}

/** What a REGISTER did: the response to send, and whether bindings changed. */
export interface RegisterOutcome {
  response: SipResponse;
  changed: boolean;
}

export class Registrar {
  readonly aor: string;
  readonly #minExpires: number;
  readonly #maxExpires: number;
  readonly #defaultExpires: number;
  readonly #now: () => number;
  #bindings: Binding[] = [];

  constructor(opts: RegistrarOptions) {
    this.aor = normalizeAor(opts.aor);
    this.#minExpires = opts.minExpires ?? 60;
    this.#maxExpires = opts.maxExpires ?? 3600;
    this.#defaultExpires = opts.defaultExpires ?? 3600;
    this.#now = opts.now ?? Date.now;
  }

  /** Bindings still valid now, most recently refreshed first. */
  bindings(): Binding[] {
    this.#expire();
    return [...this.#bindings].sort((a, b) => b.expiresAt - a.expiresAt);
  }

  /** True while at least one softphone is registered. */
  get registered(): boolean {
    return this.bindings().length > 0;
  }

  /** Milliseconds until the next binding lapses (for a timer), or undefined. */
  nextExpiry(): number | undefined {
    this.#expire();
    if (this.#bindings.length === 0) return undefined;
    return Math.max(0, Math.min(...this.#bindings.map((b) => b.expiresAt)) - this.#now());
  }

  /** Drops lapsed bindings; returns true if any lapsed. */
  expire(): boolean {
    return this.#expire();
  }

  /**
   * Processes a REGISTER whose sender has already been authorised as a local
   * softphone. `flow` is where it came from.
   */
  register(req: SipRequest, flow: TransportAddress): RegisterOutcome {
    this.#expire();
    // RFC 3261 §10.3 step 3: the registrar extracts the AOR from To and
    // rejects AORs it is not responsible for (403 here: one node, one AOR).
    const to = getTo(req);
    const aor = aorOf(to.uri.user, to.uri.host);
    if (aor !== this.aor) {
      return {
        response: makeResponse(req, 403, `Forbidden (this node registers only ${this.aor})`),
        changed: false,
      };
    }
    const contacts = getContacts(req);
    const callId = getCallId(req);
    const cseq = getCSeq(req).seq;
    const headerExpires = getExpires(req);

    // §10.3 step 6: "*" is only allowed with Expires: 0 and no other contact.
    if (contacts === '*') {
      if (headerExpires !== 0) {
        return {
          response: makeResponse(req, 400, 'Bad Request (Contact: * needs Expires: 0)'),
          changed: false,
        };
      }
      const changed = this.#bindings.length > 0;
      this.#bindings = [];
      return { response: this.#ok(req), changed };
    }

    const now = this.#now();
    const updates: Array<{ contact: NameAddr; uri: string; expires: number }> = [];
    for (const contact of contacts) {
      const raw = contact.params.get('expires');
      let expires =
        raw != null && /^\d+$/.test(raw) ? Number(raw) : (headerExpires ?? this.#defaultExpires);
      // §10.3 step 7: too brief → 423 with Min-Expires.
      if (expires > 0 && expires < this.#minExpires) {
        return {
          response: makeResponse(req, 423, 'Interval Too Brief', {
            headers: [{ name: 'Min-Expires', value: String(this.#minExpires) }],
          }),
          changed: false,
        };
      }
      expires = Math.min(expires, this.#maxExpires);
      updates.push({ contact, uri: contactKey(contact), expires });
    }

    // §10.3 step 7: same Call-ID with a CSeq not higher → the update fails.
    for (const u of updates) {
      const existing = this.#bindings.find((b) => b.uri === u.uri);
      if (existing && existing.callId === callId && cseq <= existing.cseq) {
        return {
          response: makeResponse(req, 500, 'Server Internal Error (out-of-order REGISTER)'),
          changed: false,
        };
      }
    }

    let changed = false;
    for (const u of updates) {
      const i = this.#bindings.findIndex((b) => b.uri === u.uri);
      if (u.expires === 0) {
        if (i !== -1) {
          this.#bindings.splice(i, 1);
          changed = true;
        }
        continue;
      }
      const binding: Binding = {
        contact: u.contact,
        uri: u.uri,
        expiresAt: now + u.expires * 1000,
        callId,
        cseq,
        flow,
      };
      if (i === -1) {
        this.#bindings.push(binding);
        changed = true;
      } else {
        const old = this.#bindings[i]!;
        if (
          old.flow.host !== flow.host ||
          old.flow.port !== flow.port ||
          old.flow.protocol !== flow.protocol
        ) {
          changed = true;
        }
        this.#bindings[i] = binding;
      }
    }
    return { response: this.#ok(req), changed };
  }

  #ok(req: SipRequest): SipResponse {
    const now = this.#now();
    const headers = this.#bindings.map((b) => {
      const params = new Map(b.contact.params);
      params.set('expires', String(Math.max(0, Math.round((b.expiresAt - now) / 1000))));
      return { name: 'Contact', value: formatNameAddr({ ...b.contact, params }) };
    });
    headers.push({ name: 'Date', value: new Date(now).toUTCString() });
    return makeResponse(req, 200, 'OK', { headers });
  }

  #expire(): boolean {
    const now = this.#now();
    const before = this.#bindings.length;
    this.#bindings = this.#bindings.filter((b) => b.expiresAt > now);
    return this.#bindings.length !== before;
  }
}

/** "user@host" with the host lowercased (the user part is case-sensitive, RFC 3261 §19.1.4). */
export function aorOf(user: string | undefined, host: string): string {
  return user === undefined ? host.toLowerCase() : `${user}@${host.toLowerCase()}`;
}

/** Contact URIs compared as RFC 3261 §19.1.4 would, approximated by their canonical text. */
function contactKey(contact: NameAddr): string {
  const u = contact.uri;
  return `${u.scheme}:${u.user ?? ''}@${u.host}:${u.port ?? ''};transport=${u.params.get('transport') ?? ''}`;
}
