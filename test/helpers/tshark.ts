/**
 * Packet capture on the loopback interface for integration tests, with
 * tshark (Debian package `tshark`) run as a child process and stopped by PID.
 *
 *   const capture = await startCapture();               // tshark -i lo -f "udp and host 127.0.0.1"
 *   try {
 *     // … the call …
 *   } finally {
 *     await capture.stop();                               // SIGINT by PID; the file is complete after this
 *   }
 *   const packets = await readUdpPackets(capture.file);
 *   const legs = conversations(packets);                  // per port pair: packets, RTP packets, SSRCs
 *   await capture.remove();
 *
 * Only `lo` and only `udp and host 127.0.0.1` are captured (the project's
 * tests never touch another address). Capturing needs root or dumpcap's
 * capabilities (cap_net_raw, cap_net_admin); without them startCapture
 * throws CAPTURE_NOT_PERMITTED. Without tshark it throws TSHARK_NOT_FOUND.
 * Both are test failures, never skips.
 *
 * Reading: `-o rtp.heuristic_rtp:TRUE` makes tshark recognise RTP on any
 * port (what an eavesdropper would do). SIP is not read from the capture:
 * a node sends requests over 1,300 bytes (an INVITE with SDP and its
 * Record-Routes) over TCP (RFC 3261 §18.1.1), outside the UDP filter; the
 * softphone's own trace is the place for the SDP it received.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit, signalChild } from './node-process.js';

export const TSHARK_NOT_FOUND = 'tshark not found: install tshark (apt-get install tshark)';
export const SS_NOT_FOUND = 'ss not found: install iproute2 (apt-get install iproute2)';
export const CAPTURE_NOT_PERMITTED =
  'capturing on lo is not permitted: run the tests as root, or give dumpcap the capabilities ' +
  '(setcap cap_net_raw,cap_net_admin+eip /usr/bin/dumpcap and add the user to group wireshark)';

/** The only capture filter used: loopback IPv4 UDP. */
export const LOOPBACK_UDP = 'udp and host 127.0.0.1';

/** Until tshark says it captures; it starts dumpcap, which takes a moment on a busy machine. */
const START_TIMEOUT_MS = 15_000;
/** Without a "Capture started" line: how long after "Capturing on" without an error counts as started. */
const CAPTURING_GRACE_MS = 1_000;
/** After SIGINT, before SIGKILL (tshark flushes and closes the file on SIGINT). */
const STOP_GRACE_MS = 5_000;
/** Reading a capture file. */
const READ_TIMEOUT_MS = 60_000;
/** Output kept for failure messages. */
const MAX_OUTPUT = 64 * 1024;

export interface Capture {
  pid: number;
  /** The pcapng file (in a folder of its own, removed by remove()). */
  file: string;
  /** Ends tshark by PID (SIGINT, then SIGKILL after a grace period); resolves when it has exited. */
  stop(): Promise<void>;
  /** Stops tshark if running and removes the file's folder. */
  remove(): Promise<void>;
}

/** Starts `tshark -i lo -f "udp and host 127.0.0.1" -w FILE`; resolves once it reports capturing. */
export async function startCapture(): Promise<Capture> {
  const dir = await mkdtemp(join(tmpdir(), 'p2psip-capture-'));
  const file = join(dir, 'lo.pcapng');
  const child = spawn('tshark', ['-i', 'lo', '-f', LOOPBACK_UDP, '-w', file, '-q'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child, dir);
  let output = '';
  const collect = (d: Buffer) => {
    if (output.length < MAX_OUTPUT) output += d.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`tshark did not start capturing within ${START_TIMEOUT_MS} ms:\n${output}`),
          ),
        START_TIMEOUT_MS,
      );
      const done = (err?: Error) => {
        clearTimeout(timer);
        clearTimeout(grace);
        child.stderr?.off('data', onData);
        child.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      // "Capturing on 'Loopback: lo'" comes BEFORE dumpcap has opened the
      // device (a permission error follows it); "Capture started" after. A
      // tshark that never says the latter is taken as capturing once
      // CAPTURING_GRACE_MS pass after the former without an error.
      let grace: NodeJS.Timeout | undefined;
      const onData = () => {
        if (permissionDenied(output)) done(new Error(`${CAPTURE_NOT_PERMITTED}\n${output}`));
        else if (/Capture started/.test(output)) done();
        else if (/Capturing on/.test(output) && !grace)
          grace = setTimeout(() => done(), CAPTURING_GRACE_MS);
      };
      const onClose = (code: number | null) =>
        done(
          new Error(
            permissionDenied(output)
              ? `${CAPTURE_NOT_PERMITTED}\n${output}`
              : `tshark exited (code ${code}) before capturing:\n${output}`,
          ),
        );
      child.once('error', (err: NodeJS.ErrnoException) =>
        done(err.code === 'ENOENT' ? new Error(TSHARK_NOT_FOUND) : err),
      );
      child.stderr?.on('data', onData);
      child.once('close', onClose);
    });
  } catch (err) {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = () => stopChild(child, exited);
  return {
    pid: child.pid as number,
    file,
    stop,
    async remove() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function permissionDenied(output: string): boolean {
  return /permission|not permitted|Operation not permitted|You don't have permission/i.test(output);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await exited;
    return;
  }
  signalChild(child, 'SIGINT');
  const kill = setTimeout(() => signalChild(child, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(kill);
}

/** One captured UDP datagram on 127.0.0.1, as tshark decoded it. */
export interface UdpPacket {
  frame: number;
  srcPort: number;
  dstPort: number;
  /** The frame's protocol stack, e.g. "eth:ethertype:ip:udp:rtp". */
  protocols: string;
  /** tshark decoded it as RTP. */
  rtp: boolean;
  /** RTP SSRC (when rtp). */
  ssrc?: number;
  /** The UDP payload as hex (lower case). */
  payloadHex: string;
}

const FIELDS = [
  'frame.number',
  'udp.srcport',
  'udp.dstport',
  'frame.protocols',
  'rtp.ssrc',
  'udp.payload',
] as const;

/** Reads every UDP packet of a capture file, RTP recognised heuristically on any port. */
export async function readUdpPackets(file: string): Promise<UdpPacket[]> {
  const args = [
    '-r',
    file,
    '-o',
    'rtp.heuristic_rtp:TRUE',
    '-Y',
    'udp',
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ];
  const out = await runTshark(args);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseFieldsLine);
}

/** One line of `tshark -T fields` output for FIELDS. */
export function parseFieldsLine(line: string): UdpPacket {
  const f = line.split('\t');
  const get = (name: (typeof FIELDS)[number]) => f[FIELDS.indexOf(name)] ?? '';
  const list = (name: (typeof FIELDS)[number]) =>
    get(name)
      .split(',')
      .filter((x) => x !== '');
  const protocols = get('frame.protocols');
  const rtp = protocols.split(':').includes('rtp');
  const ssrcText = list('rtp.ssrc')[0];
  const packet: UdpPacket = {
    frame: Number(get('frame.number')),
    srcPort: Number(list('udp.srcport')[0]),
    dstPort: Number(list('udp.dstport')[0]),
    protocols,
    rtp,
    payloadHex: get('udp.payload').replace(/:/g, '').toLowerCase(),
  };
  if (rtp && ssrcText !== undefined) packet.ssrc = Number(ssrcText);
  return packet;
}

/**
 * The UDP ports process `pid` has open right now (`ss -uanp`; root sees
 * every process's sockets). Tells a capture's node traffic apart from
 * other tests' traffic on the same loopback: relay sockets, the SIP socket
 * and the DHT/UDX sockets all show up.
 */
export async function udpPortsOf(pid: number): Promise<Set<number>> {
  const out = await run('ss', ['-H', '-u', '-a', '-n', '-p'], SS_NOT_FOUND);
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(/:(\d+)$/.exec(local)?.[1]);
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

function runTshark(args: string[]): Promise<string> {
  return run('tshark', args, TSHARK_NOT_FOUND);
}

/** Runs a command to its end (bounded); resolves with stdout, rejects with stderr on failure. */
function run(command: string, args: string[], notFound: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < MAX_OUTPUT) err += d.toString('utf8');
    });
    const timer = setTimeout(() => signalChild(child, 'SIGKILL'), READ_TIMEOUT_MS);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new Error(notFound) : e);
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(`${command} ${args.join(' ')} failed (code ${code}, signal ${sig}):\n${err}`),
        );
    });
  });
}

/** The packets of one UDP conversation (an unordered port pair on 127.0.0.1). */
export interface Conversation {
  ports: [number, number];
  packets: number;
  rtpPackets: number;
  /** RTP packets per direction: `${src}>${dst}` → count. */
  rtpByDirection: Map<string, number>;
  ssrcs: Set<number>;
}

/** Groups packets by unordered port pair. */
export function conversations(packets: readonly UdpPacket[]): Map<string, Conversation> {
  const out = new Map<string, Conversation>();
  for (const p of packets) {
    const ports: [number, number] =
      p.srcPort < p.dstPort ? [p.srcPort, p.dstPort] : [p.dstPort, p.srcPort];
    const key = `${ports[0]}-${ports[1]}`;
    let c = out.get(key);
    if (!c) {
      c = { ports, packets: 0, rtpPackets: 0, rtpByDirection: new Map(), ssrcs: new Set() };
      out.set(key, c);
    }
    c.packets++;
    if (p.rtp) {
      c.rtpPackets++;
      const dir = `${p.srcPort}>${p.dstPort}`;
      c.rtpByDirection.set(dir, (c.rtpByDirection.get(dir) ?? 0) + 1);
      if (p.ssrc !== undefined) c.ssrcs.add(p.ssrc);
    }
  }
  return out;
}

/** The conversation between two ports, or an empty one. */
export function between(convs: Map<string, Conversation>, a: number, b: number): Conversation {
  const ports: [number, number] = a < b ? [a, b] : [b, a];
  return (
    convs.get(`${ports[0]}-${ports[1]}`) ?? {
      ports,
      packets: 0,
      rtpPackets: 0,
      rtpByDirection: new Map(),
      ssrcs: new Set(),
    }
  );
}

/** The SSRC as the 8 hex digits it has on the wire. */
export function ssrcHex(ssrc: number): string {
  return (ssrc >>> 0).toString(16).padStart(8, '0');
}
