/**
 * The proxy as a chain of small steps (after reSIProcate's repro processors).
 * Each step looks at a request and returns an explicit action: continue to the
 * next step, answer, or forward to a target. The chain, in order, is listed in
 * src/proxy/proxy.ts.
 */
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/message.js';
import type { MediaPort, Origin, Rejection, Resolver, Target } from './ports.js';
import type { Registrar } from './registrar.js';
import type { NodeRouteIdentity } from './routing.js';
import type { NodeControl } from './steps/node-control.js';

/** What the steps may read about the node. */
export interface ProxyEnv {
  /** The node's AOR in normal form. */
  readonly aor: string;
  readonly route: NodeRouteIdentity;
  readonly registrar: Registrar;
  readonly resolver: Resolver;
  /** Called after a REGISTER changed the bindings (publish / withdraw the package). */
  onBindingsChanged(): void;
  /** SDP rewriting and media relay between softphone and tunnel. Optional (none: SDP passes as is). */
  readonly media?: MediaPort;
  /** The settings a local softphone may change (steps/node-control.ts). Optional. */
  readonly control?: NodeControl;
  /** An INVITE got its final answer (for the call log). Optional. */
  onInviteFinal?(req: SipRequest, origin: Origin, status: number): void;
  log(level: 'debug' | 'info' | 'warn', msg: string): void;
}

export interface RequestContext {
  readonly req: SipRequest;
  readonly origin: Origin;
  readonly env: ProxyEnv;
  /** Aborted when the request is cancelled or the node stops. */
  readonly signal: AbortSignal;
}

export type StepResult =
  | { action: 'continue' }
  | { action: 'reject'; rejection: Rejection }
  | { action: 'respond'; response: SipResponse }
  | { action: 'forward'; target: Target };

export interface ProxyStep {
  readonly name: string;
  process(ctx: RequestContext): StepResult | Promise<StepResult>;
}

export const CONTINUE: StepResult = { action: 'continue' };

export function reject(
  status: number,
  reason: string,
  warning?: string,
  headers: HeaderField[] = [],
): StepResult {
  const rejection: Rejection = { status, reason };
  // RFC 3261 §20.43: Warning: 399 is "miscellaneous warning"; the text says why in plain words.
  if (warning)
    headers = [
      ...headers,
      { name: 'Warning', value: `399 p2psip "${warning.replace(/["\\]/g, "'")}"` },
    ];
  if (headers.length > 0) rejection.headers = headers;
  return { action: 'reject', rejection };
}
