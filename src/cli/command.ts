/**
 * The shape of a CLI command. Each command lives in its own file under
 * ./commands/ and is registered in ./main.ts. Commands, flags and output are a
 * public interface: extend compatibly, never rename.
 */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export interface Command {
  /** The word after `p2psip`. */
  name: string;
  /** One line for `p2psip help`. */
  summary: string;
  /** Usage text printed by `p2psip help NAME` and on a usage error. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A usage error: main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
