/**
 * Finds a callee's node: looks the AOR's open key up, verifies every
 * candidate package (anyone can write under a well-known key) and picks the
 * best. Its failures carry the reason phrase the softphone will show.
 */
import { toHex } from '../crypto/bytes.js';
import { normalizeAor } from '../identity/aor.js';
import { openKey } from '../identity/open-key.js';
import type { LookupService } from '../overlay/lookup-service.js';
import { decodePackage } from '../package/decode.js';
import { PackageError } from '../package/errors.js';
import type { PackageFields } from '../package/fields.js';
import { verifyPackage } from '../package/verify.js';
import type { Resolution, Resolver } from '../proxy/ports.js';
import type { Store } from '../store/store.js';

export interface ResolverOptions {
  lookup: LookupService;
  store: Store;
  /** Lookup time limit (ms); the proxy must answer well within Timer B/F. Default 4000. */
  timeoutMs?: number;
  now?: () => number;
  log: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

export class PackageResolver implements Resolver {
  readonly #o: ResolverOptions;

  constructor(opts: ResolverOptions) {
    this.#o = opts;
  }

  async resolve(aorInput: string, signal?: AbortSignal): Promise<Resolution> {
    let aor: string;
    try {
      aor = normalizeAor(aorInput);
    } catch (err) {
      return {
        ok: false,
        status: 404,
        reason: 'Not Found (not a valid user@domain address)',
        warning: String(err),
      };
    }
    let records: Awaited<ReturnType<LookupService['find']>>;
    try {
      records = await this.#o.lookup.find(openKey(aor), {
        timeoutMs: this.#o.timeoutMs ?? 4000,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.#o.log('warn', `lookup of ${aor} failed: ${why}`);
      return {
        ok: false,
        status: 480,
        reason: 'Temporarily Unavailable (lookup service unreachable)',
        warning: why,
      };
    }
    const pinned = this.#o.store.getContact(aor)?.publicKey;
    const now = Math.floor((this.#o.now ?? Date.now)() / 1000);
    const valid: PackageFields[] = [];
    const rejected: string[] = [];
    for (const rec of records) {
      try {
        // Replay protection is per signing key: decode to learn the key, then
        // verify with the highest seq already accepted from it.
        const key = decodePackage(rec.value).fields.key;
        const seen = this.#o.store.getKv(seqKey(aor, key));
        const fields = verifyPackage(rec.value, {
          expectedAor: aor,
          now,
          ...(pinned ? { expectedKey: pinned } : {}),
          // The same package found again is fine; an older one is a replay.
          ...(seen === undefined ? {} : { lastSeq: Number(seen) - 1 }),
        });
        valid.push(fields);
      } catch (err) {
        rejected.push(err instanceof PackageError ? err.code : String(err));
      }
    }
    if (rejected.length > 0)
      this.#o.log(
        'warn',
        `ignored ${rejected.length} invalid package(s) for ${aor}: ${rejected.join(', ')}`,
      );
    if (valid.length === 0) {
      return records.length === 0
        ? {
            ok: false,
            status: 404,
            reason: `Not Found (${aor} is not registered in the lookup service)`,
          }
        : {
            ok: false,
            status: 404,
            reason: `Not Found (no valid registration for ${aor})`,
            warning: `rejected: ${rejected.join(', ')}`,
          };
    }
    valid.sort((a, b) => b.seq - a.seq);
    const best = valid[0]!;
    const keys = new Set(valid.map((v) => toHex(v.key)));
    if (keys.size > 1)
      this.#o.log(
        'warn',
        `${keys.size} different keys claim ${aor}; using the newest (seq ${best.seq})`,
      );
    for (const v of valid) this.#o.store.setKv(seqKey(aor, v.key), String(v.seq));
    const contact = best.contacts.find((c) => c.transport === 'hyperdht');
    if (contact?.transport !== 'hyperdht') {
      return {
        ok: false,
        status: 480,
        reason: `Temporarily Unavailable (${aor} has no softphone registered)`,
      };
    }
    const hint = addressHint(best.contacts);
    return { ok: true, peerKey: toHex(contact.key), aor, ...(hint ? { hint } : {}) };
  }
}

/** The first `udp` contact as {host, port} (the peer's DHT node), if any. */
export function addressHint(
  contacts: readonly PackageFields['contacts'][number][],
): { host: string; port: number } | undefined {
  for (const c of contacts) {
    if (c.transport !== 'udp') continue;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(c.addr);
    if (m) return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
  }
  return undefined;
}

function seqKey(aor: string, key: Uint8Array): string {
  return `resolver.seq:${aor}:${toHex(key)}`;
}
