/**
 * The one session description the built-in user agent sends, as offer (in the
 * INVITE) and as answer (in the 200): a minimal RFC 4566 body with one PCMU
 * audio stream marked inactive on the discard port, because this UA carries
 * signalling only (media through the tunnel is issue 5).
 */
export function sdpBody(host: string, sessionName: string): string {
  const ip = host.includes(':') ? 'IP6' : 'IP4';
  const id = Date.now();
  return (
    `v=0\r\no=p2psip ${id} ${id} IN ${ip} ${host}\r\ns=${sessionName}\r\nc=IN ${ip} ${host}\r\nt=0 0\r\n` +
    'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=inactive\r\n'
  );
}
