/**
 * The two requests built from an INVITE rather than by a TU: the ACK for a
 * non-2xx final response (RFC 3261 §17.1.1.3) and CANCEL (§9.1). Both travel
 * hop by hop along the INVITE's path, so both copy its top Via and its Route.
 */
import { getCSeq, topVia } from '../message/accessors.js';
import { type HeaderField, SipRequest, type SipResponse } from '../message/message.js';
import { formatVia } from '../message/via.js';

/**
 * §17.1.1.3: "The ACK request constructed by the client transaction MUST
 * contain values for the Call-ID, From, and Request-URI that are equal to the
 * values of those header fields in the request passed to the transport by the
 * client transaction (call this the 'original request'). The To header field
 * in the ACK MUST equal the To header field in the response being
 * acknowledged [...]. The ACK MUST contain a single Via header field, and this
 * MUST be equal to the top Via header field of the original request. The CSeq
 * header field in the ACK MUST contain the same value for the sequence number
 * as was present in the original request, but the method parameter MUST be
 * equal to 'ACK'. If the INVITE request whose response is being acknowledged
 * had Route header fields, those header fields MUST appear in the ACK."
 */
export function createAck(invite: SipRequest, response: SipResponse): SipRequest {
  return sameHop(invite, 'ACK', response.get('To') ?? invite.get('To') ?? '');
}

/**
 * §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From
 * header fields in the CANCEL request MUST be identical to those in the
 * request being cancelled, including tags. A CANCEL constructed by a client
 * MUST have only a single Via header field value matching the top Via value in
 * the request being cancelled. [...] If the request being cancelled contains a
 * Route header field, the CANCEL request MUST include that Route header
 * field's values."
 *
 * The TU sends it with `layer.sendRequest` (its own non-INVITE client
 * transaction, same branch, method CANCEL) and, per §9.1, only once a
 * provisional response has arrived for the INVITE.
 */
export function createCancel(invite: SipRequest): SipRequest {
  return sameHop(invite, 'CANCEL', invite.get('To') ?? '');
}

function sameHop(invite: SipRequest, method: 'ACK' | 'CANCEL', to: string): SipRequest {
  const via = topVia(invite);
  if (via === undefined) throw new TypeError(`cannot build ${method}: the INVITE has no Via`);
  const headers: HeaderField[] = [
    { name: 'Via', value: formatVia(via) },
    // Max-Forwards is mandatory in every request (§8.1.1.6); the copy takes
    // the same hops as the INVITE, so it gets the same budget.
    { name: 'Max-Forwards', value: invite.get('Max-Forwards') ?? '70' },
  ];
  for (const route of invite.getLines('Route')) headers.push({ name: 'Route', value: route });
  headers.push(
    { name: 'From', value: invite.get('From') ?? '' },
    { name: 'To', value: to },
    { name: 'Call-ID', value: invite.get('Call-ID') ?? '' },
    { name: 'CSeq', value: `${getCSeq(invite).seq} ${method}` },
  );
  return new SipRequest(method, invite.uri, headers);
}
