/**
 * Bounded waiting for the demo: every wait has a limit and fails with a
 * DEMO_TIMEOUT that names what did not happen, so the demo ends by itself
 * whatever breaks. Timers are always cleared, so nothing keeps the process up.
 */
import { DemoError } from './errors.js';

/** `work`, or DEMO_TIMEOUT after `ms`. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(DemoError.timeout(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Things that happened (diagnostics events, DHT requests), kept in arrival
 * order with a `performance.now()` stamp, and waited for by predicate.
 */
export class Recorder<T> {
  readonly #entries: Array<T & { at: number }> = [];
  readonly #wake = new Set<() => void>();

  push(entry: T): void {
    this.#entries.push({ ...entry, at: performance.now() });
    for (const wake of [...this.#wake]) wake();
  }

  /** Every entry matching `pred` so far. */
  all(pred: (e: T & { at: number }) => boolean = () => true): Array<T & { at: number }> {
    return this.#entries.filter(pred);
  }

  /** The first entry matching `pred` (already there or still to come); DEMO_TIMEOUT after `ms`. */
  next(
    pred: (e: T & { at: number }) => boolean,
    ms: number,
    what: string,
  ): Promise<T & { at: number }> {
    const seen = this.#entries.find(pred);
    if (seen) return Promise.resolve(seen);
    let wake: () => void = () => {};
    const found = new Promise<T & { at: number }>((resolve) => {
      wake = () => {
        const hit = this.#entries.find(pred);
        if (hit) resolve(hit);
      };
      this.#wake.add(wake);
    });
    return within(found, ms, what).finally(() => this.#wake.delete(wake));
  }
}
