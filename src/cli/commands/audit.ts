/**
 * `p2psip audit [--mode open|paranoid|both] [--backend hyperdht|opendht
 * --proxy URL…] [--json] [--all]` — what the peer network learns: runs alice
 * and bob on a private loopback network in one privacy mode through two
 * epochs (src/demo/audit.ts) and prints what one logging DHT node saw (or,
 * over OpenDHT, HTTP taps in front of the given dhtnode proxies), as the
 * seed's traffic-trace table (time, source, target, data), then the
 * findings: AORs and identity keys in clear, keys or values recurring across
 * epochs, stored value sizes.
 */
import { type AuditBackend, type AuditRun, runAudit } from '../../demo/audit.js';
import type { PrivacyMode } from '../../node/modes.js';
import { analyzeBystander, formatTrace, traceRows } from '../../overlay/bystander.js';
import { parseCommandArgs } from '../args.js';
import type { CliIo, Command } from '../command.js';
import { UsageError } from '../command.js';

export const audit: Command = {
  name: 'audit',
  summary: 'show what a DHT node learns about two friends calling, per privacy mode',
  usage: `Usage: p2psip audit [--mode open|paranoid|both] [--json] [--all]
       p2psip audit --backend opendht --proxy URL [--proxy URL]… [--mode …] [--json] [--all]

  Starts a private loopback DHT network (nothing leaves this machine) with
  one node that logs every request it receives, and two users, alice and
  bob, who hold each other's contact card. In the chosen mode they call and
  message each other in one epoch, then in the next. Prints the logging
  node's view as a trace table and what it gives away.
  With --backend opendht the two users look each other up in an OpenDHT
  network you run: give the REST proxy of one or more dhtnode processes
  (e.g. dhtnode -n 4242 -p 4222 --proxyserver 8080 --proxy-addr 127.0.0.1).
  Each user talks to the proxies through its own logging HTTP tap, and the
  taps' view is shown: every request our nodes send to OpenDHT.
    --mode     open, paranoid, or both (default both)
    --backend  hyperdht (default: a private testnet) or opendht
    --proxy    a dhtnode REST proxy URL (opendht; repeat for several)
    --all      the whole trace (default: the first 40 rows per mode)
    --json     one JSON object per mode: findings and the trace rows

Exit status: 0 done, 1 the scenario failed, 2 usage error.`,
  async run(argv, io) {
    const values = parseCommandArgs(argv, {
      mode: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      backend: { type: 'string' },
      proxy: { type: 'string', multiple: true },
    });
    const which = (values.mode as string | undefined) ?? 'both';
    if (!['open', 'paranoid', 'both'].includes(which))
      throw new UsageError(`--mode: open, paranoid or both, not "${which}"`);
    const modes: PrivacyMode[] = which === 'both' ? ['open', 'paranoid'] : [which as PrivacyMode];
    const backend = (values.backend as string | undefined) ?? 'hyperdht';
    if (backend !== 'hyperdht' && backend !== 'opendht')
      throw new UsageError(`--backend: hyperdht or opendht, not "${backend}"`);
    const proxies = (values.proxy as unknown as string[] | undefined) ?? [];
    if (backend === 'hyperdht' && proxies.length > 0)
      throw new UsageError('--proxy goes with --backend opendht');
    if (backend === 'opendht') {
      if (proxies.length === 0)
        throw new UsageError(
          '--backend opendht needs --proxy URL: the REST proxy of a running dhtnode (dhtnode --proxyserver PORT --proxy-addr 127.0.0.1)',
        );
      for (const p of proxies) checkProxyUrl(p);
    }
    let ok = true;
    for (const mode of modes) {
      const run = await runAudit({
        mode,
        backend: backend as AuditBackend,
        ...(backend === 'opendht' ? { opendht: { proxyUrls: proxies } } : {}),
        ...(values.json ? {} : { log: (l: string) => io.stdout(l) }),
      });
      ok = report(run, io, values.json === true, values.all === true) && ok;
    }
    return ok ? 0 : 1;
  },
};

/** The tap forwards over plain HTTP: an http: URL without query or fragment. */
function checkProxyUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--proxy: not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' || url.search || url.hash)
    throw new UsageError(`--proxy: an http:// URL of a dhtnode proxy, not "${text}"`);
}

function report(run: AuditRun, io: CliIo, json: boolean, all: boolean): boolean {
  const f = analyzeBystander(run.entries, run.users);
  const rows = traceRows(run.entries, run.users);
  const worked = run.actions.every((a) => / 20[02] /.test(a));
  if (json) {
    io.stdout(
      JSON.stringify({
        mode: run.mode,
        backend: run.backend,
        actions: run.actions,
        findings: f,
        trace: rows,
      }),
    );
    return worked;
  }
  const shown = all ? rows : rows.slice(0, 40);
  io.stdout('');
  io.stdout(
    run.backend === 'opendht'
      ? `What the OpenDHT proxies were asked in ${run.mode} mode (${f.dataRequests} requests on keys and values):`
      : `What one DHT node saw in ${run.mode} mode (${f.dataRequests} requests on keys and values):`,
  );
  for (const line of formatTrace(shown)) io.stdout(`  ${line}`);
  if (shown.length < rows.length)
    io.stdout(`  … ${rows.length - shown.length} more rows (--all shows them)`);
  const aors = [...new Set(f.aorSightings.map((s) => s.aor))];
  const keys = [...new Set(f.keySightings.map((s) => `${s.aor} (${s.form})`))];
  const sizes = [...new Set(f.storedSizes)].sort((a, b) => a - b);
  io.stdout('');
  io.stdout(`  AORs in clear:                 ${aors.length ? aors.join(', ') : 'none'}`);
  io.stdout(`  identity keys:                 ${keys.length ? keys.join(', ') : 'none'}`);
  io.stdout(
    `  open keys asked for:           ${f.labelledTargets.length ? [...new Set(f.labelledTargets.map((l) => l.label))].join(', ') : 'none'}`,
  );
  io.stdout(
    `  keys/values in both epochs:    ${f.recurring.length ? `${f.recurring.length} (e.g. ${f.recurring[0]!.what.slice(0, 40)}…)` : 'none'}`,
  );
  io.stdout(`  stored value sizes (bytes):    ${sizes.length ? sizes.join(', ') : 'none stored'}`);
  io.stdout(
    '  not hidden by design: IP addresses and timing (source-address hiding is a later step)',
  );
  if (!worked) io.stderr(`the scenario did not complete: ${run.actions.join('; ')}`);
  return worked;
}
