/**
 * `config.json` in the node's home folder: what the node listens on, which
 * lookup network it joins, its privacy mode.
 *
 * Decisions (why):
 * - Private by default. The default overlay is a *local* network with an
 *   empty bootstrap list: the node is its own first node and talks to nobody
 *   until the user lists bootstrap nodes. HyperDHT's public bootstrap nodes
 *   are used only when the user writes `"network": "public"` explicitly
 *   ({@link bootstrapList}).
 * - Every field is optional (missing → default), so a user writes only what
 *   they change; a missing file means all defaults.
 * - Unknown keys are an ERROR, not a warning: a typo such as `"bootsrap"` or
 *   `"netwrok": "public"` would otherwise fall back to a default silently,
 *   and for privacy settings a silent fallback is the worst outcome. The
 *   error names the file, the field and the keys allowed there.
 * - Writes are atomic (temp file + fsync + rename + directory fsync): a crash
 *   leaves the old or the new file, never half of one.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';
import { ConfigError } from './errors.js';

export const CONFIG_FILE = 'config.json';
export const CONFIG_VERSION = 1;

export const SIP_TRANSPORTS = ['udp', 'tcp'] as const;
export type SipTransportName = (typeof SIP_TRANSPORTS)[number];
export const OVERLAY_BACKENDS = ['hyperdht', 'opendht', 'multicast'] as const;
export type OverlayBackend = (typeof OVERLAY_BACKENDS)[number];
export const NETWORKS = ['local', 'public'] as const;
/** 'local': only the listed bootstrap nodes (none = own first node). 'public': the backend's public network. */
export type Network = (typeof NETWORKS)[number];
export const PRIVACY_MODES = ['open', 'relaxed', 'paranoid'] as const;
export type PrivacyMode = (typeof PRIVACY_MODES)[number];

export interface Config {
  version: 1;
  /** Where the node's SIP proxy listens for the user's softphones. */
  sip: { host: string; port: number; transports: SipTransportName[] };
  overlay: {
    /**
     * The lookup service(s): one name, or a list to publish to all and look
     * up in all at once (src/overlay/multi.ts). Tunnels always use HyperDHT
     * (the node's own DHT node; `bootstrap` below).
     */
    backend: OverlayBackend | OverlayBackend[];
    /** dhtnode REST proxies ("http://host:port"), tried in order; needed for "opendht". */
    opendht: { proxies: string[] };
    /** LAN multicast (needed for "multicast"): the IPv4 address of the LAN interface, group, port. */
    multicast: { interface: string; group: string; port: number };
    network: Network;
    /** "host:port" or "[v6]:port" entries. */
    bootstrap: string[];
    /** Address the DHT node binds; loopback by default (set e.g. "0.0.0.0" to join a LAN). */
    host: string;
    /** UDP port of the DHT node; 0 = any free port. */
    port: number;
  };
  privacy: {
    mode: PrivacyMode;
    /**
     * Keep the other party of an answered call as a contact "learned on
     * first use" (its key pinned): from then on the two share a secret.
     */
    learnContacts: boolean;
  };
}

/** A fresh copy of the defaults (private: local network, no bootstrap, loopback). */
export function defaultConfig(): Config {
  return {
    version: CONFIG_VERSION,
    sip: { host: '127.0.0.1', port: 5060, transports: ['udp', 'tcp'] },
    overlay: {
      backend: 'hyperdht',
      network: 'local',
      bootstrap: [],
      host: '127.0.0.1',
      port: 0,
      opendht: { proxies: [] },
      multicast: { interface: '127.0.0.1', group: '239.255.80.83', port: 61083 },
    },
    privacy: { mode: 'open', learnContacts: true },
  };
}

/** Path of config.json in a home folder. */
export function configPath(homeDir: string): string {
  return join(homeDir, CONFIG_FILE);
}

/** Reads and validates `<home>/config.json`; all defaults if the file does not exist. */
export function loadConfig(homeDir: string): Config {
  const file = configPath(homeDir);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw ConfigError.unreadable(file, (err as Error).message);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ConfigError.syntax(file, 'not UTF-8');
  }
  return parseConfig(text, file);
}

/** Parses and validates config text (`file` is only used in messages). */
export function parseConfig(text: string, file = '<config>'): Config {
  let value: unknown;
  try {
    value = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  } catch (err) {
    throw ConfigError.syntax(file, withLineColumn(text, (err as Error).message));
  }
  return validateConfig(value, file);
}

/** Validates an already-parsed value and returns a complete Config (defaults filled in). */
export function validateConfig(value: unknown, file = '<config>'): Config {
  const d = defaultConfig();
  const root = section(value, '', file, ['version', 'sip', 'overlay', 'privacy']);
  if (root.version !== undefined && root.version !== CONFIG_VERSION) {
    throw ConfigError.invalid(
      file,
      'version',
      `expected ${CONFIG_VERSION}, got ${JSON.stringify(root.version)}`,
    );
  }
  const sip = section(orEmpty(root.sip), 'sip', file, ['host', 'port', 'transports']);
  const ov = section(orEmpty(root.overlay), 'overlay', file, [
    'backend',
    'network',
    'bootstrap',
    'host',
    'port',
    'opendht',
    'multicast',
  ]);
  const od = section(orEmpty(ov.opendht), 'overlay.opendht', file, ['proxies']);
  const mc = section(orEmpty(ov.multicast), 'overlay.multicast', file, [
    'interface',
    'group',
    'port',
  ]);
  const privacy = section(orEmpty(root.privacy), 'privacy', file, ['mode', 'learnContacts']);
  const get = <T>(sec: Section, path: string, fallback: T, check: Check<T>): T => {
    const v = sec[path.slice(path.lastIndexOf('.') + 1)];
    return v === undefined ? fallback : check(v, path, file);
  };
  return {
    version: CONFIG_VERSION,
    sip: {
      host: get(sip, 'sip.host', d.sip.host, ipLiteral),
      port: get(sip, 'sip.port', d.sip.port, port),
      transports: get(sip, 'sip.transports', d.sip.transports, transports),
    },
    overlay: {
      backend: get(ov, 'overlay.backend', d.overlay.backend, backends),
      network: get(ov, 'overlay.network', d.overlay.network, oneOf(NETWORKS)),
      bootstrap: get(ov, 'overlay.bootstrap', d.overlay.bootstrap, bootstrap),
      host: get(ov, 'overlay.host', d.overlay.host, ipLiteral),
      port: get(ov, 'overlay.port', d.overlay.port, port),
      opendht: { proxies: get(od, 'overlay.opendht.proxies', d.overlay.opendht.proxies, urls) },
      multicast: {
        interface: get(mc, 'overlay.multicast.interface', d.overlay.multicast.interface, ipv4),
        group: get(mc, 'overlay.multicast.group', d.overlay.multicast.group, multicastGroup),
        port: get(mc, 'overlay.multicast.port', d.overlay.multicast.port, port),
      },
    },
    privacy: {
      mode: get(privacy, 'privacy.mode', d.privacy.mode, oneOf(PRIVACY_MODES)),
      learnContacts: get(privacy, 'privacy.learnContacts', d.privacy.learnContacts, boolean),
    },
  };
}

/** Validates `config` and writes it atomically to `<home>/config.json` (mode 0600). */
export function writeConfig(homeDir: string, config: Config): void {
  const file = configPath(homeDir);
  const checked = validateConfig(config, file);
  writeFileAtomic(file, `${JSON.stringify(checked, null, 2)}\n`, 0o600);
}

/**
 * The explicit bootstrap list to hand the DHT. 'local' → exactly the
 * configured list (empty = first node of a private network). 'public' → the
 * configured list, or `publicDefault` (e.g. hyperdht's `DHT.BOOTSTRAP`) when
 * none is configured. Never returns undefined, so a DHT is never created with
 * the library's implicit public default by accident.
 */
export function bootstrapList(
  overlay: Config['overlay'],
  publicDefault: readonly string[],
): string[] {
  if (overlay.network === 'public' && overlay.bootstrap.length === 0) return [...publicDefault];
  return [...overlay.bootstrap];
}

// --- field validators ---------------------------------------------------------

type Section = Record<string, unknown>;
/** Checks one field's value; `field` is its path for messages. */
type Check<T> = (value: unknown, field: string, file: string) => T;

/** A missing section means all defaults; `null` is a type error, not "missing". */
function orEmpty(value: unknown): unknown {
  return value === undefined ? {} : value;
}

function section(value: unknown, field: string, file: string, allowed: readonly string[]): Section {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ConfigError.invalid(
      file,
      field || '(top level)',
      `expected an object, got ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw ConfigError.unknownKey(file, field ? `${field}.${key}` : key, allowed);
  }
  return value as Section;
}

function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (value, field, file) => {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      const list = allowed.map((a) => `"${a}"`).join(', ');
      throw ConfigError.invalid(file, field, `expected one of ${list}, got ${describe(value)}`);
    }
    return value as T;
  };
}

/** The lookup backends a config names, as a list. */
export function backendsOf(overlay: Config['overlay']): OverlayBackend[] {
  return Array.isArray(overlay.backend) ? [...overlay.backend] : [overlay.backend];
}

function backends(value: unknown, field: string, file: string): OverlayBackend | OverlayBackend[] {
  if (!Array.isArray(value)) return oneOf(OVERLAY_BACKENDS)(value, field, file);
  if (value.length === 0) throw ConfigError.invalid(file, field, 'expected at least one backend');
  const out = value.map((v, i) => oneOf(OVERLAY_BACKENDS)(v, `${field}[${i}]`, file));
  if (new Set(out).size !== out.length)
    throw ConfigError.invalid(file, field, 'lists a backend twice');
  return out;
}

function urls(value: unknown, field: string, file: string): string[] {
  if (!Array.isArray(value) || value.length > 16)
    throw ConfigError.invalid(
      file,
      field,
      `expected a list of up to 16 URLs, got ${describe(value)}`,
    );
  return value.map((v, i) => {
    let ok = false;
    try {
      const u = new URL(String(v));
      ok = typeof v === 'string' && (u.protocol === 'http:' || u.protocol === 'https:');
    } catch {
      ok = false;
    }
    if (!ok)
      throw ConfigError.invalid(
        file,
        `${field}[${i}]`,
        `expected an http(s) URL, got ${describe(v)}`,
      );
    return v as string;
  });
}

function ipv4(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string' || isIP(value) !== 4)
    throw ConfigError.invalid(file, field, `expected an IPv4 address, got ${describe(value)}`);
  return value;
}

function multicastGroup(value: unknown, field: string, file: string): string {
  const v = ipv4(value, field, file);
  const first = Number(v.split('.')[0]);
  if (first < 224 || first > 239)
    throw ConfigError.invalid(
      file,
      field,
      `expected a multicast group 224.0.0.0/4, got ${describe(value)}`,
    );
  return v;
}

function boolean(value: unknown, field: string, file: string): boolean {
  if (typeof value !== 'boolean')
    throw ConfigError.invalid(file, field, `expected true or false, got ${describe(value)}`);
  return value;
}

function port(value: unknown, field: string, file: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) {
    throw ConfigError.invalid(
      file,
      field,
      `expected a port number 0..65535, got ${describe(value)}`,
    );
  }
  return value as number;
}

function ipLiteral(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string' || isIP(value) === 0) {
    throw ConfigError.invalid(
      file,
      field,
      `expected an IPv4 or IPv6 address, got ${describe(value)}`,
    );
  }
  return value;
}

function transports(value: unknown, field: string, file: string): SipTransportName[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw ConfigError.invalid(
      file,
      field,
      `expected a non-empty list of ${SIP_TRANSPORTS.join(', ')}`,
    );
  }
  const out = value.map((v, i) => oneOf(SIP_TRANSPORTS)(v, `${field}[${i}]`, file));
  if (new Set(out).size !== out.length)
    throw ConfigError.invalid(file, field, 'lists a transport twice');
  return out;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function bootstrap(value: unknown, field: string, file: string): string[] {
  if (!Array.isArray(value))
    throw ConfigError.invalid(
      file,
      field,
      `expected a list of "host:port", got ${describe(value)}`,
    );
  if (value.length > 64) throw ConfigError.invalid(file, field, 'more than 64 entries');
  return value.map((entry, i) => {
    const where = `${field}[${i}]`;
    const m =
      typeof entry === 'string'
        ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(entry)
        : null;
    const host = m?.[1] ?? m?.[2];
    const okHost =
      m?.[1] !== undefined
        ? isIP(m[1]) === 6
        : host !== undefined && (isIP(host) === 4 || HOSTNAME.test(host));
    const p = Number(m?.[3]);
    if (!m || !okHost || p < 1 || p > 65535) {
      throw ConfigError.invalid(
        file,
        where,
        `expected "host:port" or "[ipv6]:port", got ${describe(entry)}`,
      );
    }
    return entry as string;
  });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Adds "line L column C" to a JSON.parse message that carries "position N". */
function withLineColumn(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}
