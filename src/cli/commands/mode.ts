/**
 * `p2psip mode --home DIR [open|relaxed|paranoid]` — shows or switches the
 * node's privacy mode (docs/protocol.md "Privacy modes"). A running node is
 * told the way a softphone would tell it — a MESSAGE to
 * `sip:privacy@p2psip.invalid` (src/proxy/steps/node-control.ts) — and has
 * applied the mode (open record published or withdrawn) when this returns.
 * A stopped node gets it in its store and uses it at the next start.
 */
import type { PrivacyMode } from '../../config/config.js';
import { loadConfig } from '../../config/config.js';
import { isPrivacyMode, PRIVACY_MODES } from '../../node/modes.js';
import { MODE_KEY } from '../../node/privacy.js';
import { CONTROL_HOST, PRIVACY_CONTROL_USER } from '../../proxy/steps/node-control.js';
import { Store } from '../../store/store.js';
import { UserAgent } from '../../ua/user-agent.js';
import { parseWithPositionals } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { localNode } from '../local-node.js';

export const mode: Command = {
  name: 'mode',
  summary: 'show or switch the privacy mode (open, relaxed, paranoid)',
  usage: `Usage: p2psip mode --home DIR [--sip HOST:PORT] [--json] [open|relaxed|paranoid]

  Without a mode: prints the mode in force. With one: switches to it.
    open      publish under the open key and every contact's secret key;
              look everyone up with the open key
    relaxed   publish as open; look contacts up with the shared secret only
              (never falling back to the open key), others with the open key
    paranoid  publish for contacts only (the open record is withdrawn); call
              contacts only, with the shared secret
  A running node switches at once; a stopped one at its next start.

Exit status: 0 done, 1 refused or no answer, 2 usage error.`,
  async run(argv, io) {
    const { values, positionals } = parseWithPositionals(
      argv,
      { home: { type: 'string' }, sip: { type: 'string' }, json: { type: 'boolean' } },
      0,
      1,
    );
    if (typeof values.home !== 'string') throw new UsageError('--home DIR is required');
    const wanted = positionals[0]?.toLowerCase();
    if (wanted !== undefined && !isPrivacyMode(wanted))
      throw new UsageError(`unknown mode "${wanted}": say ${PRIVACY_MODES.join(', ')}`);
    const node = localNode(values.home, values.sip as string | undefined);
    const print = (m: string, applied: 'now' | 'at next start') =>
      io.stdout(
        values.json
          ? JSON.stringify({ mode: m, running: node.running, applied })
          : `privacy mode: ${m}${applied === 'now' ? '' : ' (takes effect when the node starts)'}`,
      );
    if (!node.running && values.sip === undefined) {
      const store = Store.open(values.home, { create: false });
      try {
        if (wanted) store.setKv(MODE_KEY, wanted);
        const stored = store.getKv(MODE_KEY);
        const current: PrivacyMode = isPrivacyMode(stored)
          ? stored
          : loadConfig(values.home).privacy.mode;
        print(current, 'at next start');
        return 0;
      } finally {
        store.close();
      }
    }
    const ua = await UserAgent.open({ aor: node.aor, node: node.sip });
    try {
      const out = await ua.message(`${PRIVACY_CONTROL_USER}@${CONTROL_HOST}`, wanted ?? '');
      const final = out.final;
      if (!final) {
        io.stderr(`no answer from the node at ${node.sip.host}:${node.sip.port} (is it running?)`);
        return 1;
      }
      const m = /privacy mode (\w+)/.exec(final.reason)?.[1];
      if (final.status >= 300 || !m) {
        io.stderr(`the node refused: ${final.status} ${final.reason}`);
        return 1;
      }
      print(m, 'now');
      return 0;
    } finally {
      await ua.close();
    }
  },
};
