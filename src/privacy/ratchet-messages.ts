/**
 * The three ratchet messages, byte for byte: bodies of tunnel control frames
 * (docs/protocol-tunnel.md: `kind ‖ body`, extension kinds ≥ 0x10; 0x10 is
 * IDENTITY). Integers are big-endian. docs/privacy.md "Ratchet messages"
 * shows the same tables and golden vectors.
 *
 *   OFFER   (0x11) 42 + 20n bytes   version ‖ epochSeconds:u32 ‖ epoch:u32 ‖ ephemeral:32 ‖
 *                                   n:u8 (1..3) ‖ gen:u32 × n ‖ tag:16 × n
 *   REPLY   (0x12) 61 bytes         version ‖ epoch:u32 ‖ baseGen:u32 ‖ newGen:u32 ‖
 *                                   ephemeral:32 ‖ tag:16
 *   CONFIRM (0x13) 21 bytes         version ‖ gen:u32 ‖ tag:16
 *
 * Every tag is HKDF-SHA256 (16 bytes) keyed with a generation's confirm key:
 *   tag = HKDF(ikm = confirm_gen, info = "p2psip/v1/ratchet-tag" ‖ 0 ‖ kind ‖ sender ‖ receiver ‖ data)
 * with sender/receiver the 32-byte identity keys (a reflected message fails), and
 *   OFFER tag i:  data = u8(|b|) ‖ b ‖ body[0 .. 42+4n) ‖ u8(i) ‖ tag_{i+1} ‖ … ‖ tag_{n-1}
 *   REPLY:        data = u8(|b|) ‖ b ‖ offer body ‖ body[0 .. 45)
 *   CONFIRM:      data = body[0 .. 5)
 * where b is the tunnel's channel binding (its Noise handshake hash). An
 * OFFER's tags are computed last to first, so the tag the receiver accepts
 * covers every byte after its own.
 */
import { concatBytes, equalBytes } from '../crypto/bytes.js';
import { deriveKey } from '../crypto/kdf.js';
import { NS } from '../crypto/ns.js';
import { u32be } from './chain.js';
import { PrivacyError } from './errors.js';

export const RATCHET_OFFER_KIND = 0x11;
export const RATCHET_REPLY_KIND = 0x12;
export const RATCHET_CONFIRM_KIND = 0x13;
export const RATCHET_VERSION = 1;
export const TAG_BYTES = 16;
export const EPHEMERAL_BYTES = 32;
/** An OFFER names at most three bases: current, previous, generation 0. */
export const MAX_CANDIDATES = 3;
export const OFFER_HEAD_BYTES = 42;
export const REPLY_BYTES = 61;
export const CONFIRM_BYTES = 21;
/** Longest channel binding (its length travels as one byte). */
export const MAX_BINDING_BYTES = 255;

export interface Offer {
  epochSeconds: number;
  epoch: number;
  ephemeral: Uint8Array;
  /** Base generations the offerer holds, in its order of preference. */
  gens: number[];
  tags: Uint8Array[];
  body: Uint8Array;
}

export interface Reply {
  epoch: number;
  baseGen: number;
  newGen: number;
  ephemeral: Uint8Array;
  tag: Uint8Array;
  body: Uint8Array;
}

export interface Confirm {
  gen: number;
  tag: Uint8Array;
  body: Uint8Array;
}

/** Who sends and who receives (identity keys), and the tunnel's channel binding. */
export interface Parties {
  sender: Uint8Array;
  receiver: Uint8Array;
  binding: Uint8Array;
}

// ---- OFFER ----------------------------------------------------------------

/** An OFFER body; `confirms[i]` is the tag key of `gens[i]`. */
export function encodeOffer(
  fields: { epochSeconds: number; epoch: number; ephemeral: Uint8Array; gens: number[] },
  confirms: Uint8Array[],
  parties: Parties,
): Uint8Array {
  const n = fields.gens.length;
  const head = new Uint8Array(OFFER_HEAD_BYTES + 4 * n);
  const view = new DataView(head.buffer);
  head[0] = RATCHET_VERSION;
  view.setUint32(1, fields.epochSeconds);
  view.setUint32(5, fields.epoch);
  head.set(fields.ephemeral, 9);
  head[41] = n;
  for (const [i, g] of fields.gens.entries()) view.setUint32(OFFER_HEAD_BYTES + 4 * i, g);
  const tags: Uint8Array[] = new Array(n);
  for (let i = n - 1; i >= 0; i--) {
    tags[i] = offerTag(confirms[i]!, head, i, tags.slice(i + 1), parties);
  }
  return concatBytes(head, ...tags);
}

export function decodeOffer(body: Uint8Array): Offer {
  const what = 'ratchet OFFER';
  checkBody(body, what);
  const n = body[41];
  if (body.length < OFFER_HEAD_BYTES || n === undefined || n < 1 || n > MAX_CANDIDATES) {
    throw PrivacyError.messageMalformed(what, `needs 1..${MAX_CANDIDATES} candidates`);
  }
  if (body.length !== OFFER_HEAD_BYTES + 20 * n) {
    throw PrivacyError.messageMalformed(what, `expected ${OFFER_HEAD_BYTES + 20 * n} bytes`);
  }
  checkVersion(body, what);
  const view = viewOf(body);
  const gens: number[] = [];
  const tags: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    gens.push(view.getUint32(OFFER_HEAD_BYTES + 4 * i));
    const at = OFFER_HEAD_BYTES + 4 * n + TAG_BYTES * i;
    tags.push(body.slice(at, at + TAG_BYTES));
  }
  if (new Set(gens).size !== n) throw PrivacyError.messageMalformed(what, 'repeated generation');
  if (gens.some((g) => g === 0xffff_ffff)) {
    throw PrivacyError.messageMalformed(what, 'generation 2^32-1 cannot be ratcheted');
  }
  return {
    epochSeconds: view.getUint32(1),
    epoch: view.getUint32(5),
    ephemeral: body.slice(9, 41),
    gens,
    tags,
    body: body.slice(),
  };
}

/** Whether candidate `index` of an OFFER verifies under `confirm`. */
export function offerTagValid(
  offer: Offer,
  index: number,
  confirm: Uint8Array,
  parties: Parties,
): boolean {
  const head = offer.body.subarray(0, OFFER_HEAD_BYTES + 4 * offer.gens.length);
  const expected = offerTag(confirm, head, index, offer.tags.slice(index + 1), parties);
  return equalBytes(expected, offer.tags[index]!);
}

function offerTag(
  confirm: Uint8Array,
  head: Uint8Array,
  index: number,
  later: Uint8Array[],
  p: Parties,
): Uint8Array {
  const data = concatBytes(bindingField(p.binding), head, Uint8Array.of(index), ...later);
  return tag(confirm, RATCHET_OFFER_KIND, p, data);
}

// ---- REPLY ----------------------------------------------------------------

export function encodeReply(
  fields: { epoch: number; baseGen: number; newGen: number; ephemeral: Uint8Array },
  confirmNew: Uint8Array,
  offerBody: Uint8Array,
  parties: Parties,
): Uint8Array {
  const head = replyHead(fields);
  return concatBytes(head, replyTag(confirmNew, offerBody, head, parties));
}

/** The first 45 bytes of a REPLY (everything but the tag): part of the transcript. */
export function replyHead(fields: {
  epoch: number;
  baseGen: number;
  newGen: number;
  ephemeral: Uint8Array;
}): Uint8Array {
  const head = new Uint8Array(REPLY_BYTES - TAG_BYTES);
  const view = new DataView(head.buffer);
  head[0] = RATCHET_VERSION;
  view.setUint32(1, fields.epoch);
  view.setUint32(5, fields.baseGen);
  view.setUint32(9, fields.newGen);
  head.set(fields.ephemeral, 13);
  return head;
}

export function decodeReply(body: Uint8Array): Reply {
  const what = 'ratchet REPLY';
  checkBody(body, what);
  if (body.length !== REPLY_BYTES) {
    throw PrivacyError.messageMalformed(what, `expected ${REPLY_BYTES} bytes`);
  }
  checkVersion(body, what);
  const view = viewOf(body);
  const baseGen = view.getUint32(5);
  const newGen = view.getUint32(9);
  if (baseGen === 0xffff_ffff || newGen !== baseGen + 1) {
    throw PrivacyError.messageMalformed(what, 'new generation is not base + 1');
  }
  return {
    epoch: view.getUint32(1),
    baseGen,
    newGen,
    ephemeral: body.slice(13, 45),
    tag: body.slice(45),
    body: body.slice(),
  };
}

export function replyTagValid(
  reply: Reply,
  confirmNew: Uint8Array,
  offerBody: Uint8Array,
  parties: Parties,
): boolean {
  const expected = replyTag(confirmNew, offerBody, reply.body.subarray(0, 45), parties);
  return equalBytes(expected, reply.tag);
}

function replyTag(confirm: Uint8Array, offerBody: Uint8Array, head: Uint8Array, p: Parties) {
  return tag(confirm, RATCHET_REPLY_KIND, p, transcript(p.binding, offerBody, head));
}

/** What the new chain is bound to: u8(|b|) ‖ b ‖ OFFER body ‖ REPLY body[0..45). */
export function transcript(
  binding: Uint8Array,
  offerBody: Uint8Array,
  replyHeadBytes: Uint8Array,
): Uint8Array {
  return concatBytes(bindingField(binding), offerBody, replyHeadBytes);
}

// ---- CONFIRM --------------------------------------------------------------

export function encodeConfirm(gen: number, confirm: Uint8Array, parties: Parties): Uint8Array {
  const head = concatBytes(Uint8Array.of(RATCHET_VERSION), u32be(gen));
  return concatBytes(head, tag(confirm, RATCHET_CONFIRM_KIND, parties, head));
}

export function decodeConfirm(body: Uint8Array): Confirm {
  const what = 'ratchet CONFIRM';
  checkBody(body, what);
  if (body.length !== CONFIRM_BYTES) {
    throw PrivacyError.messageMalformed(what, `expected ${CONFIRM_BYTES} bytes`);
  }
  checkVersion(body, what);
  return { gen: viewOf(body).getUint32(1), tag: body.slice(5), body: body.slice() };
}

export function confirmTagValid(msg: Confirm, confirm: Uint8Array, parties: Parties): boolean {
  const expected = tag(confirm, RATCHET_CONFIRM_KIND, parties, msg.body.subarray(0, 5));
  return equalBytes(expected, msg.tag);
}

// ---- shared ---------------------------------------------------------------

function tag(confirm: Uint8Array, kind: number, p: Parties, data: Uint8Array): Uint8Array {
  const context = concatBytes(Uint8Array.of(kind), p.sender, p.receiver, data);
  return deriveKey(NS.ratchetTag, confirm, { context, length: TAG_BYTES });
}

function bindingField(binding: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(binding.length), binding);
}

function checkBody(body: unknown, what: string): asserts body is Uint8Array {
  if (!(body instanceof Uint8Array)) throw PrivacyError.messageMalformed(what, 'not bytes');
}

function checkVersion(body: Uint8Array, what: string): void {
  if (body[0] !== RATCHET_VERSION) {
    throw PrivacyError.messageMalformed(what, `unknown version ${body[0]}`);
  }
}

function viewOf(body: Uint8Array): DataView {
  return new DataView(body.buffer, body.byteOffset, body.byteLength);
}

/** Throws PRIVACY_BAD_ARGUMENT unless `binding` is 0..255 bytes. */
export function checkBinding(binding: unknown): asserts binding is Uint8Array {
  if (!(binding instanceof Uint8Array) || binding.length > MAX_BINDING_BYTES) {
    throw PrivacyError.badArgument('channel binding', `0..${MAX_BINDING_BYTES} bytes`);
  }
}
