/** REGISTER from the node's own softphone binds it (src/proxy/registrar.ts). */
import { CONTINUE, type ProxyStep, reject } from '../step.js';

export const registrarStep: ProxyStep = {
  name: 'registrar',
  process({ req, origin, env }) {
    if (req.method !== 'REGISTER') return CONTINUE;
    if (origin.kind !== 'local')
      return reject(403, 'Forbidden (REGISTER is only for local softphones)');
    const out = env.registrar.register(req, origin.flow);
    if (out.changed) env.onBindingsChanged();
    return { action: 'respond', response: out.response };
  },
};
