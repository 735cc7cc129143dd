/**
 * How each callee was last reached (for `p2psip status`): one store kv entry
 * per AOR, `reach:<aor>` → JSON. Written by the node after every lookup.
 */

/** One callee's last lookup outcome. Times in ms since the Unix epoch. */
export interface ReachEntry {
  /** The lookup the rules chose: 'open' key, 'secret' key, or 'refuse'd. */
  via: 'open' | 'secret' | 'refuse';
  /** The caller's mode for this callee at the time. */
  mode: string;
  lastAttempt: number;
  lastSuccess?: number;
  /** The reason phrase of the last failure, when the last attempt failed. */
  lastFailure?: string;
}

export const REACH_PREFIX = 'reach:';

/** A stored entry, or undefined when absent or not an entry (never throws). */
export function parseReach(text: string | undefined): ReachEntry | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<ReachEntry>;
    if (
      (v.via === 'open' || v.via === 'secret' || v.via === 'refuse') &&
      typeof v.mode === 'string' &&
      typeof v.lastAttempt === 'number'
    ) {
      return {
        via: v.via,
        mode: v.mode,
        lastAttempt: v.lastAttempt,
        ...(typeof v.lastSuccess === 'number' ? { lastSuccess: v.lastSuccess } : {}),
        ...(typeof v.lastFailure === 'string' ? { lastFailure: v.lastFailure } : {}),
      };
    }
  } catch {
    // not JSON: treated as absent
  }
  return undefined;
}

/** The entry after one more lookup. */
export function nextReach(
  previous: ReachEntry | undefined,
  outcome: { via: ReachEntry['via']; mode: string; ok: boolean; reason?: string },
  now: number,
): ReachEntry {
  const lastSuccess = outcome.ok ? now : previous?.lastSuccess;
  return {
    via: outcome.via,
    mode: outcome.mode,
    lastAttempt: now,
    ...(lastSuccess === undefined ? {} : { lastSuccess }),
    ...(outcome.ok ? {} : { lastFailure: outcome.reason ?? 'failed' }),
  };
}
