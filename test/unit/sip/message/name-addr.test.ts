import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipErrorCode } from '../../../../src/sip/errors.js';
import { formatNameAddr, parseNameAddr, parseUri } from '../../../../src/sip/message/index.js';
import { throwsSip } from './helpers.js';

test('name-addr with quoted display name, escapes and header params', () => {
  const na = parseNameAddr(
    '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ;  tag = 98asjd8',
    'From',
  );
  assert.equal(na.displayName, 'J Rosenberg \\"');
  assert.equal(na.uri.user, 'jdrosen');
  assert.deepEqual([...na.params], [['tag', '98asjd8']]);
});

test('quoted display name may hold commas, <, controls via quoted-pair; no LWS needed before <', () => {
  assert.equal(
    parseNameAddr('"Bell, Alexander" <sip:a.g.bell@example.com>').displayName,
    'Bell, Alexander',
  );
  assert.equal(parseNameAddr('"Mr. <J>"<sip:j@example.com>').displayName, 'Mr. <J>');
  assert.equal(
    parseNameAddr('"BEL:\\\x07 NUL:\\\x00"<sip:x@example.com>').displayName,
    'BEL:\x07 NUL:\x00',
  );
  assert.equal(parseNameAddr('""<sip:x@example.com>').displayName, '');
});

test('token display names: a sequence of tokens, LWS collapsed; lwsdisp (no space before <)', () => {
  const na = parseNameAddr(
    "token1~` \t token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.",
  );
  assert.equal(na.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(na.params.get('tag'), "_token~1'+`*%!-.");
  assert.equal(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
  assert.equal(parseNameAddr('<sip:caller@example.com>').displayName, undefined);
});

test('non-token characters in an unquoted display name are rejected (RFC 4475 baddn)', () => {
  throwsSip(
    () => parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'From'),
    SipErrorCode.BadHeaderValue,
    'From',
  );
  throwsSip(() => parseNameAddr('A. Bell@home <sip:a@example.com>'), SipErrorCode.BadHeaderValue);
});

test('unbalanced quotes and missing > are rejected (RFC 4475 quotbal)', () => {
  throwsSip(
    () => parseNameAddr('"Mr. J. User <sip:j.user@example.com>', 'To'),
    SipErrorCode.BadHeaderValue,
    'To',
  );
  throwsSip(() => parseNameAddr('<sip:j.user@example.com'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseNameAddr('"x" sip:j.user@example.com'), SipErrorCode.BadHeaderValue);
});

test('addr-spec: params after the URI are header params (RFC 3261 §20.10)', () => {
  const na = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam', 'Contact');
  assert.equal(na.uri.user, '+19725552222');
  assert.equal(na.uri.params.size, 0);
  assert.deepEqual([...na.params], [['unknownparam', null]]);
  const inside = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
  assert.deepEqual([...inside.uri.params], [['unknownparam', null]]);
  assert.equal(inside.params.size, 0);
  const wsinv = parseNameAddr(' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
  assert.equal(wsinv.uri.host, 'chair-dnrc.example.com');
  assert.equal(wsinv.params.get('tag'), '1918181833n');
});

test('addr-spec with , or ? must be in <> (RFC 4475 regbadct); inside <> it is fine (regescrt)', () => {
  throwsSip(
    () => parseNameAddr('sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'Contact'),
    SipErrorCode.BadUri,
    'Contact',
  );
  throwsSip(() => parseNameAddr('sip:a@example.com,sip:b@example.com'), SipErrorCode.BadUri);
  const ok = parseNameAddr('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>');
  assert.equal(ok.uri.headers.get('Route'), '<sip:sip.example.com>');
});

test('spaces inside <> are not allowed (RFC 4475 badaspec)', () => {
  throwsSip(
    () => parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >', 'To'),
    SipErrorCode.BadUri,
    'To',
  );
});

test('params: quoted values kept with quotes, flags, case of names, empties rejected (badinv01)', () => {
  const na = parseNameAddr('<sip:a@b>;+sip.instance="<urn:uuid:1>";Expires=60;Q = 0.33;X');
  assert.deepEqual(
    [...na.params],
    [
      ['+sip.instance', '"<urn:uuid:1>"'],
      ['expires', '60'],
      ['q', '0.33'],
      ['x', null],
    ],
  );
  throwsSip(
    () => parseNameAddr('"Joe" <sip:joe@example.org>;;;;', 'Contact'),
    SipErrorCode.BadHeaderValue,
    'Contact',
  );
  throwsSip(() => parseNameAddr('<sip:a@b>;tag='), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseNameAddr('<sip:a@b>;tag="open'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseNameAddr('<sip:a@b> junk'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseNameAddr('<sip:a@b>, <sip:c@d>'), SipErrorCode.BadHeaderValue);
  throwsSip(() => parseNameAddr('   '), SipErrorCode.BadHeaderValue);
});

test('non-SIP URIs in name-addr are kept opaque (RFC 4475 unksm2)', () => {
  assert.equal(parseNameAddr('isbn:2983792873').uri.opaque, '2983792873');
  assert.equal(parseNameAddr('<http://www.example.com>;tag=3234233').uri.scheme, 'http');
});

test('formatNameAddr renders <> form and round-trips', () => {
  const na = {
    displayName: 'Bell, "Alex" \\',
    uri: parseUri('sip:a.g.bell@example.com;transport=tcp'),
    params: new Map<string, string | null>([
      ['tag', '43'],
      ['lr', null],
    ]),
  };
  const text = formatNameAddr(na);
  assert.equal(text, '"Bell, \\"Alex\\" \\\\" <sip:a.g.bell@example.com;transport=tcp>;tag=43;lr');
  assert.deepEqual(parseNameAddr(text), na);
  assert.equal(
    formatNameAddr(parseNameAddr('sip:bob@example.com;tag=1')),
    '<sip:bob@example.com>;tag=1',
  );
  throwsSip(
    () => formatNameAddr({ ...na, displayName: 'a\r\nVia: x' }),
    SipErrorCode.BadHeaderValue,
  );
  throwsSip(
    () => formatNameAddr({ ...na, params: new Map([['tag', 'a b']]) }),
    SipErrorCode.BadHeaderValue,
  );
  throwsSip(
    () => formatNameAddr({ ...na, params: new Map([['t g', '1']]) }),
    SipErrorCode.BadHeaderValue,
  );
});
