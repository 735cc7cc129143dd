/**
 * When to close an idle tunnel, pure: a tunnel is idle after `timeoutMs` with
 * no frame sent or received and no holder (a dialog or a pending transaction
 * holds the tunnel it depends on). The clock is injected so the rules are
 * unit-tested without waiting.
 *
 * `touch()` runs for every frame, media datagrams included, so it only stores
 * a timestamp; the single timer re-arms itself for the remaining time when it
 * fires early. That is one timer per tunnel, not one per packet.
 */

export interface IdleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time; timers are unref'd so an idle tunnel never keeps the process alive. */
export const realClock: IdleClock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export class IdleTimer {
  readonly timeoutMs: number;
  #onIdle: () => void;
  #clock: IdleClock;
  #last: number;
  #holders = 0;
  #timer: unknown = null;
  #stopped = false;

  /** `timeoutMs` of 0 or Infinity disables idle closing. */
  constructor(timeoutMs: number, onIdle: () => void, clock: IdleClock = realClock) {
    if (!(timeoutMs >= 0)) throw new RangeError(`idle timeout must be ≥ 0, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
    this.#clock = clock;
    this.#last = clock.now();
    this.#arm(timeoutMs);
  }

  get holders(): number {
    return this.#holders;
  }

  /** Records activity (a frame in or out). */
  touch(): void {
    this.#last = this.#clock.now();
  }

  /** Keeps the tunnel open until the returned function is called (idempotent). */
  hold(): () => void {
    this.#holders++;
    this.#disarm();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holders--;
      if (this.#holders === 0) {
        this.touch();
        this.#arm(this.timeoutMs);
      }
    };
  }

  /** Stops for good (the tunnel closed for another reason). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    if (this.#stopped || this.#holders > 0 || this.#timer !== null) return;
    if (this.timeoutMs === 0 || this.timeoutMs === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), ms);
  }

  #disarm(): void {
    if (this.#timer === null) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #fire(): void {
    this.#timer = null;
    if (this.#stopped || this.#holders > 0) return;
    const quiet = this.#clock.now() - this.#last;
    if (quiet < this.timeoutMs) {
      this.#arm(this.timeoutMs - quiet);
      return;
    }
    this.stop();
    this.#onIdle();
  }
}
