/**
 * The bystander audit (issue 4): what one DHT node of a private loopback
 * network saw while two friends, alice and bob, called and messaged each
 * other in one privacy mode, through two epochs. Used by `p2psip audit` and
 * by test/integration/bystander.test.ts.
 *
 *   testnet (4 DHT nodes, node 1 logs every request it receives)
 *   alice's node ─┐ both in `mode`, each holding the other's contact card
 *   bob's node  ──┘ epoch e:   alice calls bob, bob calls alice, alice messages bob
 *                   epoch e+1: the same (the nodes' privacy clock moved one epoch)
 *
 * The nodes' privacy clock is simulated (an epoch is an hour); everything
 * else — DHT, tunnels, SIP — is real and on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { loadConfig, writeConfig } from '../config/config.js';
import { fromHex } from '../crypto/bytes.js';
import { openKey } from '../identity/open-key.js';
import type { PrivacyMode } from '../node/modes.js';
import { P2pSipNode } from '../node/node.js';
import type { KnownUser, PhasedEntry } from '../overlay/bystander.js';
import { startTestnet } from '../overlay/testnet.js';
import { DEFAULT_EPOCH_SECONDS, epochOf } from '../privacy/pair-state.js';
import { UserAgent } from '../ua/user-agent.js';

export interface AuditRun {
  mode: PrivacyMode;
  /** Every request the logging node received, phase = 1 (first epoch) or 2. */
  entries: PhasedEntry[];
  users: KnownUser[];
  /** "alice → bob call: 200", … per action and phase. */
  actions: string[];
}

export interface AuditOptions {
  mode: PrivacyMode;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

const USERS = ['alice@example.org', 'bob@example.org'] as const;

export async function runAudit(opts: AuditOptions): Promise<AuditRun> {
  const say = opts.log ?? (() => {});
  const entries: PhasedEntry[] = [];
  const t0 = Date.now();
  let phase = 1;
  // Epoch e and e+1, a quarter into each (away from the boundary's grace window).
  const e = epochOf(Math.floor(t0 / 1000));
  let clock = (e * DEFAULT_EPOCH_SECONDS + DEFAULT_EPOCH_SECONDS / 4) * 1000;
  const now = () => clock + (Date.now() - t0);
  const testnet = await startTestnet({
    nodes: 4,
    loggers: [1],
    onRequest: (entry) => entries.push({ phase, ms: Date.now() - t0, entry }),
  });
  const dirs: string[] = [];
  const nodes: P2pSipNode[] = [];
  const phones: UserAgent[] = [];
  const actions: string[] = [];
  try {
    const quiet = { stdout: () => {}, stderr: () => {} };
    const cards: string[] = [];
    for (const aor of USERS) {
      const dir = mkdtempSync(join(tmpdir(), 'p2psip-audit-'));
      dirs.push(dir);
      if ((await main(['init', '--home', dir, '--aor', aor], quiet)) !== 0)
        throw new Error(`p2psip init ${aor} failed`);
      const config = loadConfig(dir);
      config.privacy.mode = opts.mode;
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
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
    for (const dir of dirs)
      nodes.push(
        await P2pSipNode.start({
          home: dir,
          sipHost: '127.0.0.1',
          sipPort: 0,
          bootstrap,
          now,
          log: () => {},
        }),
      );
    for (const [i, node] of nodes.entries())
      phones.push(await UserAgent.open({ aor: USERS[i]!, node: node.info.sip, autoAnswer: true }));
    for (const p of phones) await p.register(3600);
    say(`${opts.mode} mode: alice and bob registered; epoch ${e}`);

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
    const users: KnownUser[] = nodes.map((n) => ({
      aor: n.info.aor,
      publicKey: fromHex(n.info.publicKey),
      keys: [{ label: `open key of ${n.info.aor}`, key: openKey(n.info.aor) }],
      addresses: [`${n.info.dht.host}:${n.info.dht.port}`],
    }));
    return { mode: opts.mode, entries: [...entries], users, actions };
  } finally {
    for (const p of phones) await p.close();
    for (const n of nodes) await n.stop();
    await testnet.destroy();
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
