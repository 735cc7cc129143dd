/**
 * The proxy's Resolver in a privacy-mode world: chooses the open or the
 * secret lookup by the caller's mode (the node's, or the contact's override)
 * and whether a pair state exists (./modes.ts), and turns a failure the
 * rules caused into a plain-words reason phrase and Warning.
 *
 * It never tries a second lookup after the first: "relaxed" falls back to
 * the open key only when there is no pair state, decided BEFORE looking up.
 */
import { normalizeAor } from '../identity/aor.js';
import type { Resolution, Resolver } from '../proxy/ports.js';
import {
  type Explanation,
  explainOpenMiss,
  explainRefused,
  explainSecretMiss,
  type LookupPlan,
  lookupPlan,
  type PrivacyMode,
} from './modes.js';

/** What one resolution did (for `p2psip status` and logs). */
export interface ResolutionReport {
  aor: string;
  mode: PrivacyMode;
  plan: LookupPlan;
  ok: boolean;
  status?: number;
  reason?: string;
}

export interface ModeResolverOptions {
  open: Resolver;
  secret: Resolver;
  /** The caller's effective mode for this callee (contact override, else the node's mode). */
  modeFor(aor: string): PrivacyMode;
  /** Whether a pair state (shared secret) with `aor` exists. */
  hasSecret(aor: string): boolean;
  /**
   * Our tunnel key to Record-Route with after a secret lookup (the current
   * epoch key: the friend can dial it back even when we do not listen on our
   * identity key, in paranoid mode).
   */
  secretRouteKey?(): string;
  onResolved?(report: ResolutionReport): void;
  log(level: 'debug' | 'info' | 'warn', msg: string): void;
}

export class ModeResolver implements Resolver {
  readonly #o: ModeResolverOptions;

  constructor(opts: ModeResolverOptions) {
    this.#o = opts;
  }

  async resolve(aorInput: string, signal?: AbortSignal): Promise<Resolution> {
    let aor: string;
    try {
      aor = normalizeAor(aorInput);
    } catch {
      return this.#o.open.resolve(aorInput, signal); // it explains the bad address
    }
    const mode = this.#o.modeFor(aor);
    const hasSecret = this.#o.hasSecret(aor);
    const plan = lookupPlan(mode, hasSecret);
    let result: Resolution;
    if (plan === 'refuse') {
      result = failure(explainRefused(aor));
    } else if (plan === 'open') {
      result = await this.#o.open.resolve(aor, signal);
      // Not found under the open key: the callee may be paranoid. Say so.
      if (!result.ok && result.status === 404 && !result.warning)
        result = failure(explainOpenMiss(aor, mode, hasSecret));
    } else {
      result = await this.#o.secret.resolve(aor, signal);
      // Found but offline, or the service down, is no privacy matter: say it as it is.
      const code = codeOf(result);
      if (!result.ok && !(code !== undefined && PASS_THROUGH.has(code)))
        result = failure(explainSecretMiss(aor, mode, result));
      const routeKey = this.#o.secretRouteKey?.();
      if (result.ok && routeKey) result = { ...result, localKey: routeKey };
    }
    if (result.ok) this.#o.log('info', `${aor} found by ${plan} lookup (${mode} mode)`);
    else this.#o.log('info', `${aor} unreachable (${mode} mode, ${plan} lookup): ${result.reason}`);
    this.#o.onResolved?.({
      aor,
      mode,
      plan,
      ok: result.ok,
      ...(result.ok ? {} : { status: result.status, reason: result.reason }),
    });
    return result;
  }
}

/** Secret-lookup outcomes that are not caused by the privacy rules (src/node/secret-resolver.ts codes). */
const PASS_THROUGH = new Set(['NO_SOFTPHONE', 'LOOKUP_FAILED']);

function codeOf(r: Resolution): string | undefined {
  return 'code' in r && typeof r.code === 'string' ? r.code : undefined;
}

function failure(e: Explanation): Resolution {
  return { ok: false, status: e.status, reason: e.reason, warning: e.warning };
}
