/**
 * `p2psip call --home DIR [--sip HOST:PORT] [--hold SECONDS] AOR` — places a
 * call (signalling only) through the local node: INVITE, prints each
 * response, ACK, holds, BYE. Exit 0 when the call was answered and hung up.
 */
import { UserAgent } from '../../ua/user-agent.js';
import { parseWithPositionals } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { localNode } from '../local-node.js';
import { normalizeTarget } from './message.js';

export const call: Command = {
  name: 'call',
  summary: 'call AOR through the local node (signalling only), hold, hang up',
  usage: `Usage: p2psip call --home DIR [--sip HOST:PORT] [--hold SECONDS] [--json] AOR

  --hold SECONDS   how long to keep the answered call up before BYE (default 2)`,
  async run(argv, io) {
    const { values, positionals } = parseWithPositionals(
      argv,
      {
        home: { type: 'string' },
        sip: { type: 'string' },
        hold: { type: 'string' },
        json: { type: 'boolean' },
      },
      1,
    );
    if (typeof values.home !== 'string') throw new UsageError('--home DIR is required');
    const hold = values.hold === undefined ? 2 : Number(values.hold);
    if (!Number.isFinite(hold) || hold < 0 || hold > 86_400)
      throw new UsageError('--hold: seconds, 0..86400');
    const to = normalizeTarget(positionals[0]!);
    const node = localNode(values.home, values.sip as string | undefined);
    const ua = await UserAgent.open({ aor: node.aor, node: node.sip });
    try {
      const out = await ua.call(to, hold * 1000, (p) => {
        if (!values.json) io.stdout(`${to}: ${p.status} ${p.reason} (${p.ms.toFixed(0)} ms)`);
      });
      const final = out.invite.final;
      const answered = final !== undefined && final.status < 300;
      if (values.json) {
        io.stdout(
          JSON.stringify({
            to,
            responses: out.invite.responses,
            answered,
            bye: out.bye?.final
              ? { status: out.bye.final.status, reason: out.bye.final.reason }
              : null,
          }),
        );
      } else if (!final) {
        io.stdout(`${to}: no answer from the node (is it running?)`);
      } else if (answered) {
        io.stdout(`${to}: hung up after ${hold} s (BYE ${out.bye?.final?.status ?? 'no answer'})`);
      }
      return answered && out.bye?.final?.status === 200 ? 0 : 1;
    } finally {
      await ua.close();
    }
  },
};
