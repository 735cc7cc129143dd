/**
 * What an honest-but-curious DHT node learned: the seed's traffic-trace
 * table (time, source, target, data) and the checks of issue 4's bystander
 * test, computed from a logging testnet node's request log
 * (src/overlay/testnet.ts `loggers`). Pure.
 *
 * Data plane vs. routing: the checks look at the requests that carry keys
 * and values of ours — mutable records, announcements, lookups and the
 * connection set-up (FIND_PEER / PEER_HANDSHAKE / PEER_HOLEPUNCH, whose
 * target is hash(server key)). PING, FIND_NODE and DOWN_HINT only maintain
 * the routing table: their targets are random DHT node ids. IP addresses
 * and ports are outside the checks on purpose: hiding them is not in this
 * design (docs/privacy.md "Threat model": source-address hiding is a later
 * step).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64url, toHex } from '../crypto/bytes.js';
import type { DhtRequestLogEntry } from './testnet.js';

/** Requests whose targets and values are ours (see the file comment). */
export const DATA_COMMANDS: ReadonlySet<string> = new Set([
  'MUTABLE_PUT',
  'MUTABLE_GET',
  'IMMUTABLE_PUT',
  'IMMUTABLE_GET',
  'ANNOUNCE',
  'UNANNOUNCE',
  'LOOKUP',
  'FIND_PEER',
  'PEER_HANDSHAKE',
  'PEER_HOLEPUNCH',
]);

/** A logged request, with the run's phase (e.g. the epoch) and time. */
export interface PhasedEntry {
  phase: number;
  /** Milliseconds since the start of the run. */
  ms: number;
  entry: DhtRequestLogEntry;
}

/** A user of the run, as the audit knows them (the bystander does not). */
export interface KnownUser {
  aor: string;
  publicKey: Uint8Array;
  /** Labelled lookup keys that belong to this user (e.g. its open key). */
  keys?: { label: string; key: Uint8Array }[];
  /** DHT addresses ("host:port") of this user's node, to name the source. */
  addresses?: string[];
}

export interface BystanderFindings {
  /** Entries in which an AOR appears as text (value, target or stored record). */
  aorSightings: { aor: string; command: string; phase: number }[];
  /** Entries in which an identity public key appears (raw, hex, base64, base64url). */
  keySightings: { aor: string; form: string; command: string; phase: number }[];
  /** Keys and values of the data plane seen in more than one phase. */
  recurring: { what: string; phases: number[] }[];
  /** Sizes of the values the node was asked to store (mutable puts). */
  storedSizes: number[];
  /** Labelled keys (e.g. an open key) that appear as a request target. */
  labelledTargets: { label: string; command: string; phase: number }[];
  /** Data-plane requests seen. */
  dataRequests: number;
}

/** Runs every check over the log. */
export function analyzeBystander(
  entries: readonly PhasedEntry[],
  users: readonly KnownUser[],
): BystanderFindings {
  const findings: BystanderFindings = {
    aorSightings: [],
    keySightings: [],
    recurring: [],
    storedSizes: [],
    labelledTargets: [],
    dataRequests: 0,
  };
  const needles = users.flatMap((u) => [
    { aor: u.aor, form: 'aor', bytes: utf8(u.aor) },
    { aor: u.aor, form: 'raw', bytes: u.publicKey },
    { aor: u.aor, form: 'hex', bytes: utf8(toHex(u.publicKey)) },
    { aor: u.aor, form: 'base64', bytes: utf8(Buffer.from(u.publicKey).toString('base64')) },
    { aor: u.aor, form: 'base64url', bytes: utf8(toBase64url(u.publicKey)) },
  ]);
  const labelled = users.flatMap((u) => u.keys ?? []);
  const seen = new Map<string, Set<number>>();
  const note = (what: string, phase: number) => {
    let phases = seen.get(what);
    if (!phases) seen.set(what, (phases = new Set()));
    phases.add(phase);
  };
  for (const { phase, entry } of entries) {
    for (const hay of haystacks(entry)) {
      for (const n of needles) {
        if (!contains(hay, n.bytes)) continue;
        if (n.form === 'aor')
          findings.aorSightings.push({ aor: n.aor, command: entry.command, phase });
        else
          findings.keySightings.push({ aor: n.aor, form: n.form, command: entry.command, phase });
      }
    }
    for (const l of labelled)
      if (entry.target && equal(entry.target, l.key))
        findings.labelledTargets.push({ label: l.label, command: entry.command, phase });
    if (!DATA_COMMANDS.has(entry.command)) continue;
    findings.dataRequests++;
    if (entry.target) note(`target ${toHex(entry.target)}`, phase);
    if (entry.stored) {
      note(`record key ${toHex(entry.stored.publicKey)}`, phase);
      note(`value sha256 ${toHex(sha256(entry.stored.value))}`, phase);
      findings.storedSizes.push(entry.stored.value.length);
    }
    if (entry.announcer) note(`announcer ${toHex(entry.announcer)}`, phase);
  }
  for (const [what, phases] of seen)
    if (phases.size > 1) findings.recurring.push({ what, phases: [...phases].sort() });
  return findings;
}

/** One row of the seed's trace table. */
export interface TraceRow {
  ms: number;
  phase: number;
  source: string;
  command: string;
  target: string;
  data: string;
}

/** The trace table, data-plane requests only, with what the audit (not the bystander) knows. */
export function traceRows(
  entries: readonly PhasedEntry[],
  users: readonly KnownUser[],
): TraceRow[] {
  const names = new Map<string, string>();
  for (const u of users)
    for (const a of u.addresses ?? []) names.set(a, `${u.aor.split('@')[0]}'s node`);
  const labels = users.flatMap((u) => u.keys ?? []);
  return entries
    .filter(({ entry }) => DATA_COMMANDS.has(entry.command))
    .map(({ ms, phase, entry }) => {
      const from = `${entry.from.host}:${entry.from.port}`;
      const label = entry.target ? labels.find((l) => equal(l.key, entry.target!)) : undefined;
      return {
        ms,
        phase,
        source: names.get(from) ?? from,
        command: entry.command,
        target: entry.target
          ? `${toHex(entry.target).slice(0, 12)}…${label ? ` (${label.label})` : ''}`
          : '-',
        data: describeData(entry),
      };
    });
}

/** Renders rows as an aligned text table. */
export function formatTrace(rows: readonly TraceRow[]): string[] {
  const head = ['time', 'epoch', 'source', 'request', 'target', 'data'];
  const cells = rows.map((r) => [
    `${(r.ms / 1000).toFixed(3)}s`,
    String(r.phase),
    r.source,
    r.command,
    r.target,
    r.data,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

function describeData(entry: DhtRequestLogEntry): string {
  if (entry.stored) {
    const v = entry.stored.value;
    const text = printable(v);
    return `seq ${entry.stored.seq}, ${v.length} B: ${text ?? `${toHex(v.subarray(0, 8))}… (opaque)`}`;
  }
  if (entry.announcer) return `announcer ${toHex(entry.announcer).slice(0, 12)}…`;
  return entry.value ? `${entry.value.length} B` : '';
}

/** A readable excerpt when the value is mostly text (an open package is XML). */
function printable(v: Uint8Array): string | undefined {
  const text = Buffer.from(v).toString('latin1');
  const readable = text.replace(/[^\x20-\x7e]/g, '');
  if (readable.length < v.length * 0.8) return undefined;
  const m = /aor="[^"]*"/.exec(readable);
  return `"${(m ? m[0] : readable).slice(0, 60)}…"`;
}

function haystacks(e: DhtRequestLogEntry): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (e.value) out.push(e.value);
  if (e.target) out.push(e.target);
  if (e.stored) out.push(e.stored.publicKey, e.stored.value);
  if (e.announcer) out.push(e.announcer);
  return out;
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return (
    needle.length > 0 && Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).includes(Buffer.from(needle))
  );
}
