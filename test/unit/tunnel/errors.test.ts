// The error table: stable codes (append only), one factory per condition.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TunnelError, TunnelErrorCode, tunnelErrorCode } from '../../../src/tunnel/index.js';

test('codes are the stable strings callers depend on', () => {
  assert.deepEqual(TunnelErrorCode, {
    PeerNotFound: 'TUNNEL_PEER_NOT_FOUND',
    ConnectTimeout: 'TUNNEL_CONNECT_TIMEOUT',
    Rejected: 'TUNNEL_REJECTED',
    Closed: 'TUNNEL_CLOSED',
    FrameTooLarge: 'TUNNEL_FRAME_TOO_LARGE',
    Protocol: 'TUNNEL_PROTOCOL',
    ConnectFailed: 'TUNNEL_CONNECT_FAILED',
    Idle: 'TUNNEL_IDLE',
  });
});

test('each factory makes its code; causes are kept', () => {
  const cause = Object.assign(new Error('x'), { code: 'PEER_NOT_FOUND' });
  const table: [TunnelError, TunnelErrorCode][] = [
    [TunnelError.peerNotFound(cause), TunnelErrorCode.PeerNotFound],
    [TunnelError.connectTimeout(5), TunnelErrorCode.ConnectTimeout],
    [TunnelError.rejected(), TunnelErrorCode.Rejected],
    [TunnelError.closed(), TunnelErrorCode.Closed],
    [TunnelError.frameTooLarge(2, 1), TunnelErrorCode.FrameTooLarge],
    [TunnelError.protocol('p'), TunnelErrorCode.Protocol],
    [TunnelError.connectFailed(cause), TunnelErrorCode.ConnectFailed],
    [TunnelError.idle(1), TunnelErrorCode.Idle],
  ];
  for (const [err, code] of table) {
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TunnelError');
    assert.equal(err.code, code);
    assert.equal(tunnelErrorCode(err), code);
  }
  assert.equal(TunnelError.peerNotFound(cause).cause, cause);
  assert.match(TunnelError.connectFailed(cause).message, /connect failed: x/);
  assert.equal(tunnelErrorCode(new Error('plain')), undefined);
});
