/**
 * The datagrams of the LAN multicast lookup (docs/overlay.md "LAN multicast",
 * byte-exact there). Pure: no sockets, so the codec is tested on its own and
 * fuzzed with arbitrary bytes.
 *
 * Every datagram starts with the same 54-byte header:
 *
 *   magic "P2MC" (4) ‖ version 0x01 (1) ‖ type (1) ‖ query id (16) ‖ key (32)
 *
 * QUERY and SECRET_QUERY are the header alone (54 bytes). The answers add:
 *
 *   ANSWER:        publisher (32) ‖ seq u64 BE (8) ‖ value length u16 BE (2) ‖ value
 *   SECRET_ANSWER: seq u64 BE (8) ‖ signature (64) ‖ value length u16 BE (2) ‖ value
 *
 * `key` is the lookup key (QUERY/ANSWER) or the record address
 * (SECRET_QUERY/SECRET_ANSWER). A datagram is accepted only if its length is
 * exactly what its type and value length say, the seq is ≤ MAX_SEQ and the
 * value is 1..MAX_VALUE_BYTES bytes; anything else is dropped with a reason
 * (never thrown), so a garbage datagram can only move a counter.
 */
import { KEY_BYTES, MAX_SEQ, MAX_VALUE_BYTES } from './lookup-service.js';

/** "P2MC": p2psip multicast. */
export const MC_MAGIC = Uint8Array.of(0x50, 0x32, 0x4d, 0x43);
export const MC_VERSION = 1;
export const MC_QUERY_ID_BYTES = 16;
export const MC_SIGNATURE_BYTES = 64;

export const McType = {
  Query: 1,
  Answer: 2,
  SecretQuery: 3,
  SecretAnswer: 4,
} as const;
export type McType = (typeof McType)[keyof typeof McType];

/** magic ‖ version ‖ type ‖ query id ‖ key. */
export const MC_HEADER_BYTES = 4 + 1 + 1 + MC_QUERY_ID_BYTES + KEY_BYTES;
const ANSWER_FIXED = MC_HEADER_BYTES + KEY_BYTES + 8 + 2;
const SECRET_ANSWER_FIXED = MC_HEADER_BYTES + 8 + MC_SIGNATURE_BYTES + 2;
/** The largest well-formed datagram (a SECRET_ANSWER with a 1000-byte value): 1,128 bytes. */
export const MC_MAX_DATAGRAM_BYTES = SECRET_ANSWER_FIXED + MAX_VALUE_BYTES;

export interface McQuery {
  type: typeof McType.Query | typeof McType.SecretQuery;
  queryId: Uint8Array;
  key: Uint8Array;
}

export interface McAnswer {
  type: typeof McType.Answer;
  queryId: Uint8Array;
  key: Uint8Array;
  publisher: Uint8Array;
  seq: number;
  value: Uint8Array;
}

export interface McSecretAnswer {
  type: typeof McType.SecretAnswer;
  queryId: Uint8Array;
  key: Uint8Array;
  seq: number;
  signature: Uint8Array;
  value: Uint8Array;
}

export type McMessage = McQuery | McAnswer | McSecretAnswer;

/** Why a datagram was dropped (the keys of the malformed counters). */
export type McDropReason =
  | 'short' // shorter than the header
  | 'oversize' // longer than MC_MAX_DATAGRAM_BYTES
  | 'magic'
  | 'version'
  | 'type'
  | 'length' // total length does not match the type / value length
  | 'value' // value length 0 or > MAX_VALUE_BYTES
  | 'seq'; // seq > MAX_SEQ

export type McDecoded = { ok: true; message: McMessage } | { ok: false; reason: McDropReason };

export function encodeMessage(message: McMessage): Uint8Array {
  const size =
    message.type === McType.Answer
      ? ANSWER_FIXED + message.value.byteLength
      : message.type === McType.SecretAnswer
        ? SECRET_ANSWER_FIXED + message.value.byteLength
        : MC_HEADER_BYTES;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MC_MAGIC, 0);
  out[4] = MC_VERSION;
  out[5] = message.type;
  out.set(exact(message.queryId, MC_QUERY_ID_BYTES, 'query id'), 6);
  out.set(exact(message.key, KEY_BYTES, 'key'), 6 + MC_QUERY_ID_BYTES);
  let at = MC_HEADER_BYTES;
  if (message.type === McType.Answer) {
    out.set(exact(message.publisher, KEY_BYTES, 'publisher'), at);
    at += KEY_BYTES;
    at = writeSeq(view, at, message.seq);
    at = writeValue(out, view, at, message.value);
  } else if (message.type === McType.SecretAnswer) {
    at = writeSeq(view, at, message.seq);
    out.set(exact(message.signature, MC_SIGNATURE_BYTES, 'signature'), at);
    at += MC_SIGNATURE_BYTES;
    at = writeValue(out, view, at, message.value);
  }
  return out;
}

/** Decodes one datagram; never throws. Byte fields of the result are copies. */
export function decodeMessage(datagram: Uint8Array): McDecoded {
  const n = datagram.byteLength;
  if (n < MC_HEADER_BYTES) return drop('short');
  if (n > MC_MAX_DATAGRAM_BYTES) return drop('oversize');
  for (let i = 0; i < MC_MAGIC.length; i++) if (datagram[i] !== MC_MAGIC[i]) return drop('magic');
  if (datagram[4] !== MC_VERSION) return drop('version');
  const type = datagram[5];
  const view = new DataView(datagram.buffer, datagram.byteOffset, n);
  const queryId = copy(datagram, 6, 6 + MC_QUERY_ID_BYTES);
  const key = copy(datagram, 6 + MC_QUERY_ID_BYTES, MC_HEADER_BYTES);
  switch (type) {
    case McType.Query:
    case McType.SecretQuery:
      if (n !== MC_HEADER_BYTES) return drop('length');
      return { ok: true, message: { type, queryId, key } };
    case McType.Answer: {
      if (n < ANSWER_FIXED) return drop('length');
      const publisher = copy(datagram, MC_HEADER_BYTES, MC_HEADER_BYTES + KEY_BYTES);
      const seq = readSeq(view, MC_HEADER_BYTES + KEY_BYTES);
      const value = readValue(datagram, view, ANSWER_FIXED - 2);
      if (typeof value === 'string') return drop(value);
      if (seq === undefined) return drop('seq');
      return { ok: true, message: { type, queryId, key, publisher, seq, value } };
    }
    case McType.SecretAnswer: {
      if (n < SECRET_ANSWER_FIXED) return drop('length');
      const seq = readSeq(view, MC_HEADER_BYTES);
      const signature = copy(datagram, MC_HEADER_BYTES + 8, MC_HEADER_BYTES + 8 + 64);
      const value = readValue(datagram, view, SECRET_ANSWER_FIXED - 2);
      if (typeof value === 'string') return drop(value);
      if (seq === undefined) return drop('seq');
      return { ok: true, message: { type, queryId, key, seq, signature, value } };
    }
    default:
      return drop('type');
  }
}

/** A plain Uint8Array copy (a Buffer's slice would be a shared view). */
function copy(datagram: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(datagram.subarray(start, end));
}

function drop(reason: McDropReason): McDecoded {
  return { ok: false, reason };
}

function exact(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== length)
    throw new RangeError(`multicast ${what}: expected ${length} bytes`);
  return bytes;
}

function writeSeq(view: DataView, at: number, seq: number): number {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ)
    throw new RangeError(`multicast seq: expected an integer 0..${MAX_SEQ}`);
  view.setUint32(at, Math.floor(seq / 2 ** 32));
  view.setUint32(at + 4, seq % 2 ** 32);
  return at + 8;
}

function readSeq(view: DataView, at: number): number | undefined {
  const seq = view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
  return seq <= MAX_SEQ ? seq : undefined;
}

function writeValue(out: Uint8Array, view: DataView, at: number, value: Uint8Array): number {
  if (value.byteLength < 1 || value.byteLength > MAX_VALUE_BYTES)
    throw new RangeError(`multicast value: expected 1..${MAX_VALUE_BYTES} bytes`);
  view.setUint16(at, value.byteLength);
  out.set(value, at + 2);
  return at + 2 + value.byteLength;
}

/** The value after the u16 length at `at`, or why it is refused. */
function readValue(
  datagram: Uint8Array,
  view: DataView,
  at: number,
): Uint8Array | 'value' | 'length' {
  const length = view.getUint16(at);
  if (length < 1 || length > MAX_VALUE_BYTES) return 'value';
  if (datagram.byteLength !== at + 2 + length) return 'length';
  return copy(datagram, at + 2, datagram.byteLength);
}
