/**
 * Requests addressed to the node itself (Request-URI host:port is our SIP
 * listener): OPTIONS is answered with our capabilities; nothing else is served
 * here yet.
 */
import { makeResponse, parseRequestUri } from '../../sip/message/index.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';

export const ALLOW =
  'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER, REGISTER';

export const nodeItself: ProxyStep = {
  name: 'node-itself',
  process({ req, env }) {
    const uri = parseRequestUri(req.uri);
    const host = env.route.localHost.includes(':')
      ? `[${env.route.localHost}]`
      : env.route.localHost;
    const addressedToUs =
      uri.host === host.toLowerCase() && (uri.port ?? 5060) === env.route.localPort;
    if (
      !addressedToUs ||
      env.registrar
        .bindings()
        .some((b) => b.contact.uri.port === uri.port && b.contact.uri.host === uri.host)
    ) {
      return CONTINUE;
    }
    if (req.method === 'OPTIONS') {
      return {
        action: 'respond',
        response: makeResponse(req, 200, 'OK', {
          headers: [
            { name: 'Allow', value: ALLOW },
            { name: 'Accept', value: 'application/sdp, text/plain, message/cpim' },
            { name: 'Supported', value: 'path, outbound' },
            { name: 'Server', value: 'p2psip' },
          ],
        }),
      };
    }
    if (req.method === 'REGISTER') return CONTINUE;
    return reject(404, 'Not Found (no service at this node address)');
  },
};
