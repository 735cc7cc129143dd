import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverlayError, OverlayErrorCode, overlayErrorCode } from '../../../src/overlay/index.js';

test('overlay error codes are stable, unique and prefixed', () => {
  assert.deepEqual(OverlayErrorCode, {
    BadKey: 'OVERLAY_BAD_KEY',
    BadValue: 'OVERLAY_BAD_VALUE',
    ValueTooLarge: 'OVERLAY_VALUE_TOO_LARGE',
    BadOption: 'OVERLAY_BAD_OPTION',
    SeqTooLow: 'OVERLAY_SEQ_TOO_LOW',
    NoBootstrap: 'OVERLAY_NO_BOOTSTRAP',
    Closed: 'OVERLAY_CLOSED',
    Aborted: 'OVERLAY_ABORTED',
    Timeout: 'OVERLAY_TIMEOUT',
    Backend: 'OVERLAY_BACKEND',
  });
});

test('each factory yields an OverlayError with its code and a message', () => {
  const cause = new Error('socket gone');
  const cases: [OverlayError, string][] = [
    [OverlayError.badKey(new Uint8Array(3)), OverlayErrorCode.BadKey],
    [OverlayError.badValue(null), OverlayErrorCode.BadValue],
    [OverlayError.valueTooLarge(1001, 1000), OverlayErrorCode.ValueTooLarge],
    [OverlayError.badOption('seq', -1, 'an integer'), OverlayErrorCode.BadOption],
    [OverlayError.seqTooLow(1, 2), OverlayErrorCode.SeqTooLow],
    [OverlayError.noBootstrap(), OverlayErrorCode.NoBootstrap],
    [OverlayError.closed('memory'), OverlayErrorCode.Closed],
    [OverlayError.aborted(), OverlayErrorCode.Aborted],
    [OverlayError.timeout(5), OverlayErrorCode.Timeout],
    [OverlayError.backend('put', cause), OverlayErrorCode.Backend],
  ];
  for (const [err, code] of cases) {
    assert.ok(err instanceof OverlayError);
    assert.equal(err.name, 'OverlayError');
    assert.equal(overlayErrorCode(err), code);
    assert.ok(err.message.length > 0);
  }
  assert.equal(OverlayError.backend('put', cause).cause, cause);
  assert.match(OverlayError.badKey(new Uint8Array(3)).message, /3 bytes/);
  assert.equal(overlayErrorCode(new Error('x')), undefined);
});
