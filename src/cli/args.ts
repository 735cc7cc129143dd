/** Argument parsing shared by the commands: node:util parseArgs, strict; its errors become usage errors. */
import { parseArgs } from 'node:util';
import { UsageError } from './command.js';

export type Spec = Record<
  string,
  { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
>;

/** Options only (no positionals). */
export function parseCommandArgs(
  argv: string[],
  options: Spec,
): Record<string, string | boolean | undefined> {
  return parseWithPositionals(argv, options, 0, 0).values;
}

/** Options plus at least `minPositionals` positional arguments. */
export function parseWithPositionals(
  argv: string[],
  options: Spec,
  minPositionals: number,
  maxPositionals = Number.POSITIVE_INFINITY,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length < minPositionals) {
    throw new UsageError(`expected at least ${minPositionals} argument(s)`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`expected at most ${maxPositionals} argument(s)`);
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

/** "host:port" or "[v6]:port" → parts; a usage error names the flag. */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new UsageError(`${flag}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}
