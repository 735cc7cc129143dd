/**
 * Caller ID is verified, not asserted. A local softphone may only send as the
 * node's own AOR; a peer node may only send as the AOR its tunnel key was
 * authenticated for. Anything else is a 403 that says why.
 */
import { getFrom } from '../../sip/message/index.js';
import { aorOf } from '../registrar.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';

export const authorizeOrigin: ProxyStep = {
  name: 'authorize-origin',
  process({ req, origin, env }) {
    const from = getFrom(req).uri;
    const fromAor = aorOf(from.user, from.host);
    if (origin.kind === 'local') {
      if (fromAor !== env.aor) {
        return reject(
          403,
          `Forbidden (this node sends only as ${env.aor})`,
          `From ${fromAor} is not this node's AOR ${env.aor}`,
        );
      }
      return CONTINUE;
    }
    if (origin.peerAor === undefined || fromAor !== origin.peerAor) {
      env.log(
        'warn',
        `403: From ${fromAor} through a tunnel authenticated as ${origin.peerAor ?? 'unknown'}`,
      );
      return reject(
        403,
        'Forbidden (caller ID does not match the authenticated peer)',
        `From ${fromAor} does not match the tunnel's verified identity`,
      );
    }
    return CONTINUE;
  },
};
