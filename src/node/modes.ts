/**
 * The privacy modes as rules (docs/protocol.md "Privacy modes"; the seed's
 * table). Pure: which records a node publishes, how it looks a callee up,
 * and the plain-words explanation a softphone gets when the rules make a
 * callee unreachable.
 *
 * | mode     | publishes under                        | looks up a contact with | anyone else with |
 * |----------|----------------------------------------|-------------------------|------------------|
 * | open     | open key + every contact's secret key  | open key                | open key         |
 * | relaxed  | open key + every contact's secret key  | secret key only         | open key         |
 * | paranoid | every contact's secret key             | secret key only         | (refused)        |
 *
 * "A contact" = a pair state exists (a contact with a pinned key; the first
 * secret comes from the two identity keys, no message needed). Relaxed
 * falls back to the open key only when there is NO pair state — never after
 * a secret lookup failed.
 */
import { PRIVACY_MODES, type PrivacyMode } from '../config/config.js';

export { PRIVACY_MODES, type PrivacyMode };

/** How a callee is looked up. */
export type LookupPlan = 'open' | 'secret' | 'refuse';

/** Whether the node keeps a record under its open key in `mode`. */
export function publishesOpen(mode: PrivacyMode): boolean {
  return mode !== 'paranoid';
}

/** The lookup a caller in `mode` makes for a callee, given whether a pair state exists. */
export function lookupPlan(mode: PrivacyMode, hasSecret: boolean): LookupPlan {
  if (mode === 'open') return 'open';
  if (hasSecret) return 'secret';
  return mode === 'relaxed' ? 'open' : 'refuse';
}

export function isPrivacyMode(value: unknown): value is PrivacyMode {
  return typeof value === 'string' && (PRIVACY_MODES as readonly string[]).includes(value);
}

/** A final answer in plain words: reason phrase (short) and Warning text (the why). */
export interface Explanation {
  status: number;
  reason: string;
  warning: string;
}

/** Paranoid caller, callee not a contact: the mode forbids the open lookup. */
export function explainRefused(aor: string): Explanation {
  return {
    status: 404,
    reason: `Not Found (paranoid mode calls contacts only; ${aor} is not one)`,
    warning: `paranoid mode never looks up open keys, and there is no shared secret with ${aor}: add ${aor}'s contact card, or switch to relaxed or open mode`,
  };
}

/**
 * The open lookup found no record. Among the causes is one the caller cannot
 * tell apart from "unknown" (by design): the callee is in paranoid mode.
 */
export function explainOpenMiss(aor: string, mode: PrivacyMode, hasSecret: boolean): Explanation {
  const how =
    mode === 'open' && hasSecret
      ? `you share a secret with ${aor}: switch to relaxed or paranoid mode to look it up with that`
      : `a paranoid user can only be called by a contact (both must hold each other's card) in relaxed or paranoid mode`;
  return {
    status: 404,
    reason: `Not Found (${aor} has no open registration: unknown, or in paranoid mode)`,
    warning: `no record under ${aor}'s open key: it is not registered, or it is in paranoid mode, which publishes only for contacts; ${how}`,
  };
}

/** A secret lookup found no usable record (relaxed and paranoid never fall back to the open key). */
export function explainSecretMiss(
  aor: string,
  mode: PrivacyMode,
  detail: { status: number; reason: string; warning?: string },
): Explanation {
  const noFallback =
    mode === 'relaxed'
      ? 'relaxed mode does not fall back to the open key after a secret lookup failed'
      : 'paranoid mode uses secret keys only';
  return {
    status: detail.status,
    reason: detail.reason.endsWith(')')
      ? `${detail.reason.slice(0, -1)}; ${mode} mode, no open-key fallback)`
      : `${detail.reason} (${mode} mode, no open-key fallback)`,
    warning: `${detail.warning ? `${detail.warning}; ` : ''}${aor} published no record for our shared secret (offline, or ${aor} does not hold our card); ${noFallback}`,
  };
}
