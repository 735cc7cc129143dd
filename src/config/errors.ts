/** Typed configuration errors; each names the file and, when it applies, the field. */

/** Stable error codes. Append only. */
export const ConfigErrorCode = {
  /** config.json exists but cannot be read. */
  Unreadable: 'CONFIG_UNREADABLE',
  /** config.json is not valid JSON (or not UTF-8). */
  Syntax: 'CONFIG_SYNTAX',
  /** A field has a wrong type or value. */
  Invalid: 'CONFIG_INVALID',
  /** A key this version does not know (often a typo: refused so it cannot silently fall back to a default). */
  UnknownKey: 'CONFIG_UNKNOWN_KEY',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** The config file (or '<config>' for an in-memory value). */
  readonly file: string;
  /** The offending field as a path, e.g. `overlay.bootstrap[1]`; undefined for file-level errors. */
  readonly field: string | undefined;

  constructor(code: ConfigErrorCode, file: string, field: string | undefined, message: string) {
    super(field === undefined ? `${file}: ${message}` : `${file}: ${field}: ${message}`);
    this.name = 'ConfigError';
    this.code = code;
    this.file = file;
    this.field = field;
  }

  static unreadable(file: string, why: string) {
    return new ConfigError(ConfigErrorCode.Unreadable, file, undefined, `cannot read (${why})`);
  }
  static syntax(file: string, why: string) {
    return new ConfigError(ConfigErrorCode.Syntax, file, undefined, `not valid JSON: ${why}`);
  }
  static invalid(file: string, field: string, why: string) {
    return new ConfigError(ConfigErrorCode.Invalid, file, field, why);
  }
  static unknownKey(file: string, field: string, allowed: readonly string[]) {
    return new ConfigError(
      ConfigErrorCode.UnknownKey,
      file,
      field,
      `unknown key (allowed here: ${allowed.join(', ')})`,
    );
  }
}
