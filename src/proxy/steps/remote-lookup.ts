/**
 * A request from our softphone to someone else: find the callee's node in the
 * lookup service (verified registration package) and send it there through a
 * tunnel. A call to our own AOR goes to our own softphones.
 */
import { parseRequestUri } from '../../sip/message/index.js';
import { aorOf } from '../registrar.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';
import { deliverLocally } from './local-delivery.js';

export const remoteLookup: ProxyStep = {
  name: 'remote-lookup',
  async process(ctx) {
    if (ctx.origin.kind !== 'local') return CONTINUE;
    const local = deliverLocally(ctx);
    if (local) return local;
    const uri = parseRequestUri(ctx.req.uri);
    if ((uri.scheme !== 'sip' && uri.scheme !== 'sips') || uri.user === undefined) {
      return reject(404, 'Not Found (call a user@domain address)');
    }
    const aor = aorOf(uri.user, uri.host);
    const found = await ctx.env.resolver.resolve(aor, ctx.signal);
    if (!found.ok) return reject(found.status, found.reason, found.warning);
    return {
      action: 'forward',
      target: {
        kind: 'tunnel',
        peerKey: found.peerKey,
        aor: found.aor,
        ...(found.localKey === undefined ? {} : { localKey: found.localKey }),
      },
    };
  },
};
