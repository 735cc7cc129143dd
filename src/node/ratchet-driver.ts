/**
 * The pair-ratchet driver: the I/O around the pure ratchet
 * (src/privacy/ratchet.ts), so that whenever two friends' nodes talk through
 * a tunnel their pair secret advances (docs/privacy.md "The ratchet",
 * "Driver (node)").
 *
 *   offerer (opened the tunnel)                       responder
 *   identified(tunnel, aor) → OFFER 0x11 ──────────▶  ratchetAccept, pairs.update, then
 *   ratchetConfirm, pairs.update, then  ◀────────────  REPLY 0x12
 *   CONFIRM 0x13 ──────────────────────────────────▶  ratchetFinish, pairs.update
 *
 * Rules kept here (the pure core keeps the cryptographic ones):
 * - at most one OFFER of ours per pair at a time; a crossed OFFER (both
 *   sides offered, on two tunnels) is settled by `ownOfferWins`;
 * - commit order: the state a step returns is stored BEFORE the message it
 *   produced is sent, so a crash loses a step, never half of one;
 * - the pending offer (its ephemeral secret) lives in memory only and is
 *   wiped when used, after `replyTimeoutMs`, when its tunnel closes, and on
 *   close(); every random buffer we draw is wiped after the step that used it;
 * - a message is processed with the pair state of the peer the tunnel
 *   PROVED to be (`aorOf`); an unidentified peer or a non-contact is logged
 *   and ignored — never a throw, which would close the tunnel;
 * - a refused OFFER (PRIVACY_MESSAGE_AUTH, …) is logged and answered with
 *   nothing; an offerer whose OFFERs go unanswered on a tunnel that stays
 *   open offers a reset (generation 0 only) after RESET_AFTER_UNANSWERED.
 *
 * Wiring (for the lead): one driver per node, created before peers may send
 * kinds 0x11–0x13 (a kind nobody handles closes the tunnel):
 *   `new RatchetDriver({ endpoint, pairs, identity, aorOf: (t) => peers.aorOf(t),
 *     onAdvanced: () => privacy.refresh() })`
 * and `driver.identified(tunnel, peer.aor)` from PeerIdentities' onIdentified,
 * for every tunnel (the driver offers only on outbound ones).
 */
import { toBase64url } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { normalizeAor } from '../identity/aor.js';
import type { Identity } from '../identity/identity.js';
import { privacyErrorCode } from '../privacy/errors.js';
import type { PairState } from '../privacy/pair-state.js';
import {
  ownOfferWins,
  type PendingOffer,
  ratchetAccept,
  ratchetConfirm,
  ratchetFinish,
  ratchetOffer,
  wipePending,
} from '../privacy/ratchet.js';
import {
  RATCHET_CONFIRM_KIND,
  RATCHET_OFFER_KIND,
  RATCHET_REPLY_KIND,
} from '../privacy/ratchet-messages.js';
import type { TunnelEndpoint } from '../tunnel/endpoint.js';
import { type IdleClock, realClock } from '../tunnel/idle.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { LogFn } from './log.js';
import type { PairSecrets } from './pair-secrets.js';

/** A pending OFFER is abandoned (and wiped) after this long without a REPLY. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
/** A pair is not ratcheted again sooner than this after our last OFFER or accepted OFFER. */
export const DEFAULT_MIN_INTERVAL_MS = 600_000;
/** After this many OFFERs in a row unanswered on an open tunnel, the next one is a reset. */
export const RESET_AFTER_UNANSWERED = 2;

const EPHEMERAL_SECRET_BYTES = 32;

export interface RatchetDriverOptions {
  /** Where the handlers for control kinds 0x11–0x13 are registered. */
  endpoint: Pick<TunnelEndpoint, 'onControl'>;
  /** The durable pair state per contact. */
  pairs: Pick<PairSecrets, 'stateFor' | 'update'>;
  /** Our identity: a pair state must be ours (its `self`) to be used. */
  identity: Pick<Identity, 'publicKey'>;
  /** The peer's AOR once its IDENTITY frame verified on `tunnel`, else undefined. */
  aorOf: (tunnel: Tunnel) => string | undefined;
  /** Cryptographically secure random bytes. Default src/crypto/random.ts. */
  random?: (n: number) => Uint8Array;
  /** Default DEFAULT_REPLY_TIMEOUT_MS. */
  replyTimeoutMs?: number;
  /** Default DEFAULT_MIN_INTERVAL_MS; 0 = offer on every new tunnel (tests). */
  minIntervalMs?: number;
  /** Clock for the interval, in ms. Default Date.now. */
  now?: () => number;
  /** Timers for the reply timeout (tests fire them by hand). Default: real, unref'd. */
  timers?: Pick<IdleClock, 'setTimeout' | 'clearTimeout'>;
  log?: LogFn;
  /**
   * The pair state with `aor` changed by a step: the offerer after it stored
   * the confirmed generation; the responder after it stored the new
   * generation (previous kept) and again when the CONFIRM dropped the previous.
   * Records to publish follow the state (SecretPublisher).
   */
  onAdvanced?: (aor: string, generation: number) => void;
}

/** Our OFFER waiting for its REPLY. */
interface Exchange {
  aor: string;
  tunnel: Tunnel;
  pending: PendingOffer;
  timer: unknown;
  onClose: () => void;
}

type Handler = (aor: string, body: Uint8Array, tunnel: Tunnel) => void;

export class RatchetDriver {
  readonly #o: RatchetDriverOptions;
  readonly #self: string;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #timers: Pick<IdleClock, 'setTimeout' | 'clearTimeout'>;
  readonly #replyTimeoutMs: number;
  readonly #minIntervalMs: number;
  /** Our OFFERs in flight, one per pair (normalized AOR). */
  readonly #offers = new Map<string, Exchange>();
  /** When we last offered to, or accepted an OFFER from, each pair (in memory). */
  readonly #lastStep = new Map<string, number>();
  /** OFFERs in a row that timed out on a tunnel still open, per pair. */
  readonly #unanswered = new Map<string, number>();
  /** Our last completed OFFER per pair: its tunnel and when (see #staleCrossed). */
  readonly #completed = new Map<string, { tunnel: Tunnel; at: number }>();
  readonly #off: (() => void)[] = [];
  #closed = false;

  constructor(opts: RatchetDriverOptions) {
    this.#o = opts;
    this.#self = toBase64url(opts.identity.publicKey);
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? randomBytes;
    this.#timers = opts.timers ?? realClock;
    this.#replyTimeoutMs = nonNegative(
      'replyTimeoutMs',
      opts.replyTimeoutMs,
      DEFAULT_REPLY_TIMEOUT_MS,
    );
    this.#minIntervalMs = nonNegative('minIntervalMs', opts.minIntervalMs, DEFAULT_MIN_INTERVAL_MS);
    const handlers: [number, string, Handler][] = [
      [RATCHET_OFFER_KIND, 'OFFER', (a, b, t) => this.#onOffer(a, b, t)],
      [RATCHET_REPLY_KIND, 'REPLY', (a, b, t) => this.#onReply(a, b, t)],
      [RATCHET_CONFIRM_KIND, 'CONFIRM', (a, b) => this.#onConfirm(a, b)],
    ];
    try {
      for (const [kind, what, handler] of handlers) {
        this.#off.push(
          opts.endpoint.onControl(kind, (body, t) => this.#receive(what, handler, body, t)),
        );
      }
    } catch (err) {
      for (const off of this.#off) off();
      throw err;
    }
  }

  /** Our OFFERs waiting for a REPLY (diagnostics). */
  get pendingOffers(): number {
    return this.#offers.size;
  }

  /**
   * The peer of `tunnel` proved to be `aor`. On a tunnel we opened, to a
   * contact, with no OFFER of ours to that pair in flight and none sent or
   * accepted within `minIntervalMs`: sends an OFFER.
   */
  identified(tunnel: Tunnel, aorInput: string): void {
    if (this.#closed || tunnel.direction !== 'outbound' || !tunnel.isOpen) return;
    const aor = normal(aorInput);
    if (aor === undefined || this.#peerOf(tunnel) !== aor) {
      this.#log('warn', `ratchet: tunnel peer is not ${aorInput} by its identity: no OFFER`);
      return;
    }
    if (this.#offers.has(aor)) return; // one exchange per pair at a time
    const last = this.#lastStep.get(aor);
    if (last !== undefined && this.#now() - last < this.#minIntervalMs) return;
    const state = this.#stateFor(aor, true);
    const binding = tunnel.handshakeHash;
    if (state === undefined || binding === null) return;
    const reset = (this.#unanswered.get(aor) ?? 0) >= RESET_AFTER_UNANSWERED;
    const offer = this.#withRandom((rand) => ratchetOffer(state, rand, binding, { reset }));
    const ex: Exchange = {
      aor,
      tunnel,
      pending: offer.pending,
      timer: this.#timers.setTimeout(() => this.#timeout(ex), this.#replyTimeoutMs),
      onClose: () => this.#drop(ex),
    };
    tunnel.once('close', ex.onClose);
    this.#offers.set(aor, ex);
    this.#lastStep.set(aor, this.#now());
    const gens = offer.pending.candidates.map((s) => s.gen).join(', ');
    if (this.#send(tunnel, RATCHET_OFFER_KIND, offer.message, aor, 'OFFER')) {
      this.#log(
        'debug',
        `ratchet: OFFER to ${aor} on generation(s) ${gens}${reset ? ' (reset)' : ''}`,
      );
    } else {
      this.#drop(ex);
    }
  }

  /** Removes the handlers and wipes every pending OFFER. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#off) off();
    for (const ex of [...this.#offers.values()]) this.#drop(ex);
  }

  // ---- handlers -----------------------------------------------------------

  /** Runs a handler for the tunnel's proved peer; nothing it does may throw out of here. */
  #receive(what: string, handler: Handler, body: Uint8Array, tunnel: Tunnel): void {
    try {
      const aor = this.#peerOf(tunnel);
      if (aor === undefined) {
        this.#log('info', `ratchet ${what} from a peer that has not identified itself: ignored`);
        return;
      }
      handler(aor, body, tunnel);
    } catch (err) {
      this.#log('warn', `ratchet ${what}: ${describe(err)}`);
    }
  }

  #onOffer(aor: string, body: Uint8Array, tunnel: Tunnel): void {
    const own = this.#offers.get(aor);
    if (own !== undefined && ownOfferWins(own.pending.state)) {
      this.#log('debug', `ratchet: crossed OFFERs with ${aor}: ours stands, theirs ignored`);
      return;
    }
    if (own === undefined && this.#staleCrossed(aor, tunnel)) {
      this.#log('debug', `ratchet: ${aor}'s crossed OFFER came after our exchange: ignored`);
      return;
    }
    const state = this.#stateFor(aor);
    const binding = tunnel.handshakeHash;
    if (state === undefined || binding === null) return;
    let accepted: ReturnType<typeof ratchetAccept>;
    try {
      accepted = this.#withRandom((rand) => ratchetAccept(state, body, rand, binding));
    } catch (err) {
      this.#log('warn', `ratchet OFFER from ${aor} refused, nothing sent: ${describe(err)}`);
      return;
    }
    if (own !== undefined) {
      this.#drop(own);
      this.#log('debug', `ratchet: crossed OFFERs with ${aor}: theirs wins, ours dropped`);
    }
    if (!this.#commit(aor, accepted.state, 'REPLY')) return;
    this.#lastStep.set(aor, this.#now());
    this.#send(tunnel, RATCHET_REPLY_KIND, accepted.reply, aor, 'REPLY');
    this.#advanced(aor, accepted.state);
  }

  #onReply(aor: string, body: Uint8Array, tunnel: Tunnel): void {
    const ex = this.#offers.get(aor);
    if (ex === undefined || ex.tunnel !== tunnel) {
      this.#log(
        'info',
        `ratchet REPLY from ${aor} answers no OFFER of ours on this tunnel: ignored`,
      );
      return;
    }
    this.#forget(ex); // used or refused: either way the ephemeral secret goes below
    let confirmed: ReturnType<typeof ratchetConfirm>;
    try {
      confirmed = ratchetConfirm(ex.pending, body);
    } catch (err) {
      this.#log('warn', `ratchet REPLY from ${aor} refused: ${describe(err)}`);
      return;
    } finally {
      wipePending(ex.pending);
    }
    if (!this.#commit(aor, confirmed.state, 'CONFIRM')) return;
    this.#unanswered.delete(aor);
    this.#completed.set(aor, { tunnel, at: this.#now() });
    this.#send(tunnel, RATCHET_CONFIRM_KIND, confirmed.confirm, aor, 'CONFIRM');
    this.#advanced(aor, confirmed.state);
  }

  #onConfirm(aor: string, body: Uint8Array): void {
    const state = this.#stateFor(aor);
    if (state === undefined) return;
    let finished: PairState;
    try {
      finished = ratchetFinish(state, body);
    } catch (err) {
      this.#log('warn', `ratchet CONFIRM from ${aor} refused: ${describe(err)}`);
      return;
    }
    if (finished === state) return; // a repeated CONFIRM changes nothing
    if (!this.#commit(aor, finished)) return;
    this.#advanced(aor, finished);
  }

  // ---- helpers ------------------------------------------------------------

  /**
   * An OFFER of the peer that crossed ours on another tunnel, arriving only
   * after our exchange completed: the peer dropped it when it accepted ours,
   * so answering it would start a second exchange from bases we no longer
   * hold (our previous generation is gone) — it would fall back to
   * generation 0 and leave the peer on the other generation. Recognized by
   * a tunnel other than our exchange's within `replyTimeoutMs` of completion.
   */
  #staleCrossed(aor: string, tunnel: Tunnel): boolean {
    const done = this.#completed.get(aor);
    if (done === undefined) return false;
    if (this.#now() - done.at >= this.#replyTimeoutMs) {
      this.#completed.delete(aor);
      return false;
    }
    return done.tunnel !== tunnel;
  }

  /** The proved peer of a tunnel, normalized; undefined if none (or not an AOR). */
  #peerOf(tunnel: Tunnel): string | undefined {
    const aor = this.#o.aorOf(tunnel);
    return aor === undefined ? undefined : normal(aor);
  }

  /**
   * Our pair state with a contact; undefined (logged) for a non-contact or a
   * store failure. A non-contact is routine when we only dial (`quiet`).
   */
  #stateFor(aor: string, quiet = false): PairState | undefined {
    try {
      const state = this.#o.pairs.stateFor(aor);
      if (state === undefined) {
        this.#log(quiet ? 'debug' : 'info', `ratchet: ${aor} is not a contact: ignored`);
      } else if (state.self !== this.#self) {
        this.#log('warn', `ratchet: the pair state with ${aor} is not our identity's: ignored`);
      } else {
        return state;
      }
    } catch (err) {
      this.#log('warn', `ratchet: no pair state with ${aor}: ${describe(err)}`);
    }
    return undefined;
  }

  /** Stores a step's state before its message goes out; false (logged) if the store refused. */
  #commit(aor: string, state: PairState, before?: string): boolean {
    try {
      this.#o.pairs.update(aor, state);
      return true;
    } catch (err) {
      const unsent = before === undefined ? '' : `, ${before} not sent`;
      this.#log(
        'warn',
        `ratchet: could not store the pair state with ${aor}${unsent}: ${describe(err)}`,
      );
      return false;
    }
  }

  #send(tunnel: Tunnel, kind: number, body: Uint8Array, aor: string, what: string): boolean {
    try {
      tunnel.sendControl(kind, body);
      return true;
    } catch (err) {
      this.#log('info', `ratchet: ${what} to ${aor} not sent: ${describe(err)}`);
      return false;
    }
  }

  #advanced(aor: string, state: PairState): void {
    this.#log(
      'info',
      `ratchet: pair with ${aor} at generation ${state.current.gen}${state.previous === null ? '' : ' (unconfirmed)'}`,
    );
    try {
      this.#o.onAdvanced?.(aor, state.current.gen);
    } catch (err) {
      this.#log('warn', `ratchet: onAdvanced for ${aor} failed: ${describe(err)}`);
    }
  }

  /** Runs `fn` with fresh ephemeral randomness and wipes it afterwards. */
  #withRandom<T>(fn: (rand: Uint8Array) => T): T {
    const rand = this.#random(EPHEMERAL_SECRET_BYTES);
    try {
      return fn(rand);
    } finally {
      rand.fill(0);
    }
  }

  #timeout(ex: Exchange): void {
    if (this.#offers.get(ex.aor) !== ex) return;
    this.#drop(ex);
    if (!ex.tunnel.isOpen) return;
    const n = (this.#unanswered.get(ex.aor) ?? 0) + 1;
    this.#unanswered.set(ex.aor, n);
    const next = n >= RESET_AFTER_UNANSWERED ? ' (the next OFFER is a reset)' : '';
    this.#log('info', `ratchet: no REPLY from ${ex.aor} within ${this.#replyTimeoutMs} ms${next}`);
  }

  /** Abandons an OFFER of ours: forgets it and wipes its ephemeral secret. */
  #drop(ex: Exchange): void {
    this.#forget(ex);
    wipePending(ex.pending);
  }

  /** Takes an OFFER of ours out of flight: timer, close listener, the pair's slot. */
  #forget(ex: Exchange): void {
    this.#timers.clearTimeout(ex.timer);
    ex.tunnel.off('close', ex.onClose);
    if (this.#offers.get(ex.aor) === ex) this.#offers.delete(ex.aor);
  }

  #log(level: Parameters<LogFn>[0], msg: string): void {
    this.#o.log?.(level, msg);
  }
}

function normal(aor: string): string | undefined {
  try {
    return normalizeAor(aor);
  } catch {
    return undefined;
  }
}

function nonNegative(what: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${what} must be a number ≥ 0`);
  return v;
}

function describe(err: unknown): string {
  const code = privacyErrorCode(err) ?? (err as { code?: unknown })?.code;
  const msg = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' ? `${code}: ${msg}` : msg;
}
