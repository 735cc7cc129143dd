/**
 * The bystander audit (issue 4): what one DHT node of a private loopback
 * network saw while two friends, alice and bob, called and messaged each
 * other in one privacy mode, through two epochs. Used by `p2psip audit` and
 * by test/integration/bystander.test.ts and bystander-opendht.test.ts.
 *
 *   testnet (4 DHT nodes, node 1 logs every request it receives)
 *   alice's node ─┐ both in `mode`, each holding the other's contact card
 *   bob's node  ──┘ epoch e:   alice calls bob, bob calls alice, alice messages bob
 *                   epoch e+1: the same (the nodes' privacy clock moved one epoch)
 *
 * The nodes' privacy clock is simulated (an epoch is an hour); everything
 * else — DHT, tunnels, SIP — is real and on loopback.
 *
 * Over OpenDHT (`backend: 'opendht'`, issue 6) the caller runs the dhtnode
 * network and passes its REST proxies (src/ never spawns dhtnode). Both
 * nodes use overlay.backend 'opendht', each through its own HTTP taps
 * (src/demo/http-tap.ts), one per proxy, node i preferring proxy i: the
 * taps see every request our nodes send to OpenDHT — a stronger bystander
 * than one DHT node of four, since it sees all of it. The nodes share no
 * HyperDHT network (bootstrap []): calls connect by the DHT address in the
 * package, as in test/integration/backends.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { type Config, loadConfig, writeConfig } from '../config/config.js';
import { fromHex } from '../crypto/bytes.js';
import { openKey } from '../identity/open-key.js';
import type { PrivacyMode } from '../node/modes.js';
import { P2pSipNode } from '../node/node.js';
import type { KnownUser, PhasedEntry } from '../overlay/bystander.js';
import { dhtKeyOf, OpenDhtTag } from '../overlay/opendht-wire.js';
import { type DhtRequestLogEntry, startTestnet } from '../overlay/testnet.js';
import { DEFAULT_EPOCH_SECONDS, epochOf } from '../privacy/pair-state.js';
import { UserAgent } from '../ua/user-agent.js';
import { type HttpTap, startHttpTap } from './http-tap.js';

export type AuditBackend = 'hyperdht' | 'opendht';

export interface AuditRun {
  mode: PrivacyMode;
  backend: AuditBackend;
  /**
   * Every request the bystander received, phase = 1 (first epoch) or 2: the
   * logging testnet node (hyperdht), or the HTTP taps in front of the
   * dhtnode proxies (opendht).
   */
  entries: PhasedEntry[];
  users: KnownUser[];
  /** "alice → bob call: 200", … per action and phase. */
  actions: string[];
}

export interface AuditOptions {
  mode: PrivacyMode;
  /** The lookup service the two nodes use (default hyperdht). */
  backend?: AuditBackend;
  /** For backend 'opendht': REST proxies of a running dhtnode network (the caller starts it). */
  opendht?: { proxyUrls: string[] };
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

const USERS = ['alice@example.org', 'bob@example.org'] as const;

/**
 * Where the bystander sits and how the two nodes reach the lookup service:
 * what differs between the backends; the scenario is the same.
 */
interface Bystander {
  /** HyperDHT bootstrap of the nodes. */
  bootstrap: string[];
  /** Sets node i's lookup backend in its config. */
  configure(config: Config, i: number): void;
  /** What the audit knows of node i: the keys that name its user, its source addresses. */
  describe(node: P2pSipNode, i: number): Pick<KnownUser, 'keys' | 'addresses'>;
  close(): Promise<void>;
}

/** One logging node of a 4-node private HyperDHT testnet. */
async function hyperdhtBystander(log: (e: DhtRequestLogEntry) => void): Promise<Bystander> {
  const testnet = await startTestnet({ nodes: 4, loggers: [1], onRequest: log });
  return {
    bootstrap: testnet.bootstrap.map((b) => `${b.host}:${b.port}`),
    configure: () => {},
    describe: (n) => ({
      keys: [{ label: `open key of ${n.info.aor}`, key: openKey(n.info.aor) }],
      addresses: [`${n.info.dht.host}:${n.info.dht.port}`],
    }),
    close: () => testnet.destroy(),
  };
}

/** HTTP taps in front of the dhtnode proxies: per node one tap per proxy, node i preferring proxy i. */
async function opendhtBystander(
  proxyUrls: readonly string[],
  log: (e: DhtRequestLogEntry) => void,
): Promise<Bystander> {
  if (proxyUrls.length === 0)
    throw new Error('runAudit: backend opendht needs opendht.proxyUrls (dhtnode REST proxies)');
  const taps: HttpTap[][] = [];
  /** Client socket addresses each node's requests came from, to name the source in the trace. */
  const sources = USERS.map(() => new Set<string>());
  const close = async () => {
    for (const t of taps.flat()) await t.close();
  };
  try {
    for (const [i] of USERS.entries()) {
      const mine: HttpTap[] = [];
      taps.push(mine);
      for (let j = 0; j < proxyUrls.length; j++) {
        const proxy = proxyUrls[(i + j) % proxyUrls.length]!;
        mine.push(
          await startHttpTap({
            target: new URL(proxy),
            node: i * proxyUrls.length + j,
            onEntry: (e) => {
              sources[i]!.add(`${e.from.host}:${e.from.port}`);
              log(e);
            },
          }),
        );
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    bootstrap: [],
    configure: (config, i) => {
      config.overlay.backend = 'opendht';
      config.overlay.opendht.proxies = taps[i]!.map((t) => t.url);
    },
    describe: (n, i) => ({
      // What the bystander sees of an open key: its OpenDHT key (src/overlay/opendht.ts).
      keys: [
        {
          label: `open key of ${n.info.aor}`,
          key: fromHex(dhtKeyOf(OpenDhtTag.lookupKey, openKey(n.info.aor))),
        },
      ],
      addresses: [...sources[i]!],
    }),
    close,
  };
}

export async function runAudit(opts: AuditOptions): Promise<AuditRun> {
  const say = opts.log ?? (() => {});
  const backend = opts.backend ?? 'hyperdht';
  const entries: PhasedEntry[] = [];
  const t0 = Date.now();
  let phase = 1;
  // Epoch e and e+1, a quarter into each (away from the boundary's grace window).
  const e = epochOf(Math.floor(t0 / 1000));
  let clock = (e * DEFAULT_EPOCH_SECONDS + DEFAULT_EPOCH_SECONDS / 4) * 1000;
  const now = () => clock + (Date.now() - t0);
  const log = (entry: DhtRequestLogEntry) => entries.push({ phase, ms: Date.now() - t0, entry });
  const bystander =
    backend === 'opendht'
      ? await opendhtBystander(opts.opendht?.proxyUrls ?? [], log)
      : await hyperdhtBystander(log);
  const dirs: string[] = [];
  const nodes: P2pSipNode[] = [];
  const phones: UserAgent[] = [];
  const actions: string[] = [];
  try {
    const quiet = { stdout: () => {}, stderr: () => {} };
    const cards: string[] = [];
    for (const [i, aor] of USERS.entries()) {
      const dir = mkdtempSync(join(tmpdir(), 'p2psip-audit-'));
      dirs.push(dir);
      if ((await main(['init', '--home', dir, '--aor', aor], quiet)) !== 0)
        throw new Error(`p2psip init ${aor} failed`);
      const config = loadConfig(dir);
      config.privacy.mode = opts.mode;
      bystander.configure(config, i);
      writeConfig(dir, config);
      const out: string[] = [];
      await main(['contacts', 'export', '--home', dir, '--json', '--no-qr'], {
        stdout: (l) => out.push(l),
        stderr: () => {},
      });
      cards.push((JSON.parse(out.join('')) as { card: string }).card);
    }
    for (const [i, dir] of dirs.entries())
      if ((await main(['contacts', 'add', '--home', dir, cards[1 - i]!], quiet)) !== 0)
        throw new Error('contacts add failed');
    for (const dir of dirs)
      nodes.push(
        await P2pSipNode.start({
          home: dir,
          sipHost: '127.0.0.1',
          sipPort: 0,
          bootstrap: bystander.bootstrap,
          now,
          log: () => {},
        }),
      );
    for (const [i, node] of nodes.entries())
      phones.push(await UserAgent.open({ aor: USERS[i]!, node: node.info.sip, autoAnswer: true }));
    for (const p of phones) await p.register(3600);
    say(`${opts.mode} mode over ${backend}: alice and bob registered; epoch ${e}`);

    const round = async () => {
      const [alice, bob] = phones as [UserAgent, UserAgent];
      actions.push(`epoch ${phase}: alice → bob call ${await callStatus(alice, USERS[1])}`);
      actions.push(`epoch ${phase}: bob → alice call ${await callStatus(bob, USERS[0])}`);
      const m = await alice.message(USERS[1], 'hello');
      actions.push(
        `epoch ${phase}: alice → bob MESSAGE ${m.final ? `${m.final.status} ${m.final.reason}` : 'timeout'}`,
      );
    };
    await round();
    // The next epoch: every record and tunnel key moves on.
    phase = 2;
    clock += DEFAULT_EPOCH_SECONDS * 1000;
    for (const n of nodes) await n.tickPrivacy();
    say(`${opts.mode} mode: clock moved to epoch ${e + 1}`);
    await round();
    for (const a of actions) say(`  ${a}`);
    const users: KnownUser[] = nodes.map((n, i) => ({
      aor: n.info.aor,
      publicKey: fromHex(n.info.publicKey),
      ...bystander.describe(n, i),
    }));
    return { mode: opts.mode, backend, entries: [...entries], users, actions };
  } finally {
    for (const p of phones) await p.close();
    for (const n of nodes) await n.stop();
    await bystander.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * A call's final status. Publication follows a REGISTER asynchronously, so
 * the first attempt may find no record yet: up to three attempts, 300 ms apart.
 */
async function callStatus(ua: UserAgent, to: string): Promise<string> {
  let last = 'timeout';
  for (let attempt = 0; attempt < 3; attempt++) {
    const { invite } = await ua.call(to, 100);
    const status = invite.final?.status;
    last = status === undefined ? 'timeout' : `${status} ${invite.final?.reason ?? ''}`.trim();
    if (status !== undefined && status < 300) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}
