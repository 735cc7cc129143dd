/**
 * Runs sipp (Debian package sip-tester) scenarios for tests, by PID.
 *
 *   const r = await runSipp({ scenario: fixture('options-uac.xml'), transport: 'u1',
 *                             target: `127.0.0.1:${port}`, calls: 5 });
 *   assert.equal(r.code, 0, r.stdout);  assert.equal(r.successful, 5);
 *
 * Always `-i 127.0.0.1 -nostdin` (see /work/shared/notes/real-clients.md),
 * an explicit local port (`-p`, a free one by default) and a global
 * `-timeout` with `-timeout_error`, so a lost message fails the run instead of
 * hanging it. A watchdog kills the process if sipp itself overstays, and
 * `stop()` (used in `finally`) ends it by PID: SIGTERM, then SIGKILL.
 *
 * When sipp is not installed, starting throws
 * "sipp not found: apt-get install sip-tester" — a test failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export const SIPP_NOT_FOUND = 'sipp not found: apt-get install sip-tester';

/** sipp transport modes: UDP/TCP, one socket (1) or one per call (n). */
export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  /** Scenario XML file (-sf). */
  scenario?: string;
  /** Built-in scenario name (-sn), e.g. 'uac', 'uas'. */
  builtin?: string;
  /** Remote "host:port" (a UAC's target); omitted for a UAS. */
  target?: string;
  /** Default 'u1'. */
  transport?: SippTransport;
  /** Stop after this many calls (-m). */
  calls?: number;
  /** Calls per second (-r). */
  rate?: number;
  /** Local SIP port (-p); a free loopback port by default. Read it back from the result. */
  localPort?: number;
  /** sipp's own global timeout in seconds (-timeout, -timeout_error); default 20. */
  timeoutSec?: number;
  /** Further arguments, appended before the target. */
  args?: string[];
  /** The executable (default 'sipp', looked up on PATH). */
  bin?: string;
}

export interface SippResult {
  /** Exit code (0 = every call succeeded); null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** "Successful call" and "Failed call" cumulative counters from the final screen, if printed. */
  successful: number | undefined;
  failed: number | undefined;
  /** The full argument list, for failure messages. */
  args: string[];
}

export interface SippProcess {
  pid: number;
  localPort: number;
  /** Resolves when sipp exits (never rejects). */
  done: Promise<SippResult>;
  /** Ends sipp by PID if still running (SIGTERM, then SIGKILL) and returns its result. */
  stop(): Promise<SippResult>;
}

/** Absolute path of a scenario under test/fixtures/sipp/. */
export function sippFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/sipp/${name}`, import.meta.url));
}

const MAX_OUTPUT = 256 * 1024;
/** Grace after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 3000;
/** How long past its own -timeout sipp may run before the watchdog kills it. */
const WATCHDOG_SLACK_MS = 10_000;

/** Starts sipp; resolves once the process runs. Throws SIPP_NOT_FOUND when it is not installed. */
export async function startSipp(opts: SippOptions): Promise<SippProcess> {
  if ((opts.scenario === undefined) === (opts.builtin === undefined)) {
    throw new Error('startSipp: give exactly one of scenario or builtin');
  }
  const localPort = opts.localPort ?? (await freePort());
  const timeoutSec = opts.timeoutSec ?? 20;
  const args = [
    ...(opts.scenario !== undefined ? ['-sf', opts.scenario] : ['-sn', opts.builtin as string]),
    '-t',
    opts.transport ?? 'u1',
    '-i',
    '127.0.0.1',
    '-p',
    String(localPort),
    '-nostdin',
    '-timeout',
    `${timeoutSec}s`,
    '-timeout_error',
    ...(opts.calls !== undefined ? ['-m', String(opts.calls)] : []),
    ...(opts.rate !== undefined ? ['-r', String(opts.rate)] : []),
    ...(opts.args ?? []),
    ...(opts.target !== undefined ? [opts.target] : []),
  ];
  const child = spawn(opts.bin ?? 'sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(SIPP_NOT_FOUND) : err),
    );
  });
  const pid = child.pid as number;
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout = (stdout + d).slice(-MAX_OUTPUT);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-MAX_OUTPUT);
  });
  const watchdog = setTimeout(() => kill(child, 'SIGKILL'), timeoutSec * 1000 + WATCHDOG_SLACK_MS);
  const done = new Promise<SippResult>((resolve) => {
    // 'close' (not 'exit'): the output pipes are drained by then.
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        successful: counter(stdout, 'Successful call'),
        failed: counter(stdout, 'Failed call'),
        args,
      });
    });
  });
  const stop = async (): Promise<SippResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      kill(child, 'SIGTERM');
      const grace = setTimeout(() => kill(child, 'SIGKILL'), KILL_GRACE_MS);
      await done;
      clearTimeout(grace);
    }
    return done;
  };
  return { pid, localPort, done, stop };
}

/** Runs sipp to the end (stopping it by PID whatever happens) and returns its result. */
export async function runSipp(opts: SippOptions): Promise<SippResult> {
  const proc = await startSipp(opts);
  try {
    return await proc.done;
  } finally {
    await proc.stop();
  }
}

/** A one-line summary for assertion messages. */
export function describeSipp(r: SippResult): string {
  const tail = r.stdout.split('\n').slice(-40).join('\n');
  return `sipp ${r.args.join(' ')}\nexit ${r.code} signal ${r.signal}\n${tail}\n${r.stderr}`;
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

/** Cumulative value of a row of sipp's final statistics screen ("| periodic | cumulative"). */
function counter(screen: string, name: string): number | undefined {
  const re = new RegExp(`${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'g');
  let last: string | undefined;
  for (const m of screen.matchAll(re)) last = m[1];
  return last === undefined ? undefined : Number(last);
}

// ---------------------------------------------------------------- scenario keys and message logs

/** `-key NAME VALUE` arguments (the e2e scenarios' parameters, docs/testing.md). */
export function sippKeys(keys: Record<string, string>): string[] {
  return Object.entries(keys).flatMap(([name, value]) => ['-key', name, value]);
}

let logCounter = 0;

/** A fresh path under os.tmpdir() for sipp's `-message_file` (remove it in `finally`). */
export function sippLogPath(name: string): string {
  return join(tmpdir(), `p2psip-sipp-${process.pid}-${++logCounter}-${name}.log`);
}

/** Arguments that make sipp log every message it sends and receives to `path`. */
export function traceArgs(path: string): string[] {
  return ['-trace_msg', '-message_file', path];
}

/** One SIP message from a sipp `-trace_msg` log. */
export interface LoggedMessage {
  direction: 'sent' | 'received';
  text: string;
  /** "INVITE", "ACK", … for requests; "200", "180", … for responses. */
  kind: string;
}

/**
 * Parses (then deletes) a `-message_file`: blocks after "----- date" lines,
 * each "UDP|TCP message sent (N bytes):" or "… received [N] bytes :" and the message.
 * sipp's own notes in the file ("Unexpected … message received:") are not messages.
 */
export async function readSippLog(path: string): Promise<LoggedMessage[]> {
  const text = await readFile(path, 'utf8');
  await rm(path, { force: true });
  const out: LoggedMessage[] = [];
  for (const block of text.split(/^-{20,} .*$/m)) {
    const m = /^\s*(?:UDP|TCP) message (sent|received)[^\n]*\n\n?([\s\S]*)$/.exec(block);
    if (!m) continue;
    const message = m[2]!.replace(/\n-{20,}\n[\s\S]*$/, '').trim();
    const first = message.split(/\r?\n/, 1)[0]!;
    const kind = first.startsWith('SIP/2.0 ') ? first.split(' ')[1]! : first.split(' ')[0]!;
    out.push({ direction: m[1] as 'sent' | 'received', text: message, kind });
  }
  return out;
}

/** The kinds of the messages logged in one direction, in order. */
export function loggedKinds(log: LoggedMessage[], direction: 'sent' | 'received'): string[] {
  return log.filter((m) => m.direction === direction).map((m) => m.kind);
}

/**
 * Every value of header `name` in a logged message, one entry per element:
 * several header lines and comma-folded lines (what sipp does with
 * Record-Route) give the same list (RFC 3261 §7.3.1). Commas inside <…> or
 * quotes do not split.
 */
export function headerValues(message: string, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  const head = message.split(/\r?\n\r?\n/, 1)[0]!;
  const out: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (!line.toLowerCase().startsWith(prefix)) continue;
    let depth = 0;
    let quoted = false;
    let start = prefix.length;
    for (let i = start; i <= line.length; i++) {
      const c = line[i];
      if (c === '"') quoted = !quoted;
      else if (!quoted && c === '<') depth++;
      else if (!quoted && c === '>') depth--;
      if (i === line.length || (c === ',' && depth === 0 && !quoted)) {
        const part = line.slice(start, i).trim();
        if (part !== '') out.push(part);
        start = i + 1;
      }
    }
  }
  return out;
}

/** The Request-URI of a logged request. */
export function requestUriOf(message: string): string {
  return message.split(/\r?\n/, 1)[0]!.split(' ')[1] ?? '';
}
