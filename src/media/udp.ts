/**
 * UDP sockets for the relay: bind on the node's SIP host, RTP/RTCP on an
 * adjacent even/odd port pair when possible (RFC 3550 §11: a softphone that
 * ignores `a=rtcp` sends RTCP to RTP port + 1), any two ports otherwise.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { MediaError } from './errors.js';

/** Adjacent-pair attempts before falling back to two unrelated ports. */
const PAIR_TRIES = 16;

export type UdpFamily = 'udp4' | 'udp6';

export function familyOf(host: string): UdpFamily {
  const v = isIP(host);
  if (v === 0) throw new TypeError(`relay host must be an IP address, got ${JSON.stringify(host)}`);
  return v === 6 ? 'udp6' : 'udp4';
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^(?:::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address);
}

/** True if a socket of `family` can send to `address` (an IP of the same family). */
export function reachable(family: UdpFamily, address: string): boolean {
  const v = isIP(address);
  return family === 'udp4' ? v === 4 : v === 6;
}

/** Binds one socket; rejects (and closes it) on failure. */
export function bindSocket(family: UdpFamily, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family });
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export interface SocketPair {
  rtp: Socket;
  rtcp: Socket;
}

/** An RTP socket on an even port and an RTCP socket on the next port, or (rarely) any two. */
export async function bindPair(family: UdpFamily, host: string): Promise<SocketPair> {
  try {
    for (let i = 0; i < PAIR_TRIES; i++) {
      const rtp = await bindSocket(family, host, 0);
      const port = rtp.address().port;
      if (port % 2 === 0) {
        const rtcp = await bindSocket(family, host, port + 1).catch(() => undefined);
        if (rtcp) return { rtp, rtcp };
      }
      rtp.close();
    }
    const rtp = await bindSocket(family, host, 0);
    const rtcp = await bindSocket(family, host, 0).catch((err: unknown) => {
      rtp.close();
      throw err;
    });
    return { rtp, rtcp };
  } catch (err) {
    throw MediaError.noPorts(host, err);
  }
}
