/**
 * Loose routing (RFC 3261 §16.4): remove the Route entries naming this node;
 * if another node's tunnel URI is next, that is where the request goes.
 * In-dialog requests travel this way, following the Record-Route set.
 */
import { popOwnRoutes, topRoute, tunnelKeyOf } from '../routing.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';

export const routeSet: ProxyStep = {
  name: 'route-set',
  process({ req, origin, env }) {
    popOwnRoutes(env.route, req);
    const next = topRoute(req);
    if (next === undefined) return CONTINUE;
    const key = tunnelKeyOf(next);
    // We relay only between our softphone and peers, never peer to peer.
    if (key !== undefined && origin.kind === 'local') {
      return { action: 'forward', target: { kind: 'tunnel', peerKey: key } };
    }
    return reject(403, 'Forbidden (no route to that hop through this node)');
  },
};
