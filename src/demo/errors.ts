/** Typed demo errors: one class, stable string codes, a factory per condition. */

/** Stable error codes. Append only. */
export const DemoErrorCode = {
  /** A bounded wait ran out: something the step needed did not happen in time. */
  Timeout: 'DEMO_TIMEOUT',
  /** A step got an answer, but not the one a working setup gives (e.g. 404 instead of 200). */
  StepFailed: 'DEMO_STEP_FAILED',
  /** Something failed with an error that has no code of its own (the message says what). */
  Unexpected: 'DEMO_ERROR',
} as const;
export type DemoErrorCode = (typeof DemoErrorCode)[keyof typeof DemoErrorCode];

export class DemoError extends Error {
  readonly code: DemoErrorCode;

  constructor(code: DemoErrorCode, message: string) {
    super(message);
    this.name = 'DemoError';
    this.code = code;
  }

  static timeout(what: string, ms: number) {
    return new DemoError(DemoErrorCode.Timeout, `${what}: nothing after ${ms} ms`);
  }
  static stepFailed(why: string) {
    return new DemoError(DemoErrorCode.StepFailed, why);
  }
}
