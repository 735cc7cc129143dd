/**
 * The node's settings, reachable from the softphone itself like a presence
 * status: a MESSAGE from our own softphone to the reserved address
 * `sip:privacy@p2psip.invalid` (RFC 6761: `.invalid` never names a real
 * domain, so no AOR can collide) whose text body is `open`, `relaxed` or
 * `paranoid` switches the privacy mode; an empty body (or `?`) asks for it.
 * The answer's reason phrase says the mode in force: "OK (privacy mode
 * paranoid)". Anything else is 488 with the accepted words.
 *
 * Only a request from a local softphone gets here as ours (authorize-origin
 * has already checked its From is the node's AOR); from a peer it is 403.
 */
import { makeResponse, parseRequestUri } from '../../sip/message/index.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';

export const CONTROL_HOST = 'p2psip.invalid';
export const PRIVACY_CONTROL_USER = 'privacy';

/** What the node lets a softphone change. */
export interface NodeControl {
  privacyMode(): string;
  /** Switches the mode; throws on a word that is not a mode. */
  setPrivacyMode(mode: string): Promise<void>;
  readonly privacyModes: readonly string[];
}

export const nodeControl: ProxyStep = {
  name: 'node-control',
  async process({ req, origin, env }) {
    const uri = parseRequestUri(req.uri);
    if (uri.scheme !== 'sip' || uri.host !== CONTROL_HOST) return CONTINUE;
    if (origin.kind !== 'local') return reject(403, 'Forbidden (node settings are local only)');
    if (uri.user !== PRIVACY_CONTROL_USER || !env.control)
      return reject(404, `Not Found (the node has no setting "${uri.user ?? ''}")`);
    if (req.method !== 'MESSAGE')
      return reject(405, 'Method Not Allowed (send a MESSAGE)', undefined, [
        { name: 'Allow', value: 'MESSAGE' },
      ]);
    const control = env.control;
    const word = new TextDecoder().decode(req.body).trim().toLowerCase();
    if (word !== '' && word !== '?') {
      if (!control.privacyModes.includes(word))
        return reject(
          488,
          `Not Acceptable Here (say ${control.privacyModes.join(', ')})`,
          `"${word.slice(0, 40)}" is not a privacy mode; send one of ${control.privacyModes.join(', ')} (or nothing to ask)`,
        );
      await control.setPrivacyMode(word);
    }
    return {
      action: 'respond',
      response: makeResponse(req, 200, `OK (privacy mode ${control.privacyMode()})`),
    };
  },
};
