/** Building responses to requests (RFC 3261 §8.2.6) and default reason phrases (§21). */

import { getTo } from './accessors.js';
import { isWsp } from './chars.js';
import { generateTag } from './ids.js';
import { type HeaderField, type SipRequest, SipResponse } from './message.js';

const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Trying'],
  [180, 'Ringing'],
  [181, 'Call Is Being Forwarded'],
  [182, 'Queued'],
  [183, 'Session Progress'],
  [199, 'Early Dialog Terminated'],
  [200, 'OK'],
  [202, 'Accepted'],
  [204, 'No Notification'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Moved Temporarily'],
  [305, 'Use Proxy'],
  [380, 'Alternative Service'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [410, 'Gone'],
  [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Long'],
  [415, 'Unsupported Media Type'],
  [416, 'Unsupported URI Scheme'],
  [420, 'Bad Extension'],
  [421, 'Extension Required'],
  [423, 'Interval Too Brief'],
  [480, 'Temporarily Unavailable'],
  [481, 'Call/Transaction Does Not Exist'],
  [482, 'Loop Detected'],
  [483, 'Too Many Hops'],
  [484, 'Address Incomplete'],
  [485, 'Ambiguous'],
  [486, 'Busy Here'],
  [487, 'Request Terminated'],
  [488, 'Not Acceptable Here'],
  [489, 'Bad Event'],
  [491, 'Request Pending'],
  [493, 'Undecipherable'],
  [500, 'Server Internal Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Server Time-out'],
  [505, 'Version Not Supported'],
  [513, 'Message Too Large'],
  [600, 'Busy Everywhere'],
  [603, 'Decline'],
  [604, 'Does Not Exist Anywhere'],
  [606, 'Not Acceptable'],
]);

const CLASS_REASONS = [
  '',
  'Informational',
  'Success',
  'Redirection',
  'Client Error',
  'Server Error',
  'Global Failure',
];

/** The usual reason phrase for `status`; the class name for codes without one. */
export function reasonPhrase(status: number): string {
  return REASONS.get(status) ?? CLASS_REASONS[Math.floor(status / 100)] ?? 'Unknown';
}

export interface MakeResponseOptions {
  /** To tag to add when the request's To has none (status > 100); random otherwise. */
  toTag?: string;
  /** Extra header lines, appended after the copied ones. */
  headers?: HeaderField[];
  body?: Uint8Array;
}

/**
 * A response to `req` per RFC 3261 §8.2.6.2: Via lines (all, in order),
 * From, Call-ID and CSeq copied; To copied, with a tag added when status > 100
 * and the request's To has none; Timestamp copied on 100 (§8.2.6.1).
 * Record-Route is not copied: the caller decides (it depends on the dialog).
 * Throws SipError when the request's To is malformed and a tag must be added.
 */
export function makeResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts?: MakeResponseOptions,
): SipResponse {
  const headers: HeaderField[] = [];
  for (const h of req.headers) {
    switch (h.name) {
      case 'Via':
      case 'From':
      case 'Call-ID':
      case 'CSeq':
        headers.push({ name: h.name, value: h.value });
        break;
      case 'To': {
        let value = h.value;
        if (status > 100 && !getTo(req).params.has('tag')) {
          let end = value.length;
          while (end > 0 && isWsp(value.charCodeAt(end - 1))) end--;
          value = `${value.slice(0, end)};tag=${opts?.toTag ?? generateTag()}`;
        }
        headers.push({ name: 'To', value });
        break;
      }
      case 'Timestamp':
        if (status === 100) headers.push({ name: h.name, value: h.value });
        break;
    }
  }
  if (opts?.headers) for (const h of opts.headers) headers.push({ name: h.name, value: h.value });
  return new SipResponse(status, reason ?? reasonPhrase(status), headers, opts?.body);
}
