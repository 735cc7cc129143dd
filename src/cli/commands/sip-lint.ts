/**
 * `p2psip sip-lint FILE…` — for each raw SIP message file, one JSON line
 * saying what a p2psip node would do with it before routing: accept, reject
 * (with the response status) or drop. The engine is src/sip/lint.ts.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { lintMessage } from '../../sip/lint.js';
import type { ValidationPolicy } from '../../sip/validate.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

const USAGE = `Usage: p2psip sip-lint [options] FILE...

Checks each file (one raw SIP message, bytes as received) the way a p2psip
node checks any incoming message before routing it: syntax, required
headers, version, Request-URI scheme, Max-Forwards, Proxy-Require, size.
Prints one JSON line per file, keys in this order:

  {"file":"a.dat","parsed":true,"verdict":"reject","status":416,"reason":"..."}

  parsed   true when the message parsed completely
  verdict  "accept", "reject" (the node answers with status) or "drop"
           (discarded silently: bad responses, requests with no Via)
  status   the response code when verdict is "reject", otherwise null
  reason   "ok", what was notable, or why the message failed

A file that cannot be read gets {"file":...,"error":"..."} instead.

Options:
  --stream           treat each file as one message cut from a TCP stream
                     (Content-Length required and exact); default: a UDP datagram
  --answer           judge as the request's final recipient (UAS), not as a
                     proxy forwarding it: Require instead of Proxy-Require,
                     Max-Forwards 0 allowed, expiry values checked
  --supported TAG    an option tag to treat as supported (repeatable)
  --scheme SCHEME    a Request-URI scheme to accept besides sip, sips (repeatable)
  --max-size BYTES   largest message accepted (default 65535); larger → 513
  -h, --help         this text

Exit status: 0 when every file could be read, 1 when one could not, 2 on a
usage error.`;

export const sipLint: Command = {
  name: 'sip-lint',
  summary: 'check raw SIP message files as a node would before routing them',
  usage: USAGE,
  async run(argv, io) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('no FILE given');
    const policy: Partial<ValidationPolicy> = {
      role: values.answer ? 'answer' : 'forward',
      extensions: values.supported ?? [],
      schemes: ['sip', 'sips', ...(values.scheme ?? []).map((s) => s.toLowerCase())],
    };
    if (values['max-size'] !== undefined) {
      const n = Number(values['max-size']);
      if (!Number.isInteger(n) || n < 1) {
        throw new UsageError(`--max-size must be a positive integer, not ${values['max-size']}`);
      }
      policy.maxMessageSize = n;
    }

    let unreadable = 0;
    for (const file of positionals) {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch (e) {
        unreadable++;
        io.stdout(JSON.stringify({ file, error: e instanceof Error ? e.message : String(e) }));
        continue;
      }
      const r = lintMessage(bytes, { policy, datagram: !values.stream });
      io.stdout(
        JSON.stringify({
          file,
          parsed: r.parsed,
          verdict: r.verdict,
          status: r.status ?? null,
          reason: r.reason,
        }),
      );
    }
    return unreadable === 0 ? 0 : 1;
  },
};

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      stream: { type: 'boolean' },
      answer: { type: 'boolean' },
      supported: { type: 'string', multiple: true },
      scheme: { type: 'string', multiple: true },
      'max-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
