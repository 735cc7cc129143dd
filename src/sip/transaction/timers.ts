/**
 * Transaction timers (RFC 3261 §17, Table 4; RFC 6026 Timers L and M).
 *
 * Time is injected: transactions only ever call {@link TimerApi}, so unit
 * tests drive them with a manual clock and the core stays free of I/O.
 */

/** An opaque handle returned by {@link TimerApi.setTimeout}. */
export type TimerHandle = unknown;

/** The one clock a transaction layer uses. */
export interface TimerApi {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The process timers. Looked up at call time (not captured at import), so
 * node:test `mock.timers` also works against it.
 */
export const systemTimers: TimerApi = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Timer base values a caller may override (milliseconds). */
export interface TimerSettings {
  /** RTT estimate; default 500 ms (RFC 3261 §17.1.1.1). */
  t1?: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses; default 4 s. */
  t2?: number;
  /** Longest time a message stays in the network; default 5 s. */
  t4?: number;
  /**
   * Timer D over unreliable transports: "at least 32 seconds" (§17.1.1.2);
   * default 32 s. Over reliable transports it is always 0.
   */
  timerD?: number;
  /**
   * When an INVITE server transaction sends 100 Trying by itself: 0 (default)
   * sends it at once; N > 0 sends it after N ms unless the TU has sent a
   * response by then. A proxy MUST answer within 200 ms (§16.2, §17.2.1).
   */
  tryingDelay?: number;
}

/** Settings with every value resolved. */
export type TimerConfig = Readonly<Required<TimerSettings>>;

export const DEFAULT_TIMERS: TimerConfig = {
  t1: 500,
  t2: 4000,
  t4: 5000,
  timerD: 32000,
  tryingDelay: 0,
};

/** Fill defaults and reject values that would break the retransmit schedule. */
export function resolveTimers(s: TimerSettings = {}): TimerConfig {
  const c: TimerConfig = {
    t1: s.t1 ?? DEFAULT_TIMERS.t1,
    t2: s.t2 ?? DEFAULT_TIMERS.t2,
    t4: s.t4 ?? DEFAULT_TIMERS.t4,
    timerD: s.timerD ?? DEFAULT_TIMERS.timerD,
    tryingDelay: s.tryingDelay ?? DEFAULT_TIMERS.tryingDelay,
  };
  for (const [name, v] of Object.entries(c)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`timer ${name} must be >= 0, got ${v}`);
  }
  if (c.t1 <= 0) throw new RangeError('timer t1 must be > 0');
  if (c.t2 < c.t1) throw new RangeError('timer t2 must be >= t1');
  return c;
}

/** Timer names as the RFCs spell them, plus the delayed 100 Trying. */
export type TimerName =
  | 'A'
  | 'B'
  | 'D'
  | 'E'
  | 'F'
  | 'G'
  | 'H'
  | 'I'
  | 'J'
  | 'K'
  | 'L'
  | 'M'
  | 'Trying';
