/**
 * A request from a peer node for our user: to the registered softphone.
 * Initial requests are addressed to our AOR and get the binding's Contact as
 * Request-URI; in-dialog requests already name a softphone Contact and must
 * match one of our bindings (we relay to nothing else).
 */
import { formatUri, parseRequestUri } from '../../sip/message/index.js';
import type { Binding } from '../registrar.js';
import { aorOf } from '../registrar.js';
import { CONTINUE, type ProxyStep, type RequestContext, reject, type StepResult } from '../step.js';

export const localDelivery: ProxyStep = {
  name: 'local-delivery',
  process(ctx) {
    if (ctx.origin.kind !== 'tunnel') return CONTINUE;
    return deliverLocally(ctx) ?? reject(404, 'Not Found (no such user at this node)');
  },
};

/** Target for a request to our own AOR or to one of our softphones, else undefined. */
export function deliverLocally({ req, env }: RequestContext): StepResult | undefined {
  const uri = parseRequestUri(req.uri);
  const bindings = env.registrar.bindings();
  if (aorOf(uri.user, uri.host) === env.aor) {
    const b = bindings[0];
    if (!b) {
      return reject(
        480,
        `Temporarily Unavailable (${env.aor} has no softphone registered)`,
        `${env.aor} is online but no softphone is registered at the node`,
      );
    }
    return forwardTo(b, formatUri(b.contact.uri));
  }
  const match = bindings.find((b) => sameContact(b, uri.host, uri.port));
  return match ? forwardTo(match, undefined) : undefined;
}

function forwardTo(b: Binding, requestUri: string | undefined): StepResult {
  return {
    action: 'forward',
    target:
      requestUri === undefined
        ? { kind: 'local', flow: b.flow }
        : { kind: 'local', flow: b.flow, requestUri },
  };
}

/**
 * A Request-URI that names one of our softphones: its registered Contact's
 * host:port or the flow it registered from (the user part may differ between
 * REGISTER and dialog Contacts, e.g. sipp, so it is not compared).
 */
function sameContact(b: Binding, host: string, port: number | undefined): boolean {
  const c = b.contact.uri;
  const p = port ?? 5060;
  return (c.host === host && (c.port ?? 5060) === p) || (b.flow.host === host && b.flow.port === p);
}
