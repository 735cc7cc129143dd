/**
 * A headless baresip 1.0.0 (Debian package baresip-core) for end-to-end tests,
 * driven by PID, with a config folder of its own.
 *
 *   const alice = await startBaresip({
 *     aor: 'alice@example.org',
 *     proxy: { host: '127.0.0.1', port: node.ready.sip.port, transport: 'udp' },
 *     contacts: ['sip:bob@example.org'],
 *   });
 *   try {
 *     await alice.waitFor(/^REGISTER_OK /, 10_000);
 *     await alice.dial('sip:bob@example.org');
 *     await alice.waitFor(/^CALL_ESTABLISHED /, 10_000);
 *     await alice.sendMessage('sip:bob@example.org', 'hello');
 *   } finally {
 *     await alice.stop();
 *   }
 *
 * Facts it relies on (measured, /work/shared/notes/real-clients.md):
 * - `net_interface 127.0.0.1` (an IP; "lo" fails), else it advertises the
 *   LAN address in Contact and SDP. `sip_listen P` also binds TCP P+1 (TLS),
 *   so the SIP port is chosen with P+1 free too.
 * - No sound card: `audio_source ausine,440` at 48 kHz stereo, player
 *   `alsa,null`; codecs PCMU/PCMA (g711.so).
 * - Control over `ctrl_tcp.so`: netstring JSON commands with a token, the
 *   response carries the token back; call events arrive on the same
 *   connection (one client at a time). `stdio.so` needs a stdin it can poll
 *   (a pipe: /dev/null is refused by epoll) and is what prints incoming
 *   MESSAGEs. `/message TEXT` goes to the current contact (contact.so), so
 *   targets must be in `contacts` at start; `sendMessage` selects one.
 * - `answermode=auto` in the account line answers calls by itself.
 * - One SIGTERM makes baresip unregister and wait for the answer (up to 32 s
 *   when the registrar is gone); a second SIGTERM forces the exit.
 *
 * Events (`events`, matched by `waitFor`) are short strings, one per fact:
 *   REGISTER_OK sip:alice@example.org          (stdout: "… {0/UDP/v4} 200 OK …")
 *   REGISTER_FAIL sip:alice@example.org 403 Forbidden ()      (stdout: "reg: …")
 *   MESSAGE sip:bob@example.org hello                          (stdout, stdio.so)
 *   RTP_PACKETS 90 88                  (stdout stats at call end: transmit receive)
 *   CALL_RINGING|CALL_ESTABLISHED|CALL_CLOSED|CALL_INCOMING… <peer uri>   (ctrl_tcp)
 * With `sipTrace` (baresip -s) every SIP message it sends and receives is
 * printed too; `sipMessages()` reads them back (e.g. the SDP a phone got).
 * Registration comes from stdout, never from ctrl_tcp: the first REGISTER is
 * answered before the control connection exists, and one source avoids
 * counting a fact twice.
 *
 * When baresip is not installed, starting throws
 * "baresip not found: apt-get install baresip-core" — a test failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit, signalChild } from './node-process.js';
import { freePort } from './ports.js';

export const BARESIP_NOT_FOUND = 'baresip not found: apt-get install baresip-core';

const MODULE_PATH = '/usr/lib/baresip/modules';
/** Lines kept of baresip's output (for failure messages and waitFor); later ones are dropped. */
const MAX_LINES = 5000;
/** How long the first SIGTERM may take (unregister answered on loopback) before the second. */
const TERM_GRACE_MS = 1500;
/** After the second SIGTERM, before SIGKILL. */
const KILL_GRACE_MS = 1500;
const ANSI = /\x1b\[[0-9;]*m/g;
const STATUS_LINE = /^\[\d+:\d\d:\d\d\] audio=/;

export interface BaresipOptions {
  /** The softphone's AOR, "alice@example.org" ("sip:" optional). */
  aor: string;
  /** Where it registers and sends everything: the p2psip node (or a sipp stand-in). Loopback only. */
  proxy: { host: '127.0.0.1'; port: number; transport: 'udp' | 'tcp' };
  /** Local SIP port (P and P+1 are bound); default: a free pair. */
  sipPort?: number;
  /** Answer incoming calls at once (`answermode=auto`); default true. */
  autoAnswer?: boolean;
  /** URIs `sendMessage` may target (written to the contacts file); default none. */
  contacts?: string[];
  /** Re-registration interval in seconds (`regint`); default 60. */
  regint?: number;
  /** Until baresip answers on its control port; default 15 s. */
  startTimeoutMs?: number;
  /** Watchdog: baresip is killed after this long whatever happens; default 300 s. */
  lifetimeMs?: number;
  /** Print every SIP message sent and received (`baresip -s`), for `sipMessages()`; default false. */
  sipTrace?: boolean;
}

/** One SIP message from baresip's trace (`-s`), as it went over the wire. */
export interface TracedSip {
  /** "UDP", "TCP", … */
  transport: string;
  /** "127.0.0.1:PORT" of the sender and the receiver. */
  src: string;
  dst: string;
  /** "INVITE sip:… SIP/2.0" or "SIP/2.0 200 OK". */
  startLine: string;
  headers: string[];
  /** The body's lines joined with CRLF (each line ended by one), "" without a body. */
  body: string;
}

/** A position in `events` and `output`; `waitFor` with it only looks at what came after. */
export interface BaresipMark {
  events: number;
  output: number;
}

export interface BaresipExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Baresip {
  pid: number;
  sipPort: number;
  ctrlPort: number;
  /** The config folder (config, accounts, contacts, uuid); removed by stop(). */
  dir: string;
  /** Parsed events, in arrival order (see the module comment for the forms). */
  events: string[];
  /** Every line baresip printed (stdout and stderr, colour codes removed). */
  output: string[];
  /** The raw JSON events from ctrl_tcp. */
  ctrlEvents: Record<string, unknown>[];
  /** The SIP messages in the trace so far (needs `sipTrace`; else none). */
  sipMessages(): TracedSip[];
  mark(): BaresipMark;
  /**
   * The first event, else output line, matching `re` (after `since`, default the
   * start); waits up to `timeoutMs`. Rejects on timeout or if baresip exits first.
   */
  waitFor(re: RegExp, timeoutMs: number, since?: BaresipMark): Promise<string>;
  /** Runs a ctrl_tcp command (menu name without "/"); resolves with its text, rejects when not ok. */
  command(name: string, params?: string, timeoutMs?: number): Promise<string>;
  dial(uri: string): Promise<string>;
  hangup(): Promise<string>;
  /** Answers an incoming call (when autoAnswer is false). */
  accept(): Promise<string>;
  /** Sends a MESSAGE to `uri`, which must be one of `contacts`. */
  sendMessage(uri: string, text: string): Promise<string>;
  /** Ends baresip by PID (SIGTERM, SIGTERM, SIGKILL; bounded) and removes `dir`. */
  stop(): Promise<BaresipExit>;
}

/** The account line: registers `aor` through `proxy` (the notes' form, checked with a reference proxy). */
export function accountLine(
  opts: Pick<BaresipOptions, 'aor' | 'proxy' | 'autoAnswer' | 'regint'>,
): string {
  const aor = opts.aor.replace(/^sip:/, '');
  const t = opts.proxy.transport;
  const answer = (opts.autoAnswer ?? true) ? 'auto' : 'manual';
  return (
    `<sip:${aor};transport=${t}>;outbound="sip:${opts.proxy.host}:${opts.proxy.port};transport=${t}"` +
    `;regint=${opts.regint ?? 60};answermode=${answer};audio_codecs=pcmu,pcma;mwi=no;pubint=0`
  );
}

/** The config file. `dns_server` on loopback keeps any name lookup on this machine. */
export function configText(sipPort: number, ctrlPort: number): string {
  return [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'net_interface 127.0.0.1',
    'dns_server 127.0.0.1:53',
    'call_local_timeout 120',
    'audio_player alsa,null',
    'audio_alert alsa,null',
    'audio_source ausine,440',
    'ausrc_srate 48000',
    'ausrc_channels 2',
    'rtp_stats yes',
    `module_path ${MODULE_PATH}`,
    'module stdio.so',
    'module g711.so',
    'module ausine.so',
    'module alsa.so',
    'module_tmp uuid.so',
    'module_tmp account.so',
    'module_app contact.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    '',
  ].join('\n');
}

/**
 * Turns baresip's output lines into events. Stateful: an incoming MESSAGE is
 * printed as `sip:from: "text` and its body may run over several lines up to
 * the closing quote.
 */
export class BaresipOutputParser {
  #message: { from: string; lines: string[] } | undefined;
  static readonly #MAX_MESSAGE_LINES = 100;

  /** The events `line` completes (usually none or one). */
  push(line: string): string[] {
    if (this.#message) {
      const m = this.#message;
      if (line.endsWith('"') || m.lines.length >= BaresipOutputParser.#MAX_MESSAGE_LINES) {
        m.lines.push(line.replace(/"$/, ''));
        this.#message = undefined;
        return [`MESSAGE ${m.from} ${m.lines.join('\n').trim()}`];
      }
      m.lines.push(line);
      return [];
    }
    let m = /^(\S+@\S+): \{\d+\/[A-Z]+\/v[46]\} (\d{3}) (.*)$/.exec(line);
    if (m) {
      const aor = m[1]!.startsWith('sip:') ? m[1]! : `sip:${m[1]}`;
      return m[2]!.startsWith('2')
        ? [`REGISTER_OK ${aor}`]
        : [`REGISTER_FAIL ${aor} ${m[2]} ${m[3]}`];
    }
    if ((m = /^reg: (sips?:\S+): (.*)$/.exec(line))) return [`REGISTER_FAIL ${m[1]} ${m[2]}`];
    if ((m = /^packets:\s+(\d+)\s+(\d+)\s*$/.exec(line))) return [`RTP_PACKETS ${m[1]} ${m[2]}`];
    if ((m = /^(sips?:\S+): "(.*)$/.exec(line))) {
      if (m[2]!.endsWith('"')) return [`MESSAGE ${m[1]} ${m[2]!.slice(0, -1).trim()}`];
      this.#message = { from: m[1]!, lines: [m[2]!] };
    }
    return [];
  }
}

/**
 * The SIP messages in baresip's `-s` trace, from its output lines (colour
 * codes removed, empty lines dropped, as `output` keeps them). A traced
 * message is a "#" line, "TRANSPORT src -> dst", the start line, the
 * headers, then the body; since the empty line before the body is gone, the
 * body is the lines after the headers up to Content-Length bytes.
 */
export function parseSipTrace(lines: readonly string[]): TracedSip[] {
  const out: TracedSip[] = [];
  const headerLine = /^[A-Za-z0-9.!%*_+`'~-]+[ \t]*:/;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '#') continue;
    const m = /^([A-Z]+) (\S+) -> (\S+)$/.exec(lines[i + 1] ?? '');
    const startLine = lines[i + 2];
    if (!m || startLine === undefined) continue;
    let j = i + 3;
    const headers: string[] = [];
    while (j < lines.length && headerLine.test(lines[j]!)) headers.push(lines[j++]!);
    const length = Number(
      headers.map((h) => /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(h)?.[1]).find((x) => x) ??
        0,
    );
    const body: string[] = [];
    let size = 0;
    while (size < length && j < lines.length && lines[j] !== '#') {
      body.push(lines[j]!);
      size += Buffer.byteLength(lines[j]!) + 2;
      j++;
    }
    out.push({
      transport: m[1]!,
      src: m[2]!,
      dst: m[3]!,
      startLine,
      headers,
      body: body.map((l) => `${l}\r\n`).join(''),
    });
    i = j - 1;
  }
  return out;
}

/** A ctrl_tcp JSON event as one event string: "TYPE peer-uri". */
export function ctrlEventText(ev: Record<string, unknown>): string {
  const who = ev['peeruri'] ?? ev['accountaor'] ?? '';
  return `${String(ev['type'])} ${String(who)}`.trim();
}

/** Splits a byte stream into netstrings ("len:payload,"); throws on a malformed one. */
export class NetstringReader {
  #buf = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.#buf.indexOf(0x3a);
      if (colon < 0) {
        if (this.#buf.length > 10) throw new Error('netstring: length prefix too long');
        return out;
      }
      const digits = this.#buf.subarray(0, colon).toString('latin1');
      if (!/^\d{1,9}$/.test(digits))
        throw new Error(`netstring: bad length ${JSON.stringify(digits)}`);
      const len = Number(digits);
      const end = colon + 1 + len;
      if (this.#buf.length < end + 1) return out;
      if (this.#buf[end] !== 0x2c) throw new Error('netstring: missing ","');
      out.push(this.#buf.subarray(colon + 1, end).toString('utf8'));
      this.#buf = this.#buf.subarray(end + 1);
    }
  }
}

/** "len:payload," for a JSON value. */
export function netstring(value: unknown): string {
  const json = JSON.stringify(value);
  return `${Buffer.byteLength(json)}:${json},`;
}

/** Starts baresip and connects to its control port; resolves once it answers there. */
export async function startBaresip(opts: BaresipOptions): Promise<Baresip> {
  if (opts.proxy.host !== '127.0.0.1')
    throw new Error('startBaresip: the proxy must be on 127.0.0.1');
  const sipPort = opts.sipPort ?? (await freeSipPort());
  let ctrlPort = await freePort();
  while (ctrlPort === sipPort + 1) ctrlPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'p2psip-baresip-'));
  const contacts = opts.contacts ?? [];
  await writeFile(join(dir, 'config'), configText(sipPort, ctrlPort));
  await writeFile(join(dir, 'accounts'), `${accountLine(opts)}\n`);
  await writeFile(
    join(dir, 'contacts'),
    contacts.map((uri) => `"${uri.replace(/^sips?:/, '').split('@')[0]}" <${uri}>\n`).join(''),
  );

  const child = spawn('baresip', [...(opts.sipTrace ? ['-s'] : []), '-f', dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  killOnExit(child, dir);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error(BARESIP_NOT_FOUND) : err),
      );
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const instance = new BaresipProcess(child, dir, sipPort, ctrlPort, contacts, opts.lifetimeMs);
  try {
    await instance.connect(opts.startTimeoutMs ?? 15_000);
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return instance;
}

interface Waiter {
  re: RegExp;
  since: BaresipMark;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class BaresipProcess implements Baresip {
  readonly pid: number;
  readonly events: string[] = [];
  readonly output: string[] = [];
  readonly ctrlEvents: Record<string, unknown>[] = [];
  readonly #child: ChildProcess;
  readonly #contacts: string[];
  readonly #parser = new BaresipOutputParser();
  readonly #waiters = new Set<Waiter>();
  readonly #pending = new Map<
    string,
    { resolve: (d: string) => void; reject: (e: Error) => void }
  >();
  readonly #exited: Promise<BaresipExit>;
  #exit: BaresipExit | undefined;
  #socket: net.Socket | undefined;
  #token = 0;
  #partial = { out: '', err: '' };

  constructor(
    child: ChildProcess,
    readonly dir: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    contacts: string[],
    lifetimeMs = 300_000,
  ) {
    this.#child = child;
    this.pid = child.pid as number;
    this.#contacts = contacts;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.#onText('out', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#onText('err', d));
    // stdin stays an open pipe: stdio.so polls it.
    child.stdin?.on('error', () => {});
    const watchdog = setTimeout(() => signalChild(child, 'SIGKILL'), lifetimeMs);
    watchdog.unref();
    this.#exited = new Promise((resolve) => {
      child.once('close', (code, sig) => {
        clearTimeout(watchdog);
        this.#exit = { code, signal: sig };
        this.#socket?.destroy();
        const why = new Error(`baresip exited (code ${code}, signal ${sig})\n${this.#tail()}`);
        for (const w of this.#waiters) this.#settle(w, undefined, why);
        for (const p of this.#pending.values()) p.reject(why);
        this.#pending.clear();
        resolve(this.#exit);
      });
    });
  }

  /** Connects to ctrl_tcp, retrying while baresip starts; bounded by `timeoutMs`. */
  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit) throw new Error(`baresip exited during start-up\n${this.#tail()}`);
      try {
        this.#socket = await connectOnce(this.ctrlPort);
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(
            `baresip: no control port 127.0.0.1:${this.ctrlPort} after ${timeoutMs} ms\n${this.#tail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const reader = new NetstringReader();
    const socket = this.#socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      let payloads: string[];
      try {
        payloads = reader.push(chunk);
      } catch (err) {
        this.output.push(`ctrl_tcp: ${(err as Error).message}`);
        socket.destroy();
        return;
      }
      for (const p of payloads) this.#onCtrl(p);
    });
  }

  sipMessages(): TracedSip[] {
    return parseSipTrace(this.output);
  }

  mark(): BaresipMark {
    return { events: this.events.length, output: this.output.length };
  }

  waitFor(
    re: RegExp,
    timeoutMs: number,
    since: BaresipMark = { events: 0, output: 0 },
  ): Promise<string> {
    const found = this.#find(re, since);
    if (found !== undefined) return Promise.resolve(found);
    if (this.#exit) {
      return Promise.reject(new Error(`baresip has exited; ${re} never seen\n${this.#tail()}`));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        re,
        since,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.#settle(
              w,
              undefined,
              new Error(`baresip: ${re} not seen within ${timeoutMs} ms\n${this.#tail()}`),
            ),
          timeoutMs,
        ),
      };
      this.#waiters.add(w);
    });
  }

  command(name: string, params?: string, timeoutMs = 5000): Promise<string> {
    const socket = this.#socket;
    if (!socket || socket.destroyed)
      return Promise.reject(new Error('baresip: no control connection'));
    const token = `t${++this.#token}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(
          new Error(`baresip: no answer to "${name}" within ${timeoutMs} ms\n${this.#tail()}`),
        );
      }, timeoutMs);
      this.#pending.set(token, {
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(
        netstring({ command: name, ...(params !== undefined ? { params } : {}), token }),
      );
    });
  }

  dial(uri: string): Promise<string> {
    return this.command('dial', uri);
  }

  hangup(): Promise<string> {
    return this.command('hangup');
  }

  accept(): Promise<string> {
    return this.command('accept');
  }

  async sendMessage(uri: string, text: string): Promise<string> {
    const target = this.#contacts.indexOf(uri);
    if (target < 0) {
      throw new Error(
        `sendMessage: ${uri} is not in contacts (${this.#contacts.join(', ')}); pass it to startBaresip`,
      );
    }
    // The contact list does not wrap: go to the first, then forward to the target.
    for (let i = 0; i < this.#contacts.length; i++) await this.command('contact_prev');
    for (let i = 0; i < target; i++) await this.command('contact_next');
    // The listing marks the current contact with ">".
    const listing = await this.command('contacts');
    const current = listing.split('\n').find((l) => l.startsWith('>'));
    if (!current?.includes(`<${uri}>`)) {
      throw new Error(`sendMessage: could not select ${uri}:\n${listing}`);
    }
    return this.command('message', text);
  }

  async stop(): Promise<BaresipExit> {
    if (!this.#exit) {
      this.#socket?.destroy();
      signalChild(this.#child, 'SIGTERM');
      const second = setTimeout(() => signalChild(this.#child, 'SIGTERM'), TERM_GRACE_MS);
      const kill = setTimeout(
        () => signalChild(this.#child, 'SIGKILL'),
        TERM_GRACE_MS + KILL_GRACE_MS,
      );
      await this.#exited;
      clearTimeout(second);
      clearTimeout(kill);
    }
    await rm(this.dir, { recursive: true, force: true });
    return this.#exited;
  }

  #onText(stream: 'out' | 'err', text: string): void {
    const lines = (this.#partial[stream] + text).split(/\r\n|\r|\n/);
    this.#partial[stream] = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.replace(ANSI, '');
      // The call status line, rewritten in place with "\r" many times a second.
      if (line === '' || STATUS_LINE.test(line)) continue;
      if (this.output.length < MAX_LINES) this.output.push(line);
      for (const ev of this.#parser.push(line)) this.events.push(ev);
    }
    this.#check();
  }

  #onCtrl(payload: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      this.output.push(`ctrl_tcp: not JSON: ${payload}`);
      return;
    }
    if (msg['response'] === true) {
      const pending = this.#pending.get(String(msg['token']));
      if (!pending) return;
      this.#pending.delete(String(msg['token']));
      const data = typeof msg['data'] === 'string' ? msg['data'] : '';
      if (msg['ok'] === true) pending.resolve(data);
      else pending.reject(new Error(`baresip command failed: ${data}`));
      return;
    }
    if (msg['event'] === true) {
      this.ctrlEvents.push(msg);
      if (msg['class'] !== 'register') this.events.push(ctrlEventText(msg));
      this.#check();
    }
  }

  #find(re: RegExp, since: BaresipMark): string | undefined {
    return (
      this.events.slice(since.events).find((e) => re.test(e)) ??
      this.output.slice(Math.max(0, since.output)).find((l) => re.test(l))
    );
  }

  #check(): void {
    for (const w of this.#waiters) {
      const found = this.#find(w.re, w.since);
      if (found !== undefined) this.#settle(w, found);
    }
  }

  #settle(w: Waiter, found: string | undefined, err?: Error): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (found !== undefined) w.resolve(found);
    else w.reject(err ?? new Error('baresip: wait ended'));
  }

  #tail(): string {
    return `events: ${JSON.stringify(this.events.slice(-20))}\noutput:\n${this.output.slice(-40).join('\n')}`;
  }
}

function connectOnce(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/** A port P free for UDP and TCP, with P+1 free for TCP (baresip's TLS listener). */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    if (port < 65535 && (await tcpPortFree(port + 1))) return port;
  }
  throw new Error('no free port pair for baresip after 20 attempts');
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}
