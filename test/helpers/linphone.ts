/**
 * A headless linphonec 5.1.65 (Debian package linphone-cli) for end-to-end
 * tests, driven by PID through commands on its stdin, with a scratch HOME
 * and a linphonerc of its own.
 *
 *   const alice = await startLinphone({
 *     aor: 'alice@example.org',
 *     proxy: { host: '127.0.0.1', port: node.ready.sip.port },
 *     playFile: wav,                        // what it "says" (soundcard use files)
 *   });
 *   try {
 *     await alice.waitFor(/^REGISTER_OK /, 10_000);
 *     await alice.call('sip:bob@example.org');
 *     await alice.waitFor(/^CALL_CONNECTED /, 10_000);
 *     alice.terminate();
 *     alice.chat('sip:bob@example.org', 'hello');
 *   } finally {
 *     await alice.stop();
 *   }
 *
 * Facts it relies on (/work/shared/notes/real-clients.md, and measured while
 * writing this helper):
 * - `HOME=<scratch>`, `-c <its own linphonerc>` (linphonec rewrites the
 *   file); ~/.local/share/linphone must exist or the chat database fails.
 * - `sip_tcp_port=0` and `sip_tls_port=0` (the TCP default is 5060 on every
 *   address); `bind_address=127.0.0.1` keeps SIP on loopback, and with a
 *   loopback proxy the Contact and SDP say 127.0.0.1.
 * - `reg_route` (the outbound proxy) is what sends INVITE and MESSAGE to the
 *   node: without it linphonec resolves the request-URI's domain in DNS.
 * - A NAT policy with no protocols: no STUN, no ICE candidates in the SDP.
 * - Codecs: PCMU only (opus is first by default), as the baresip test.
 * - No sound card: `soundcard use files` then `play FILE.wav`; both sides
 *   need a file, or one side sends almost no RTP.
 * - State on stdout ("Call 1 with sip:… connected.", "Media streams
 *   established …", "… ended (…)", "Message received from sip:…: text");
 *   with `-d 6` and no `-l` the log (every SIP message sent and received,
 *   the RTP statistics at call end) comes on the same stdout. Binary bodies
 *   (the IMDN MESSAGEs it answers a chat with, deflate-encoded) are cut by
 *   linphonec itself ("first N bytes shown").
 * - `quit` unregisters and exits; stdin must stay open (at EOF it spins).
 *
 * Events (`events`, matched by `waitFor`) are short strings, one per fact:
 *   REGISTER_OK sip:alice@example.org          (log: account state LinphoneRegistrationOk)
 *   CALL_INCOMING|CALL_CONNECTED|CALL_STREAMS|CALL_ENDED sip:peer@…   (stdout)
 *   MESSAGE sip:alice@example.org text         (stdout: "Message received from …")
 *   RTP_PACKETS 290 293                        (log statistics at call end: sent received)
 *
 * When linphonec is not installed, starting throws LINPHONE_NOT_FOUND
 * ("… install linphone-cli") — a test failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TracedSip } from './baresip.js';
import { killOnExit, signalChild } from './node-process.js';
import { freePort, freeUdpRange } from './ports.js';

export const LINPHONE_NOT_FOUND =
  'linphonec not found: install linphone-cli (apt-get install linphone-cli)';

/** Lines kept of linphonec's output (log included); later ones are dropped. */
const MAX_LINES = 50_000;
/** After `quit` (it unregisters, answered at once on loopback), before SIGTERM. */
const QUIT_GRACE_MS = 3_000;
/** After SIGTERM, before SIGKILL. */
const KILL_GRACE_MS = 1_500;
/** Audio RTP ports linphonec may pick from (it takes RTP and RTCP in the range). */
const RTP_RANGE = 10;
/** A log line: "2026-11-24 18:02:08:940 liblinphone-message-…". */
const LOG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} /;
const PROMPT = /^(?:linphonec> )+/;

export interface LinphoneOptions {
  /** The softphone's AOR, "alice@example.org" ("sip:" optional). */
  aor: string;
  /** Its proxy and outbound route: the p2psip node, UDP. Loopback only. */
  proxy: { host: '127.0.0.1'; port: number };
  /** The WAV file played into calls (PCM; see toneWav). */
  playFile: string;
  /** Answer incoming calls at once; default false. */
  autoAnswer?: boolean;
  /** Until linphonec prints its first prompt; default 15 s. */
  startTimeoutMs?: number;
  /** Watchdog: linphonec is killed after this long whatever happens; default 300 s. */
  lifetimeMs?: number;
}

/** A position in `events` and `output`; `waitFor` with it only looks at what came after. */
export interface LinphoneMark {
  events: number;
  output: number;
}

export interface LinphoneExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Linphone {
  pid: number;
  sipPort: number;
  /** The audio RTP ports it may use, [first, last]. */
  rtpPorts: [number, number];
  /** The scratch HOME (linphonerc, chat database); removed by stop(). */
  dir: string;
  /** Parsed events, in arrival order (see the module comment for the forms). */
  events: string[];
  /** Every line it printed (state, log), prompts removed. */
  output: string[];
  /** The SIP messages its log shows sent and received so far. */
  sipMessages(): TracedSip[];
  mark(): LinphoneMark;
  /**
   * The first event matching `re` (after `since`, default the start); waits
   * up to `timeoutMs`. Rejects on timeout or if linphonec exits first.
   */
  waitFor(re: RegExp, timeoutMs: number, since?: LinphoneMark): Promise<string>;
  /** As waitFor, for a raw output line (log included) instead of an event. */
  waitForOutput(re: RegExp, timeoutMs: number, since?: LinphoneMark): Promise<string>;
  /** Writes one command line to its stdin. */
  command(line: string): void;
  call(uri: string): void;
  /** Hangs up the current call. */
  terminate(): void;
  chat(uri: string, text: string): void;
  /** Ends linphonec by PID (`quit`, SIGTERM, SIGKILL; bounded) and removes `dir`. */
  stop(): Promise<LinphoneExit>;
}

/** The linphonerc a test instance starts from (linphonec adds its defaults to it). */
export function linphonerc(o: {
  aor: string;
  proxy: { host: string; port: number };
  sipPort: number;
  rtpPorts: [number, number];
}): string {
  const aor = o.aor.replace(/^sip:/, '');
  const proxy = `sip:${o.proxy.host}:${o.proxy.port};transport=udp`;
  const codec = (i: number, mime: string, rate: number, channels: number, enabled: boolean) => [
    `[audio_codec_${i}]`,
    `mime=${mime}`,
    `rate=${rate}`,
    `channels=${channels}`,
    `enabled=${enabled ? 1 : 0}`,
  ];
  return [
    '[sip]',
    `sip_port=${o.sipPort}`,
    'sip_tcp_port=0',
    'sip_tls_port=0',
    'bind_address=127.0.0.1',
    'use_ipv6=0',
    'default_proxy=0',
    'register_only_when_network_is_up=0',
    '[rtp]',
    `audio_rtp_port=${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
    '[net]',
    'nat_policy_ref=loopback',
    'stun_server=',
    'auto_net_state_mon=0',
    '[nat_policy_0]',
    'ref=loopback',
    'stun_server=',
    'protocols=',
    '[video]',
    'enabled=0',
    'display=0',
    'capture=0',
    '[proxy_0]',
    `reg_proxy=<${proxy}>`,
    `reg_route=<${proxy};lr>`,
    `reg_identity=sip:${aor}`,
    'reg_expires=600',
    'reg_sendregister=1',
    'publish=0',
    ...codec(0, 'PCMU', 8000, 1, true),
    ...codec(1, 'opus', 48000, 2, false),
    ...codec(2, 'PCMA', 8000, 1, false),
    ...codec(3, 'speex', 8000, 1, false),
    ...codec(4, 'speex', 16000, 1, false),
    ...codec(5, 'G729', 8000, 1, false),
    '',
  ].join('\n');
}

/** A WAV file (RIFF, PCM 16-bit, mono, `rate` Hz) of a sine at `hz`, `seconds` long. */
export function toneWav(seconds: number, hz = 440, rate = 8000): Buffer {
  const samples = Math.round(seconds * rate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * Turns linphonec's output lines (prompts removed) into events. Stateful:
 * the RTP statistics are a block of log lines after a title line.
 */
export class LinphoneOutputParser {
  #stats: { sent?: number } | undefined;

  push(line: string): string[] {
    let m: RegExpExecArray | null;
    if (this.#stats) {
      if ((m = /ortp-message-sent\s+(\d+) packets$/.exec(line))) this.#stats.sent = Number(m[1]);
      else if ((m = /ortp-message-received\s+(\d+) packets$/.exec(line))) {
        const sent = this.#stats.sent;
        this.#stats = undefined;
        if (sent !== undefined) return [`RTP_PACKETS ${sent} ${m[1]}`];
      } else if (!/ortp-message-/.test(line)) this.#stats = undefined;
      return [];
    }
    if (/AUDIO SESSION'S RTP STATISTICS/.test(line)) {
      this.#stats = {};
      return [];
    }
    if (
      (m =
        /identity \[(sips?:[^\]]+)\] moving from state \[\w+\] to \[LinphoneRegistration(Ok|Failed)\]/.exec(
          line,
        ))
    )
      return [`REGISTER_${m[2] === 'Ok' ? 'OK' : 'FAIL'} ${m[1]}`];
    if (LOG_LINE.test(line)) return [];
    if ((m = /^Receiving new incoming call from (\S+), assigned id \d+/.exec(line)))
      return [`CALL_INCOMING ${m[1]}`];
    if ((m = /^Call \d+ with (\S+) connected\.$/.exec(line))) return [`CALL_CONNECTED ${m[1]}`];
    if ((m = /^Media streams established with (\S+) for call \d+/.exec(line)))
      return [`CALL_STREAMS ${m[1]}`];
    if ((m = /^Call \d+ with (\S+) (ended|error)\b/.exec(line)))
      return [`CALL_ENDED ${m[1]} ${m[2]}`];
    if ((m = /^Message received from (\S+?): (.*)$/.exec(line))) return [`MESSAGE ${m[1]} ${m[2]}`];
    return [];
  }
}

/**
 * The SIP messages in linphonec's log (`-d 6`): a line "… message sent to
 * [UDP://host:port] …" or "… received [N] new bytes from [UDP://host:port]:",
 * then the message's lines up to the next log line. Addresses are the
 * peer's; `own` ("127.0.0.1:PORT") fills the other side.
 */
export function parseLinphoneTrace(lines: readonly string[], own: string): TracedSip[] {
  const out: TracedSip[] = [];
  for (let i = 0; i < lines.length; i++) {
    const sent = /message sent to \[(\w+):\/\/([^\]]+)\]/.exec(lines[i]!);
    const got = sent
      ? null
      : /received \[\d+\] new bytes from \[(\w+):\/\/([^\]]+)\]:$/.exec(lines[i]!);
    const m = sent ?? got;
    if (!m || !LOG_LINE.test(lines[i]!)) continue;
    let j = i + 1;
    const text: string[] = [];
    while (j < lines.length && !LOG_LINE.test(lines[j]!)) text.push(lines[j++]!.replace(/\r$/, ''));
    i = j - 1;
    const blank = text.indexOf('');
    const head = blank < 0 ? text : text.slice(0, blank);
    const [startLine, ...headers] = head;
    if (startLine === undefined || !/SIP\/2\.0/.test(startLine)) continue;
    const body = blank < 0 ? [] : text.slice(blank + 1);
    while (body.length > 0 && body.at(-1) === '') body.pop();
    out.push({
      transport: m[1]!,
      src: sent ? own : m[2]!,
      dst: sent ? m[2]! : own,
      startLine,
      headers,
      body: body.map((l) => `${l}\r\n`).join(''),
    });
  }
  return out;
}

/** Starts linphonec; resolves once it shows its prompt (registration is an event: REGISTER_OK). */
export async function startLinphone(opts: LinphoneOptions): Promise<Linphone> {
  if (opts.proxy.host !== '127.0.0.1')
    throw new Error('startLinphone: the proxy must be on 127.0.0.1');
  const sipPort = await freePort();
  const rtpPorts = await freeUdpRange(RTP_RANGE, new Set([sipPort]));
  const dir = await mkdtemp(join(tmpdir(), 'p2psip-linphone-'));
  await mkdir(join(dir, '.local', 'share', 'linphone'), { recursive: true });
  await mkdir(join(dir, '.config'), { recursive: true });
  const rc = join(dir, 'linphonerc');
  await writeFile(rc, linphonerc({ aor: opts.aor, proxy: opts.proxy, sipPort, rtpPorts }));
  const child = spawn('linphonec', ['-c', rc, '-d', '6'], {
    cwd: dir,
    env: {
      ...process.env,
      HOME: dir,
      XDG_DATA_HOME: join(dir, '.local', 'share'),
      XDG_CONFIG_HOME: join(dir, '.config'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  killOnExit(child, dir);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error(LINPHONE_NOT_FOUND) : err),
      );
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const phone = new LinphoneProcess(child, dir, sipPort, rtpPorts, opts.lifetimeMs);
  try {
    await phone.started(opts.startTimeoutMs ?? 15_000);
    phone.command('soundcard use files');
    phone.command(`play ${opts.playFile}`);
    if (opts.autoAnswer) phone.command('autoanswer enable');
  } catch (err) {
    await phone.stop();
    throw err;
  }
  return phone;
}

interface Waiter {
  where: 'events' | 'output';
  re: RegExp;
  since: LinphoneMark;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class LinphoneProcess implements Linphone {
  readonly pid: number;
  readonly events: string[] = [];
  readonly output: string[] = [];
  readonly #child: ChildProcess;
  readonly #parser = new LinphoneOutputParser();
  readonly #waiters = new Set<Waiter>();
  readonly #exited: Promise<LinphoneExit>;
  #exit: LinphoneExit | undefined;
  #partial = { out: '', err: '' };
  #prompted = false;

  constructor(
    child: ChildProcess,
    readonly dir: string,
    readonly sipPort: number,
    readonly rtpPorts: [number, number],
    lifetimeMs = 300_000,
  ) {
    this.#child = child;
    this.pid = child.pid as number;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.#onText('out', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#onText('err', d));
    child.stdin?.on('error', () => {});
    const watchdog = setTimeout(() => signalChild(child, 'SIGKILL'), lifetimeMs);
    watchdog.unref();
    this.#exited = new Promise((resolve) => {
      child.once('close', (code, sig) => {
        clearTimeout(watchdog);
        this.#exit = { code, signal: sig };
        const why = new Error(`linphonec exited (code ${code}, signal ${sig})\n${this.#tail()}`);
        for (const w of this.#waiters) this.#settle(w, undefined, why);
        resolve(this.#exit);
      });
    });
  }

  /** Resolves at the first prompt ("linphonec> "), the sign it reads commands. */
  async started(timeoutMs: number): Promise<void> {
    if (this.#prompted) return;
    await this.waitFor(/^PROMPT$/, timeoutMs);
  }

  sipMessages(): TracedSip[] {
    return parseLinphoneTrace(this.output, `127.0.0.1:${this.sipPort}`);
  }

  mark(): LinphoneMark {
    return { events: this.events.length, output: this.output.length };
  }

  waitFor(re: RegExp, timeoutMs: number, since?: LinphoneMark): Promise<string> {
    return this.#wait('events', re, timeoutMs, since);
  }

  waitForOutput(re: RegExp, timeoutMs: number, since?: LinphoneMark): Promise<string> {
    return this.#wait('output', re, timeoutMs, since);
  }

  #wait(
    where: Waiter['where'],
    re: RegExp,
    timeoutMs: number,
    since: LinphoneMark = { events: 0, output: 0 },
  ): Promise<string> {
    const found = this.#find(where, re, since);
    if (found !== undefined) return Promise.resolve(found);
    if (this.#exit)
      return Promise.reject(new Error(`linphonec has exited; ${re} never seen\n${this.#tail()}`));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        where,
        re,
        since,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.#settle(
              w,
              undefined,
              new Error(`linphonec: ${re} not seen within ${timeoutMs} ms\n${this.#tail()}`),
            ),
          timeoutMs,
        ),
      };
      this.#waiters.add(w);
    });
  }

  command(line: string): void {
    if (/[\r\n]/.test(line))
      throw new Error(`linphonec command with a line break: ${JSON.stringify(line)}`);
    if (this.#exit) throw new Error(`linphonec has exited; cannot run "${line}"\n${this.#tail()}`);
    this.#child.stdin?.write(`${line}\n`);
  }

  call(uri: string): void {
    this.command(`call ${uri}`);
  }

  terminate(): void {
    this.command('terminate');
  }

  chat(uri: string, text: string): void {
    this.command(`chat ${uri} ${text}`);
  }

  async stop(): Promise<LinphoneExit> {
    if (!this.#exit) {
      this.#child.stdin?.write('quit\n');
      const term = setTimeout(() => signalChild(this.#child, 'SIGTERM'), QUIT_GRACE_MS);
      const kill = setTimeout(
        () => signalChild(this.#child, 'SIGKILL'),
        QUIT_GRACE_MS + KILL_GRACE_MS,
      );
      await this.#exited;
      clearTimeout(term);
      clearTimeout(kill);
    }
    this.#child.stdin?.destroy();
    await rm(this.dir, { recursive: true, force: true });
    return this.#exited;
  }

  #onText(stream: 'out' | 'err', text: string): void {
    const lines = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = lines.pop() ?? '';
    // The prompt is printed without a line end: it is a line of its own once it is all that is left.
    if (PROMPT.test(this.#partial[stream])) {
      this.#partial[stream] = this.#partial[stream].replace(PROMPT, '');
      this.#onPrompt();
    }
    for (const raw of lines) {
      if (PROMPT.test(raw)) this.#onPrompt();
      const line = raw.replace(PROMPT, '');
      if (this.output.length < MAX_LINES) this.output.push(line);
      for (const ev of this.#parser.push(line.replace(/\r$/, ''))) this.events.push(ev);
    }
    this.#check();
  }

  #onPrompt(): void {
    if (this.#prompted) return;
    this.#prompted = true;
    this.events.push('PROMPT');
  }

  #find(where: Waiter['where'], re: RegExp, since: LinphoneMark): string | undefined {
    return this[where].slice(since[where]).find((l) => re.test(l));
  }

  #check(): void {
    for (const w of this.#waiters) {
      const found = this.#find(w.where, w.re, w.since);
      if (found !== undefined) this.#settle(w, found);
    }
  }

  #settle(w: Waiter, found: string | undefined, err?: Error): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (found !== undefined) w.resolve(found);
    else w.reject(err ?? new Error('linphonec: wait ended'));
  }

  #tail(): string {
    const state = this.output.filter((l) => !LOG_LINE.test(l) && l.trim() !== '');
    return `events: ${JSON.stringify(this.events.slice(-20))}\nstate lines:\n${state.slice(-30).join('\n')}`;
  }
}
