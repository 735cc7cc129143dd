/**
 * RFC 4475 (SIP torture test messages): every message of the RFC, one test
 * each, through lintMessage — the checks a p2psip node applies before routing
 * (default policy: a proxy that would forward the request). 36 messages come
 * from the shared corpus (../shared/testdata/rfc4475, beside the repo), the
 * other 13 from test/fixtures/rfc4475-extra. What the RFC says and why we
 * chose where it leaves a choice: docs/rfc4475.md.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SipErrorCode } from '../../../src/sip/errors.js';
import { type LintResult, lintMessage } from '../../../src/sip/lint.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SHARED = join(ROOT, '..', 'shared', 'testdata', 'rfc4475');
const EXTRA = join(ROOT, 'test', 'fixtures', 'rfc4475-extra');

type Where = 'shared' | 'extra';
interface Case {
  name: string;
  section: string;
  where: Where;
  verdict: LintResult['verdict'];
  status?: number;
  code?: string;
  /** false when the parser itself rejects the message (status/drop still as listed). */
  parsed?: boolean;
}

const C = SipErrorCode;
const accept = (name: string, section: string, where: Where): Case => ({
  name,
  section,
  where,
  verdict: 'accept',
});
/** Rejected with `status`; `parsed` false when the parser itself found the fault. */
const reject = (
  name: string,
  section: string,
  where: Where,
  status: number,
  code: string,
  parsed = true,
): Case => ({ name, section, where, verdict: 'reject', status, code, parsed });
const drop = (name: string, section: string, where: Where, code: string, parsed = true): Case => ({
  name,
  section,
  where,
  verdict: 'drop',
  code,
  parsed,
});
/** For the `parsed` argument: the parser itself found the fault, so parsed is false. */
const BY_PARSER = false;

/** The RFC's whole list, in its order: §3.1.1 (13), §3.1.2 (19), §3.2 (1), §3.3 (15), §3.4 (1). */
const CASES: Case[] = [
  // 3.1.1 Valid messages: every element accepts them.
  accept('wsinv', '3.1.1.1', 'shared'),
  accept('intmeth', '3.1.1.2', 'shared'),
  accept('esc01', '3.1.1.3', 'shared'),
  accept('escnull', '3.1.1.4', 'shared'),
  accept('esc02', '3.1.1.5', 'extra'),
  accept('lwsdisp', '3.1.1.6', 'extra'),
  accept('longreq', '3.1.1.7', 'shared'),
  accept('dblreq', '3.1.1.8', 'shared'),
  accept('semiuri', '3.1.1.9', 'extra'),
  accept('transports', '3.1.1.10', 'shared'),
  accept('mpart01', '3.1.1.11', 'shared'),
  accept('unreason', '3.1.1.12', 'extra'),
  accept('noreason', '3.1.1.13', 'shared'),
  // 3.1.2 Invalid messages.
  reject('badinv01', '3.1.2.1', 'shared', 400, C.BadHeaderValue),
  reject('clerr', '3.1.2.2', 'shared', 400, C.TruncatedBody, BY_PARSER),
  reject('ncl', '3.1.2.3', 'shared', 400, C.BadContentLength, BY_PARSER),
  reject('scalar02', '3.1.2.4', 'shared', 400, C.ScalarOutOfRange),
  drop('scalarlg', '3.1.2.5', 'shared', C.ScalarOutOfRange),
  reject('quotbal', '3.1.2.6', 'extra', 400, C.BadHeaderValue),
  reject('ltgtruri', '3.1.2.7', 'shared', 400, C.BadUri, BY_PARSER),
  reject('lwsruri', '3.1.2.8', 'extra', 400, C.BadStartLine, BY_PARSER),
  reject('lwsstart', '3.1.2.9', 'shared', 400, C.BadStartLine, BY_PARSER),
  reject('trws', '3.1.2.10', 'shared', 400, C.BadStartLine, BY_PARSER),
  reject('escruri', '3.1.2.11', 'shared', 400, C.BadUri),
  accept('baddate', '3.1.2.12', 'shared'),
  reject('regbadct', '3.1.2.13', 'shared', 400, C.BadUri),
  reject('badaspec', '3.1.2.14', 'shared', 400, C.BadUri),
  reject('baddn', '3.1.2.15', 'shared', 400, C.BadHeaderValue),
  reject('badvers', '3.1.2.16', 'shared', 505, C.BadVersion, BY_PARSER),
  reject('mismatch01', '3.1.2.17', 'shared', 400, C.CSeqMismatch),
  reject('mismatch02', '3.1.2.18', 'extra', 400, C.CSeqMismatch),
  drop('bigcode', '3.1.2.19', 'extra', C.BadStartLine, BY_PARSER),
  // 3.2 Transaction layer: fall back to RFC 2543 matching.
  accept('badbranch', '3.2.1', 'shared'),
  // 3.3 Application layer, as a proxy that forwards.
  reject('insuf', '3.3.1', 'shared', 400, C.MissingHeader),
  reject('unkscm', '3.3.2', 'shared', 416, C.UnsupportedUriScheme),
  reject('novelsc', '3.3.3', 'shared', 416, C.UnsupportedUriScheme),
  accept('unksm2', '3.3.4', 'extra'),
  reject('bext01', '3.3.5', 'extra', 420, C.BadExtension),
  accept('invut', '3.3.6', 'shared'),
  accept('regaut01', '3.3.7', 'shared'),
  // multi01's body is 2 octets shorter than its Content-Length (as in the RFC):
  // the parser's 400 comes first; the duplicate headers would give 400 too.
  reject('multi01', '3.3.8', 'extra', 400, C.TruncatedBody, BY_PARSER),
  reject('mcl01', '3.3.9', 'shared', 400, C.BadContentLength, BY_PARSER),
  drop('bcast', '3.3.10', 'shared', C.BadResponse),
  reject('zeromf', '3.3.11', 'extra', 483, C.TooManyHops),
  accept('cparam01', '3.3.12', 'shared'),
  accept('cparam02', '3.3.13', 'shared'),
  accept('regescrt', '3.3.14', 'extra'),
  accept('sdp01', '3.3.15', 'shared'),
  // 3.4 Backward compatibility.
  accept('inv2543', '3.4.1', 'shared'),
];

function bytesOf(c: { name: string; where: Where }): Buffer {
  const dir = c.where === 'shared' ? SHARED : EXTRA;
  const path = join(dir, `${c.name}.dat`);
  assert.ok(
    existsSync(path),
    `${path} is missing` +
      (c.where === 'shared'
        ? ' (the shared RFC 4475 corpus lives beside the repo in ../shared)'
        : ''),
  );
  return readFileSync(path);
}

for (const c of CASES) {
  test(`RFC 4475 §${c.section} ${c.name}: ${c.verdict}${c.status ? ` ${c.status}` : ''}`, () => {
    const r = lintMessage(bytesOf(c));
    assert.equal(r.verdict, c.verdict, `reason: ${r.reason}`);
    assert.equal(r.status, c.status, `reason: ${r.reason}`);
    assert.equal(r.code, c.code, `reason: ${r.reason}`);
    assert.equal(r.parsed, c.parsed ?? true, `reason: ${r.reason}`);
    if (c.verdict === 'accept') assert.match(r.reason, /^ok\b/);
  });
}

test("the list is the RFC's whole list: 49 messages, every fixture used once", () => {
  assert.equal(CASES.length, 49);
  assert.equal(new Set(CASES.map((c) => c.name)).size, 49);
  assert.equal(new Set(CASES.map((c) => c.section)).size, 49);
  const extra = readdirSync(EXTRA)
    .filter((f) => f.endsWith('.dat'))
    .sort();
  const listed = CASES.filter((c) => c.where === 'extra')
    .map((c) => `${c.name}.dat`)
    .sort();
  assert.deepEqual(extra, listed);
  assert.equal(CASES.filter((c) => c.where === 'shared').length, 36);
});

test('extra fixtures are byte-exact transcriptions: CRLF line ends, Content-Length as the RFC gives it', () => {
  // Body lengths of the RFC messages: all equal Content-Length except
  // multi01, whose 152-octet body carries "l: 154" in the RFC itself.
  const shortBody = new Map([['multi01', 2]]);
  for (const c of CASES.filter((x) => x.where === 'extra')) {
    const b = bytesOf(c);
    const text = b.toString('latin1');
    assert.ok(text.endsWith('\r\n'), `${c.name} ends with CRLF`);
    assert.equal(/(^|[^\r])\n/.test(text), false, `${c.name} has a bare LF`);
    const sep = text.indexOf('\r\n\r\n');
    assert.ok(sep > 0, `${c.name} has an empty line`);
    const cl = /^(?:Content-Length|l)[ \t]*:[ \t]*([0-9]+)\r$/im.exec(text.slice(0, sep + 2));
    const body = b.length - (sep + 4);
    assert.equal(Number(cl?.[1]) - body, shortBody.get(c.name) ?? 0, `${c.name} body length`);
  }
  // unreason's reason phrase is UTF-8 Cyrillic (RFC 4475 §3.1.1.12, given in <hex> there).
  const unreason = bytesOf({ name: 'unreason', where: 'extra' });
  assert.equal(
    unreason
      .subarray(26, 26 + 12)
      .toString('hex')
      .toUpperCase(),
    'D0BDD0BE20D181D182D0BE20',
  );
});

test('policy variants the RFC allows: answer OPTIONS at zero hops, act as UAS, support the tags', () => {
  const zeromf = bytesOf({ name: 'zeromf', where: 'extra' });
  const here = lintMessage(zeromf, { policy: { answerOptionsAtZeroHops: true } });
  assert.equal(here.verdict, 'accept');
  assert.match(here.reason, /answered here/);
  assert.equal(lintMessage(zeromf, { policy: { role: 'answer' } }).verdict, 'accept');
  const bext01 = bytesOf({ name: 'bext01', where: 'extra' });
  const tags = ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis'];
  assert.equal(lintMessage(bext01, { policy: { extensions: tags } }).verdict, 'accept');
  // As the UAS, Require is what counts (RFC 4475 §3.3.5): 420 for its tags.
  const uas = lintMessage(bext01, { policy: { role: 'answer' } });
  assert.equal(uas.status, 420);
  assert.match(uas.reason, /nothingSupportsThis, nothingSupportsThisEither/);
  // A registrar interprets expiry values: scalar02 stays 400 (CSeq first).
  const scalar02 = bytesOf({ name: 'scalar02', where: 'shared' });
  assert.equal(lintMessage(scalar02, { policy: { role: 'answer' } }).status, 400);
  // Over a stream, inv2543 (no Content-Length) cannot be framed: 400.
  const inv2543 = bytesOf({ name: 'inv2543', where: 'shared' });
  const streamed = lintMessage(inv2543, { datagram: false });
  assert.equal(streamed.verdict, 'reject');
  assert.equal(streamed.status, 400);
});

test('lintMessage never throws and stays consistent on truncated or corrupted torture messages', () => {
  const corpus = CASES.map(bytesOf);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: corpus.length - 1 }),
      fc.nat(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      (which, cut, flips) => {
        const src = corpus[which]!;
        const b = Buffer.from(src.subarray(0, cut % (src.length + 1)));
        for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
        const r = lintMessage(b);
        assert.ok(['accept', 'reject', 'drop'].includes(r.verdict));
        assert.equal(r.verdict === 'reject', r.status !== undefined);
        if (r.verdict !== 'accept') assert.ok(r.code, 'a failure carries its code');
      },
    ),
    { numRuns: 400, seed: 4475 },
  );
});

test('a failing request with no Via to answer along is dropped, never answered', () => {
  for (const name of ['insuf', 'mismatch01', 'badvers']) {
    const src = bytesOf({ name, where: 'shared' }).toString('latin1');
    const noVia = Buffer.from(src.replace(/^Via:[^\r]*\r\n/m, ''), 'latin1');
    assert.notEqual(noVia.length, src.length, `${name} had a Via line`);
    const r = lintMessage(noVia);
    assert.equal(r.verdict, 'drop', name);
    assert.match(r.reason, /no Via to answer along/);
  }
  const lwsruri = bytesOf({ name: 'lwsruri', where: 'extra' }).toString('latin1');
  const r = lintMessage(Buffer.from(lwsruri.replace(/^Via:[^\r]*\r\n/m, ''), 'latin1'));
  assert.deepEqual([r.verdict, r.code], ['drop', SipErrorCode.BadStartLine]);
});
