import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivacyError, PrivacyErrorCode, privacyErrorCode } from '../../../src/privacy/index.js';

test('privacy error codes are stable, unique and prefixed', () => {
  assert.deepEqual(PrivacyErrorCode, {
    BadArgument: 'PRIVACY_BAD_ARGUMENT',
    StateMalformed: 'PRIVACY_STATE_MALFORMED',
    EpochPast: 'PRIVACY_EPOCH_PAST',
    EpochTooFar: 'PRIVACY_EPOCH_TOO_FAR',
    EpochSkew: 'PRIVACY_EPOCH_SKEW',
    EpochLengthMismatch: 'PRIVACY_EPOCH_LENGTH_MISMATCH',
    MessageMalformed: 'PRIVACY_MESSAGE_MALFORMED',
    MessageAuth: 'PRIVACY_MESSAGE_AUTH',
    UnexpectedMessage: 'PRIVACY_UNEXPECTED_MESSAGE',
    PackageTooLarge: 'PRIVACY_PACKAGE_TOO_LARGE',
    RecordMalformed: 'PRIVACY_RECORD_MALFORMED',
    RecordAuth: 'PRIVACY_RECORD_AUTH',
  });
});

test('each factory yields a PrivacyError with its code and a message', () => {
  const cases: [PrivacyError, string][] = [
    [PrivacyError.badArgument('x', 'y'), PrivacyErrorCode.BadArgument],
    [PrivacyError.stateMalformed('root', '32 bytes'), PrivacyErrorCode.StateMalformed],
    [PrivacyError.epochPast(1, 2), PrivacyErrorCode.EpochPast],
    [PrivacyError.epochTooFar(9, 1, 2), PrivacyErrorCode.EpochTooFar],
    [PrivacyError.epochSkew(1, 3), PrivacyErrorCode.EpochSkew],
    [PrivacyError.epochLengthMismatch(1800, 3600), PrivacyErrorCode.EpochLengthMismatch],
    [PrivacyError.messageMalformed('OFFER', 'short'), PrivacyErrorCode.MessageMalformed],
    [PrivacyError.messageAuth('OFFER'), PrivacyErrorCode.MessageAuth],
    [PrivacyError.unexpectedMessage('REPLY', 'no'), PrivacyErrorCode.UnexpectedMessage],
    [PrivacyError.packageTooLarge(1000, 957), PrivacyErrorCode.PackageTooLarge],
    [PrivacyError.recordMalformed('size'), PrivacyErrorCode.RecordMalformed],
    [PrivacyError.recordAuth(), PrivacyErrorCode.RecordAuth],
  ];
  assert.equal(cases.length, Object.keys(PrivacyErrorCode).length);
  for (const [err, c] of cases) {
    assert.ok(err instanceof PrivacyError);
    assert.equal(err.name, 'PrivacyError');
    assert.equal(privacyErrorCode(err), c);
    assert.ok(err.message.length > 0);
  }
  assert.match(PrivacyError.epochPast(1, 2).message, /forgotten/);
  assert.equal(privacyErrorCode(new Error('x')), undefined);
});
