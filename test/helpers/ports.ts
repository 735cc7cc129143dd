/**
 * Free loopback ports for tests. The OS picks one (bind to port 0) and we
 * check the same number is also free for the other protocol, because SIP
 * endpoints (sipp -p, baresip sip_listen) use one port for UDP and TCP.
 * Nothing stays bound: there is a short window in which another process could
 * take the port, which a test then reports as a bind failure (never a hang).
 */
import dgram from 'node:dgram';
import net from 'node:net';

export type LoopbackHost = '127.0.0.1' | '::1';

const ATTEMPTS = 50;
/** Ports handed out by this process, never handed out twice. */
const given = new Set<number>();

/** A port free on `host` for both TCP and UDP right now. */
export async function freePort(host: LoopbackHost = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await tcpEphemeral(host);
    if (given.has(port) || !(await udpFree(host, port))) continue;
    given.add(port);
    return port;
  }
  throw new Error(`no free port on ${host} for both TCP and UDP after ${ATTEMPTS} attempts`);
}

/** `n` distinct ports, each free for TCP and UDP. */
export async function freePorts(n: number, host: LoopbackHost = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}

function tcpEphemeral(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `n` consecutive UDP ports on 127.0.0.1, free right now, none in `avoid`: [first, last]. */
export async function freeUdpRange(
  n: number,
  avoid: ReadonlySet<number> = new Set(),
): Promise<[number, number]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base + n > 65535) continue;
    let ok = true;
    for (let p = base; p < base + n && ok; p++)
      ok = !avoid.has(p) && (await udpFree('127.0.0.1', p));
    if (ok) return [base, base + n - 1];
  }
  throw new Error(`no ${n} consecutive free UDP ports on 127.0.0.1 after 20 attempts`);
}

/** Whether UDP `port` on `host` can be bound right now (bound exclusively, then closed). */
export function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}
