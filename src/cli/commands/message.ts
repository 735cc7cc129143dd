/**
 * `p2psip message --home DIR [--sip HOST:PORT] AOR TEXT…` — sends an instant
 * message (SIP MESSAGE) through the local node, as a softphone would.
 * Prints the final response; exit 0 on 2xx, 1 otherwise.
 */
import { normalizeAor } from '../../identity/aor.js';
import { UserAgent } from '../../ua/user-agent.js';
import { parseWithPositionals } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { localNode } from '../local-node.js';

export const message: Command = {
  name: 'message',
  summary: 'send an instant message to AOR through the local node',
  usage: `Usage: p2psip message --home DIR [--sip HOST:PORT] [--json] AOR TEXT...

  Sends TEXT as a SIP MESSAGE from the node's own AOR to AOR (user@domain),
  through the node running in DIR (its address from DIR/run.json or config).`,
  async run(argv, io) {
    const { values, positionals } = parseWithPositionals(
      argv,
      { home: { type: 'string' }, sip: { type: 'string' }, json: { type: 'boolean' } },
      2,
    );
    if (typeof values.home !== 'string') throw new UsageError('--home DIR is required');
    const to = normalizeTarget(positionals[0]!);
    const node = localNode(values.home, values.sip as string | undefined);
    const ua = await UserAgent.open({ aor: node.aor, node: node.sip });
    try {
      const out = await ua.message(to, positionals.slice(1).join(' '));
      const final = out.final;
      if (values.json) {
        io.stdout(
          JSON.stringify({
            to,
            status: final?.status ?? null,
            reason: final?.reason ?? 'no answer (timeout)',
            ms: out.responses.at(-1)?.ms ?? null,
          }),
        );
      } else {
        io.stdout(
          final
            ? `${to}: ${final.status} ${final.reason}`
            : `${to}: no answer from the node (is it running?)`,
        );
      }
      return final && final.status < 300 ? 0 : 1;
    } finally {
      await ua.close();
    }
  },
};

export function normalizeTarget(text: string): string {
  try {
    return normalizeAor(text);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
