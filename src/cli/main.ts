/**
 * `p2psip` command-line entry point: dispatches to one command per file.
 */
import type { CliIo, Command } from './command.js';
import { UsageError } from './command.js';
import { audit } from './commands/audit.js';
import { call } from './commands/call.js';
import { contacts } from './commands/contacts.js';
import { demo } from './commands/demo.js';
import { init } from './commands/init.js';
import { message } from './commands/message.js';
import { mode } from './commands/mode.js';
import { sipLint } from './commands/sip-lint.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { testnet } from './commands/testnet.js';
import { whoami } from './commands/whoami.js';

const COMMANDS: Command[] = [
  demo,
  init,
  whoami,
  start,
  mode,
  status,
  message,
  call,
  contacts,
  testnet,
  audit,
  sipLint,
];

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

function help(io: CliIo): void {
  io.stdout('p2psip: private, serverless calling for ordinary SIP softphones\n');
  io.stdout('Usage: p2psip <command> [options]\n\nCommands:');
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const c of COMMANDS) io.stdout(`  ${c.name.padEnd(width)}  ${c.summary}`);
  io.stdout("\nRun `p2psip help <command>` for a command's options.");
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const target = rest[0] && COMMANDS.find((c) => c.name === rest[0]);
    if (target) io.stdout(target.usage);
    else help(io);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    io.stdout(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`p2psip: unknown command "${name}". Run \`p2psip help\`.`);
    return 2;
  }
  if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`p2psip ${command.name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    io.stderr(`p2psip ${command.name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

export const VERSION = '0.1.0';
