/**
 * Several lookup services at once (issue 6; the seed used LAN multicast and
 * OpenDHT side by side): publish to all, look up in all in parallel.
 *
 * - publish / withdraw / putSecret go to every backend at once and succeed
 *   when at least one did (a backend that is down must not stop the node
 *   being found through the others); when all fail, the first error is
 *   thrown.
 * - find returns once every backend answered, or — as soon as one backend
 *   returned records — after `graceMs` more for the others (default 150 ms):
 *   the first backend with an answer wins unless another is about as fast.
 *   Records of all backends that answered are merged; the caller verifies
 *   each (signatures, AEAD) and takes the newest valid one, so a backend
 *   that returns garbage or stale records cannot win over a good one.
 * - getSecret does the same for secret records, which every backend already
 *   authenticates (signed by the record seed's key): of those found, the
 *   highest seq.
 *
 * Backends that fail are logged and left out; only when every backend failed
 * does find/getSecret throw.
 */
import type {
  FindOptions,
  FoundRecord,
  LookupService,
  PublishOptions,
} from './lookup-service.js';
import type {
  SecretGetOptions,
  SecretPutOptions,
  SecretRecord,
  SecretRecordService,
} from './secret-records.js';

export interface MultiOptions {
  /** After the first backend answered with something, wait this long for the others (ms). */
  graceMs?: number;
  log?: (level: 'debug' | 'info' | 'warn', msg: string) => void;
}

const DEFAULT_GRACE_MS = 150;

export class MultiLookup implements LookupService {
  readonly name: string;
  readonly #all: readonly LookupService[];
  readonly #o: MultiOptions;

  constructor(services: readonly LookupService[], opts: MultiOptions = {}) {
    if (services.length === 0) throw new TypeError('MultiLookup needs at least one service');
    this.#all = services;
    this.#o = opts;
    this.name = services.map((s) => s.name).join('+');
  }

  publish(key: Uint8Array, value: Uint8Array, opts: PublishOptions): Promise<void> {
    return toAll(this.#all, 'publish', (s) => s.publish(key, value, opts), this.#o);
  }

  withdraw(key: Uint8Array): Promise<void> {
    return toAll(this.#all, 'withdraw', (s) => s.withdraw(key), this.#o);
  }

  async find(key: Uint8Array, opts: FindOptions = {}): Promise<FoundRecord[]> {
    const answers = await race(
      this.#all,
      (s) => s.find(key, opts),
      (r) => r.length > 0,
      this.#o,
    );
    return answers.flat();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#all.map((s) => s.close()));
  }
}

export class MultiSecretRecords implements SecretRecordService {
  readonly name: string;
  readonly #all: readonly SecretRecordService[];
  readonly #o: MultiOptions;

  constructor(services: readonly SecretRecordService[], opts: MultiOptions = {}) {
    if (services.length === 0) throw new TypeError('MultiSecretRecords needs at least one service');
    this.#all = services;
    this.#o = opts;
    this.name = services.map((s) => (s as { name?: string }).name ?? '?').join('+');
  }

  /** The same in every backend: the Ed25519 public key of the seed. */
  addressOf(seed: Uint8Array): Uint8Array {
    return this.#all[0]!.addressOf(seed);
  }

  putSecret(seed: Uint8Array, value: Uint8Array, opts: SecretPutOptions): Promise<void> {
    return toAll(this.#all, 'putSecret', (s) => s.putSecret(seed, value, opts), this.#o);
  }

  async getSecret(
    ref: Parameters<SecretRecordService['getSecret']>[0],
    opts: SecretGetOptions = {},
  ): Promise<SecretRecord | undefined> {
    const found = await race(
      this.#all,
      (s) => s.getSecret(ref, opts),
      (r) => r !== undefined,
      this.#o,
    );
    let best: SecretRecord | undefined;
    for (const r of found) if (r && (!best || r.seq > best.seq)) best = r;
    return best;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#all.map((s) => s.close()));
  }
}

async function toAll<S extends { name?: string }>(
  services: readonly S[],
  what: string,
  op: (s: S) => Promise<void>,
  o: MultiOptions,
): Promise<void> {
  const results = await Promise.allSettled(services.map(op));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ name: services[i]!.name ?? String(i), error: r.reason }] : [],
  );
  for (const f of failed)
    o.log?.('warn', `${what} failed in ${f.name}: ${errorText(f.error)}`);
  if (failed.length === services.length) throw failed[0]!.error;
}

/**
 * Runs `op` on every service; resolves with the answers of those that
 * answered, once all did or `graceMs` after the first `useful` answer.
 * Throws only when every service failed.
 */
function race<S extends { name?: string }, T>(
  services: readonly S[],
  op: (s: S) => Promise<T>,
  useful: (t: T) => boolean,
  o: MultiOptions,
): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const answers: T[] = [];
    const errors: unknown[] = [];
    let pending = services.length;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (answers.length === 0 && errors.length > 0) reject(errors[0]);
      else resolve(answers);
    };
    for (const s of services) {
      op(s).then(
        (t) => {
          if (done) return;
          answers.push(t);
          if (useful(t) && timer === undefined && pending > 1)
            timer = setTimeout(finish, o.graceMs ?? DEFAULT_GRACE_MS);
          if (--pending === 0) finish();
        },
        (err: unknown) => {
          if (done) return;
          errors.push(err);
          o.log?.('info', `lookup in ${s.name ?? '?'} failed: ${errorText(err)}`);
          if (--pending === 0) finish();
        },
      );
    }
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
