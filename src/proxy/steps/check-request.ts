/**
 * The checks every request passes before it is routed (RFC 3261 §16.3,
 * §8.2.2, RFC 4475): src/sip/validate.ts decides, src/sip/errors.ts maps the
 * failure to the RFC's response code. REGISTER is answered by this node (its
 * registrar), so it is checked as a UAS; everything else as a proxy.
 */
import { errorResponse, resolvePolicy, validateRequest } from '../../sip/validate.js';
import { CONTINUE, type ProxyStep, reject } from '../step.js';

const FORWARD = resolvePolicy({ role: 'forward' });
const ANSWER = resolvePolicy({ role: 'answer' });

export const checkRequest: ProxyStep = {
  name: 'check-request',
  process({ req }) {
    const err = validateRequest(req, req.method === 'REGISTER' ? ANSWER : FORWARD);
    if (!err) return CONTINUE;
    const response = errorResponse(req, err);
    return response ? { action: 'respond', response } : reject(400, 'Bad Request');
  },
};
